import { parentPort } from 'node:worker_threads';
import { checkChunk } from './verify-chunk';

/**
 * A worker thread of the one-pass verify (verify-threads.ts): checks the chunks it is given (checkChunk)
 * in shared memory, in the order given, and answers each with its number once its results are written.
 */
export interface ChunkRequest {
  readonly chunk: SharedArrayBuffer;
  readonly results: SharedArrayBuffer;
  readonly length: number;
  readonly count: number;
  readonly last: number;
}

parentPort?.on('message', (request: ChunkRequest) => {
  checkChunk(
    Buffer.from(request.chunk, 0, request.length),
    request.length,
    request.count,
    request.last,
    new Int32Array(request.results),
  );
  parentPort!.postMessage(request.count);
});
