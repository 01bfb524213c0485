import type { RecordedEvent } from '@partner-ledger/events';

/**
 * The records a store wrote last, as their JSON bytes in one ring buffer allocated outside the JavaScript
 * heap, by position. Catch-ups and stream reads of what was just appended (the usual reads of a ledger
 * deciding commands) parse them from memory instead of reading them back from the disk.
 *
 * Bytes rather than strings: thousands of record strings kept alive for a while are promoted and later
 * collected by the garbage collector, which copied and then marked them again and again; a buffer costs it
 * nothing. A record is served only while its bytes are intact: `written` counts every byte ever put in the
 * ring (and the bytes skipped at its end), so a record that started more than `bytes` ago has been written
 * over, whatever its slot says.
 */
export interface RecentRecords {
  /** Keeps the record of `position`: the JSON in `source` from `start` to `end`. */
  readonly remember: (position: number, source: Uint8Array, start: number, end: number) => void;
  /** Whether the record of `position` is kept (and intact). */
  readonly has: (position: number) => boolean;
  /** The record of `position` parsed, if it is kept. */
  readonly get: (position: number) => RecordedEvent | undefined;
}

/** `count` records (a power of two) in at most `bytes` bytes; a record larger than a quarter of it is not kept. */
export const createRecentRecords = (count: number, bytes: number): RecentRecords => {
  if (!Number.isInteger(Math.log2(count))) throw new RangeError(`count must be a power of two, got ${count}`);
  const ring = Buffer.allocUnsafeSlow(bytes);
  const positions = new Float64Array(count).fill(-1);
  // Where each slot's record starts, counted in bytes ever written (not wrapped), and its length.
  const starts = new Float64Array(count);
  const lengths = new Uint32Array(count);
  let written = 0;
  const mask = count - 1;

  const has = (position: number): boolean => {
    const slot = position & mask;
    return positions[slot] === position && written - starts[slot]! <= bytes;
  };

  return {
    remember: (position, source, start, end) => {
      const slot = position & mask;
      const length = end - start;
      if (length > bytes / 4) {
        positions[slot] = -1;
        return;
      }
      let at = written % bytes;
      // A record is never split across the ring's end: the rest of the ring is skipped (and counted).
      if (at + length > bytes) {
        written += bytes - at;
        at = 0;
      }
      ring.set(source.subarray(start, end), at);
      positions[slot] = position;
      starts[slot] = written;
      lengths[slot] = length;
      written += length;
    },
    has,
    get: (position) => {
      if (!has(position)) return undefined;
      const slot = position & mask;
      const at = starts[slot]! % bytes;
      return JSON.parse(ring.toString('utf8', at, at + lengths[slot]!)) as RecordedEvent;
    },
  };
};
