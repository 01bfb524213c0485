import { parentPort } from 'node:worker_threads';
import { checkChunk } from './verify-chunk';

/**
 * A worker thread of the one-pass verify (verify-threads.ts): checks the chunks it is given (checkChunk)
 * in shared memory, in the order given, and answers each with its number once its results are written.
 */
export interface ChunkRequest {
  /** The slot: its memory comes with the first request for it (and again when it grew). */
  readonly slot: number;
  readonly chunk?: SharedArrayBuffer;
  readonly results?: SharedArrayBuffer;
  readonly length: number;
  readonly count: number;
  readonly last: number;
}

const slots = new Map<number, { chunk: Buffer; results: Int32Array }>();

parentPort?.on('message', (request: ChunkRequest) => {
  if (request.chunk !== undefined && request.results !== undefined)
    slots.set(request.slot, { chunk: Buffer.from(request.chunk), results: new Int32Array(request.results) });
  const { chunk, results } = slots.get(request.slot)!;
  checkChunk(chunk, request.length, request.count, request.last, results);
  parentPort!.postMessage(request.count);
});
