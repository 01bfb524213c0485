import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { MIN_FRAME_BYTES, RESULT_SLOTS, checkChunk } from './verify-chunk';
import type { ChunkRequest } from './verify-worker';

/** A chunk of a segment in shared memory, with the results of checking it. */
export interface Slot {
  /** Which workers hold this slot's current memory (sent once, not with every chunk: that costs). */
  readonly sharedWith: Set<number>;
  chunk: Buffer;
  results: Int32Array;
  /** Bytes of whole frames in `chunk`, and how many frames. */
  length: number;
  count: number;
  /** The segment the chunk is from, and the chunk's offset in it. */
  segment: number;
  fileOffset: number;
  /** Settles once `results` holds what checkChunk found. */
  done: Promise<unknown>;
}

/** A slot of `bytes` (at least a frame), in memory a worker can share. */
export const createSlot = (bytes: number): Slot => {
  const capacity = Math.max(bytes, MIN_FRAME_BYTES);
  const results = new SharedArrayBuffer(Math.floor(capacity / MIN_FRAME_BYTES) * RESULT_SLOTS * 4);
  return {
    sharedWith: new Set(),
    chunk: Buffer.from(new SharedArrayBuffer(capacity)),
    results: new Int32Array(results),
    length: 0,
    count: 0,
    segment: -1,
    fileOffset: 0,
    done: Promise.resolve(),
  };
};

/** Checks chunks (checkChunk) on worker threads, or inline with none. */
export interface ChunkCheckers {
  /** Starts checking the slot's chunk; slot.done settles when its results are written. */
  readonly check: (slot: Slot, last: number) => void;
  readonly close: () => Promise<void>;
}

/**
 * The worker's script: the compiled one beside this file, or, running from the TypeScript sources (the
 * tests, under ts-jest), the source itself through ts-node, so that the tests check the code they read.
 */
const workerScript = (): { file: string; execArgv: string[]; env: NodeJS.ProcessEnv } =>
  __filename.endsWith('.ts')
    ? {
        file: join(__dirname, 'verify-worker.ts'),
        execArgv: ['--require', 'ts-node/register/transpile-only'],
        env: { ...process.env, TS_NODE_PROJECT: join(__dirname, '..', 'tsconfig.json') },
      }
    : { file: join(__dirname, 'verify-worker.js'), execArgv: [], env: process.env };

export const createChunkCheckers = (threads: number): ChunkCheckers => {
  if (threads === 0)
    return {
      check: (slot, last) => {
        checkChunk(slot.chunk, slot.length, slot.count, last, slot.results);
        slot.done = Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
  const script = workerScript();
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(script.file, { execArgv: script.execArgv, env: script.env });
    // Each worker answers in the order it was asked: the oldest waiting chunk is the one answered.
    const waiting: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
    worker.on('message', () => waiting.shift()?.resolve());
    const fail = (error: unknown): void => {
      for (const w of waiting.splice(0)) w.reject(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`a verify worker stopped (exit code ${code})`)));
    return { worker, waiting };
  });
  let next = 0;
  let slots = 0;
  const slotIds = new WeakMap<Slot, number>();
  return {
    check: (slot, last) => {
      const which = next;
      const { worker, waiting } = workers[which]!;
      next = (next + 1) % workers.length;
      const done = new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
      // A chunk nobody waits for any more (the verify gave way, the workers were stopped) fails quietly.
      done.catch(() => undefined);
      slot.done = done;
      let id = slotIds.get(slot);
      if (id === undefined) slotIds.set(slot, (id = slots++));
      const request: ChunkRequest = {
        slot: id,
        ...(slot.sharedWith.has(which)
          ? {}
          : {
              chunk: slot.chunk.buffer as SharedArrayBuffer,
              results: slot.results.buffer as SharedArrayBuffer,
            }),
        length: slot.length,
        count: slot.count,
        last,
      };
      slot.sharedWith.add(which);
      worker.postMessage(request);
    },
    close: async () => {
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
    },
  };
};
