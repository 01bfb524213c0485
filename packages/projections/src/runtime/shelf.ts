import { mkdir, open, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where `replayWithCheckpoints` keeps its checkpoints: opaque documents (a header and a body, both text)
 * filed under a set id (one per projection set, its options and its code) and the position they were taken
 * at. A shelf only stores: what a document says is checked by the replay before it is used, so a shelf may
 * lose, truncate or mix up documents without a report ever being wrong (it is then only slower).
 */
export interface CheckpointShelf {
  /** Where the checkpoints are, for notices: a directory, a table. */
  readonly where: string;
  /** The positions of the checkpoints kept under `set`, in any order. */
  positions(set: string): Promise<readonly number[]>;
  /** The header (one short line of text) of the checkpoint of `set` at `position`; undefined when it is not there. */
  header(set: string, position: number): Promise<string | undefined>;
  /** The body of the checkpoint of `set` at `position`; undefined when it is not (or no longer) there. */
  body(set: string, position: number): Promise<string | undefined>;
  /** Keeps a checkpoint, replacing any other of `set` at `position`: a reader sees the old one or the new one. */
  put(set: string, position: number, header: string, body: string): Promise<void>;
  /** Removes the checkpoint of `set` at `position`, if there is one. */
  remove(set: string, position: number): Promise<void>;
}

const SET_ID = /^[0-9a-f]{8,64}$/;
const FILE = /^([0-9]{1,20})\.checkpoint$/;
/** A header is one line, at the start of the file, well under this. */
const HEADER_BYTES_MAX = 64 * 1024;

/**
 * A shelf in a directory: `<directory>/<set>/<position>.checkpoint`, the header on the first line and the
 * body after it, written to a temporary file and renamed into place. Nothing is synced to disk: a checkpoint
 * that a crash leaves short or empty fails its checksum and is ignored, and the report replays instead.
 */
export const createDirectoryShelf = (directory: string): CheckpointShelf => {
  const folderOf = (set: string): string => {
    if (!SET_ID.test(set))
      throw new Error(`A checkpoint set id is 8 to 64 hex digits: ${JSON.stringify(set)}`);
    return join(directory, set);
  };
  const fileOf = (set: string, position: number): string => {
    if (!Number.isSafeInteger(position) || position < 0)
      throw new RangeError(`A checkpoint position is a whole number: ${position}`);
    return join(folderOf(set), `${String(position).padStart(16, '0')}.checkpoint`);
  };
  const missing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

  const headerOf = async (path: string): Promise<string | undefined> => {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
    try {
      const buffer = Buffer.allocUnsafe(HEADER_BYTES_MAX);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const end = buffer.subarray(0, bytesRead).indexOf(0x0a);
      // No line end: not a checkpoint (or a torn one); its header is what there is, and will not parse.
      return buffer.toString('utf8', 0, end < 0 ? bytesRead : end);
    } finally {
      await handle.close();
    }
  };

  return {
    where: directory,
    positions: async (set) => {
      let names: string[];
      try {
        names = await readdir(folderOf(set));
      } catch (error) {
        if (missing(error)) return [];
        throw error;
      }
      return names.flatMap((name) => {
        const match = FILE.exec(name);
        return match === null ? [] : [Number(match[1])];
      });
    },
    header: (set, position) => headerOf(fileOf(set, position)),
    body: async (set, position) => {
      let text: string;
      try {
        // Read whole, then decoded at once: faster than decoding as it reads.
        text = (await readFile(fileOf(set, position))).toString('utf8');
      } catch (error) {
        if (missing(error)) return undefined;
        throw error;
      }
      const end = text.indexOf('\n');
      return end < 0 ? '' : text.slice(end + 1);
    },
    put: async (set, position, header, body) => {
      if (header.includes('\n')) throw new Error('A checkpoint header is one line');
      const path = fileOf(set, position);
      await mkdir(folderOf(set), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, `${header}\n${body}`, 'utf8');
      await rename(temporary, path);
    },
    remove: async (set, position) => {
      try {
        await unlink(fileOf(set, position));
      } catch (error) {
        if (!missing(error)) throw error;
      }
    },
  };
};

/** A shelf in memory, for tests and for a process that reports repeatedly without a directory to write. */
export const createInMemoryShelf = (): CheckpointShelf & {
  /** The set ids holding checkpoints. */
  sets(): string[];
  /** Replaces the stored text of a checkpoint (tests: a corrupt or foreign checkpoint). */
  tamper(
    set: string,
    position: number,
    edit: (document: { header: string; body: string }) => {
      header: string;
      body: string;
    },
  ): void;
} => {
  const sets = new Map<string, Map<number, { header: string; body: string }>>();
  const setOf = (set: string) => {
    let found = sets.get(set);
    if (found === undefined) sets.set(set, (found = new Map()));
    return found;
  };
  return {
    where: 'memory',
    positions: (set) => Promise.resolve([...setOf(set).keys()]),
    header: (set, position) => Promise.resolve(setOf(set).get(position)?.header),
    body: (set, position) => Promise.resolve(setOf(set).get(position)?.body),
    put: (set, position, header, body) => {
      setOf(set).set(position, { header, body });
      return Promise.resolve();
    },
    remove: (set, position) => {
      setOf(set).delete(position);
      return Promise.resolve();
    },
    sets: () => [...sets].filter(([, kept]) => kept.size > 0).map(([set]) => set),
    tamper: (set, position, edit) => {
      const document = setOf(set).get(position);
      if (document !== undefined) setOf(set).set(position, edit(document));
    },
  };
};
