import { SCAN_SLOTS, scanChainLink } from './chain-scan';
import { BODY_HEAD_BYTES, FRAME_HEADER_BYTES, checkFrame, framePosition } from './frame';

/*
 * The part of the one-pass verify (verify-pass.ts) that needs no order: each record's checksum and framing,
 * and its chain link's byte scan with the SHA-256 of its canonical text. It runs over one chunk of a segment
 * at a time, in a worker thread (verify-worker.ts) or inline, and leaves what it found in `results`, which
 * the calling thread reads in order to follow the chains.
 */

/** Int32 slots of `results` per record: the frame's offset in the chunk, its status, the scan's offsets. */
export const RESULT_SLOTS = 2 + SCAN_SLOTS;
export const RESULT_FRAME = 0;
export const RESULT_STATUS = 1;
export const RESULT_SCAN = 2;

/** The record's bytes do not check out (checksum, or stream and id overrunning the record). */
export const DAMAGED = 0;
/** The frame checks out; its link was not scanned (its position is past the last one verified). */
export const FRAME_OK = 1;
/** The frame checks out, and so does its link (the scan's offsets follow). */
export const LINK_OK = 2;
/** The frame checks out, but its record is not exactly in the store's layout, or its hash does not match. */
export const LINK_REFUSED = 3;

/** The smallest frame: its header and the body's binary head. */
export const MIN_FRAME_BYTES = FRAME_HEADER_BYTES + BODY_HEAD_BYTES;

/**
 * Checks the `count` whole frames that fill bytes 0..length of `chunk` (the caller cut them by their
 * lengths); the link of a frame whose head states a position after `last` is not scanned.
 */
export const checkChunk = (
  chunk: Buffer,
  length: number,
  count: number,
  last: number,
  results: Int32Array,
): void => {
  let at = 0;
  for (let r = 0; r < count; r++) {
    const base = r * RESULT_SLOTS;
    results[base + RESULT_FRAME] = at;
    const check = checkFrame(chunk, at, length);
    if (check.kind !== 'ok') {
      results[base + RESULT_STATUS] = DAMAGED;
      return; // the caller gives way at the first damaged record: nothing after it is read
    }
    if (framePosition(chunk, at) > last) {
      results[base + RESULT_STATUS] = FRAME_OK;
    } else {
      const body = at + FRAME_HEADER_BYTES;
      const jsonStart =
        body + BODY_HEAD_BYTES + chunk.readUInt16LE(body + 12) + chunk.readUInt16LE(body + 14);
      results[base + RESULT_STATUS] = scanChainLink(chunk, jsonStart, check.end, results, base + RESULT_SCAN)
        ? LINK_OK
        : LINK_REFUSED;
    }
    at = check.end;
  }
};
