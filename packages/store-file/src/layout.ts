import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from './crc';

/**
 * The files of a ledger directory:
 *
 *   LOCK                          the writer lock (pid, host, since)
 *   segments/segment-00000000.log  append-only segments: a 32-byte header, then framed records
 *   index/positions.idx           8 bytes per global position: u32 segment number, u32 offset in it
 *
 * The segments are the only copy of the events. positions.idx is derived: it is written only for commits
 * that are durable (so an entry means "this record was durable"), in runs and at close; it is checked
 * against the segments on every open, and rebuilt from them where it is missing or when asked to.
 */
export const SEGMENTS_DIR = 'segments';
export const INDEX_DIR = 'index';
export const POSITIONS_INDEX = 'positions.idx';
export const INDEX_ENTRY_BYTES = 8;

export const SEGMENT_HEADER_BYTES = 32;
const SEGMENT_MAGIC = 'PLEDGSEG';
const SEGMENT_FORMAT = 1;

export const segmentName = (segmentNumber: number): string =>
  `segment-${String(segmentNumber).padStart(8, '0')}.log`;

export const parseSegmentName = (name: string): number | undefined => {
  const match = /^segment-(\d{8})\.log$/.exec(name);
  return match === null ? undefined : Number(match[1]);
};

export const positionsIndexFile = (directory: string): string => join(directory, INDEX_DIR, POSITIONS_INDEX);

export const encodeSegmentHeader = (segmentNumber: number, firstPosition: number): Buffer => {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.write(SEGMENT_MAGIC, 0, 'latin1');
  header.writeUInt32LE(SEGMENT_FORMAT, 8);
  header.writeUInt32LE(segmentNumber, 12);
  header.writeDoubleLE(firstPosition, 16);
  header.writeUInt32LE(crc32(header.subarray(0, 24)), 24);
  return header;
};

/** The first position a segment header declares, or a reason why the header does not check out. */
export const decodeSegmentHeader = (
  header: Buffer,
  segmentNumber: number,
): { ok: true; firstPosition: number } | { ok: false; reason: string } => {
  if (header.length < SEGMENT_HEADER_BYTES) return { ok: false, reason: 'the segment header is cut short' };
  if (header.toString('latin1', 0, 8) !== SEGMENT_MAGIC)
    return { ok: false, reason: 'not a partner-ledger segment (bad magic)' };
  if (header.readUInt32LE(24) !== crc32(header.subarray(0, 24)))
    return { ok: false, reason: 'segment header checksum mismatch' };
  if (header.readUInt32LE(8) !== SEGMENT_FORMAT)
    return { ok: false, reason: `unsupported segment format ${header.readUInt32LE(8)}` };
  if (header.readUInt32LE(12) !== segmentNumber)
    return { ok: false, reason: `the header says segment ${header.readUInt32LE(12)}` };
  return { ok: true, firstPosition: header.readDoubleLE(16) };
};

export interface Segment {
  readonly number: number;
  readonly file: string;
  readonly firstPosition: number;
  /** Bytes that are committed (durable and indexed); readers never look past them. */
  size: number;
  /** Opened on first read; closed with the store. */
  handle: FileHandle | undefined;
}
