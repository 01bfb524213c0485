import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Checkpoint } from './runner';
import { parseCheckpoint, serializeCheckpoint } from './runner';

/** Where checkpoints are kept, by an id of the caller's choosing (one per projection set). */
export interface CheckpointStore {
  /** The checkpoint saved as `id`, or undefined when there is none. */
  load(id: string): Promise<Checkpoint | undefined>;
  /** Replaces the checkpoint of `id`, atomically: a reader sees the old one or the new one, whole. */
  save(id: string, checkpoint: Checkpoint): Promise<void>;
}

/** Keeps checkpoints in memory, serialised (so that what is loaded is what a file would give back). */
export const createInMemoryCheckpointStore = (): CheckpointStore => {
  const saved = new Map<string, string>();
  return {
    load: (id) => {
      const text = saved.get(id);
      return Promise.resolve(text === undefined ? undefined : parseCheckpoint(text));
    },
    save: (id, checkpoint) => {
      saved.set(id, serializeCheckpoint(checkpoint));
      return Promise.resolve();
    },
  };
};

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * One canonical JSON file per checkpoint id in `directory` (`<id>.checkpoint.json`), written to a temporary
 * file and renamed over the old one, so that a crash mid-write leaves the previous checkpoint intact.
 */
export const createJsonFileCheckpointStore = (directory: string): CheckpointStore => {
  const pathOf = (id: string): string => {
    if (!SAFE_ID.test(id))
      throw new Error(`A checkpoint id is letters, digits, ".", "_" and "-": ${JSON.stringify(id)}`);
    return join(directory, `${id}.checkpoint.json`);
  };
  return {
    load: async (id) => {
      try {
        return parseCheckpoint(await readFile(pathOf(id), 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    save: async (id, checkpoint) => {
      const path = pathOf(id);
      await mkdir(directory, { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, serializeCheckpoint(checkpoint), 'utf8');
      await rename(temporary, path);
    },
  };
};
