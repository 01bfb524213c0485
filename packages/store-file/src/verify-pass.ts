import { closeSync, fstatSync, openSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createChainVerifier } from '@partner-ledger/store';
import type { ChainVerifierOptions, VerifyReport } from '@partner-ledger/store';
import { readChainLink } from './chain-link';
import { FRAME_HEADER_BYTES, BODY_HEAD_BYTES, checkFrame, frameEndsAppend, framePosition } from './frame';
import {
  INDEX_ENTRY_BYTES,
  SEGMENTS_DIR,
  SEGMENT_HEADER_BYTES,
  decodeSegmentHeader,
  parseSegmentName,
  positionsIndexFile,
} from './layout';

/** What the one-pass verify reads and reports (verifyStore's options, but the page size: it reads chunks). */
export type OnePassVerifyOptions = ChainVerifierOptions & {
  /** Verify the history up to this position (inclusive). Default: all of it. */
  readonly upToPosition?: number;
  /** Bytes per read. Default 1 MiB. */
  readonly chunkBytes?: number;
};

const MIB = 1024 * 1024;
/** The event loop gets a turn every this many bytes read: reads here are synchronous. */
const YIELD_EVERY_BYTES = 16 * MIB;

/** positions.idx read in order beside the segments, 64 KiB at a time (as the open's scan reads it). */
const createIndexCursor = (file: string) => {
  let fd: number | undefined;
  let entries = 0;
  try {
    fd = openSync(file, 'r');
    entries = Math.floor(fstatSync(fd).size / INDEX_ENTRY_BYTES);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let first = 0;
  let count = 0;
  /** Whether the entry of a position matches (segment, offset); true past the index's end. */
  const agrees = (position: number, segment: number, offset: number): boolean => {
    if (position >= entries) return true;
    if (position < first || position >= first + count) {
      first = position;
      const wanted = Math.min(chunk.length / INDEX_ENTRY_BYTES, entries - position) * INDEX_ENTRY_BYTES;
      count = Math.floor(readSync(fd!, chunk, 0, wanted, position * INDEX_ENTRY_BYTES) / INDEX_ENTRY_BYTES);
      if (count === 0) {
        entries = position;
        return true;
      }
    }
    const at = (position - first) * INDEX_ENTRY_BYTES;
    const entrySegment = chunk.readUInt32LE(at);
    const entryOffset = chunk.readUInt32LE(at + 4);
    // The index is written without fsync: an all-zero entry ends it there (no record sits at offset 0).
    if (entrySegment === 0 && entryOffset === 0) {
      entries = position;
      return true;
    }
    return entrySegment === segment && entryOffset === offset;
  };
  return {
    agrees,
    claims: (position: number) => !agrees(position, -1, -1),
    close: () => fd !== undefined && closeSync(fd),
  };
};

/**
 * Verifies a clean file-store ledger in one read of its bytes, without opening the store: each record's
 * checksum, its position, its entry in positions.idx, then its chain link taken from its bytes (chain-link.ts)
 * into the checks of verifyStore (createChainVerifier), with the digest. The open's scan and verifyStore's
 * readAll each read every record; this reads it once.
 *
 * It gives the report only when there is nothing to tell but the chains' verdict on a clean history: every
 * segment in sequence with a good header, every record checking out and in its append, the index agreeing,
 * every record in the canonical layout the store writes, and every link checking out. Anything else (damage,
 * a torn tail, a writer in the middle of an append, a record of another layout, a broken link) gives
 * undefined, and the caller takes the two-pass path (open tolerating damage, then verifyStore), whose
 * reports name the damage and the problem exactly as before. On a clean ledger both paths give the same
 * report: the same links are visited in the same order by the same checks.
 */
export const verifyInOnePass = async (
  directory: string,
  options: OnePassVerifyOptions = {},
): Promise<VerifyReport | undefined> => {
  const { upToPosition, chunkBytes = MIB } = options;
  if (
    (upToPosition !== undefined && !(Number.isSafeInteger(upToPosition) && upToPosition >= -1)) ||
    !(Number.isSafeInteger(chunkBytes) && chunkBytes >= 4096)
  )
    return undefined; // the two-pass path refuses the option with its own message
  const last = upToPosition ?? Number.MAX_SAFE_INTEGER;
  const verifier = createChainVerifier(options);
  const segmentsDir = join(directory, SEGMENTS_DIR);
  let index: ReturnType<typeof createIndexCursor> | undefined;
  let fd: number | undefined;
  try {
    const numbers = readdirSync(segmentsDir)
      .map(parseSegmentName)
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
    if (numbers.length === 0 || numbers.some((n, i) => n !== i)) return undefined;
    index = createIndexCursor(positionsIndexFile(directory));
    let buffer = Buffer.allocUnsafe(chunkBytes);
    let next = 0;
    let sinceYield = 0;
    for (const number of numbers) {
      fd = openSync(join(segmentsDir, `segment-${String(number).padStart(8, '0')}.log`), 'r');
      const size = fstatSync(fd).size;
      const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
      const headerBytes = readSync(fd, header, 0, SEGMENT_HEADER_BYTES, 0);
      const decoded = decodeSegmentHeader(header.subarray(0, headerBytes), number);
      if (!decoded.ok || decoded.firstPosition !== next) return undefined;
      let appendOpen = false;
      let offset = SEGMENT_HEADER_BYTES;
      let windowStart = offset;
      let windowEnd = offset; // buffer holds the segment's bytes [windowStart, windowEnd)
      while (offset < size) {
        let at = offset - windowStart;
        let check = checkFrame(buffer, at, windowEnd - windowStart);
        if (check.kind === 'incomplete') {
          const length = Math.min(size - offset, Math.max(chunkBytes, check.needed));
          if (length > buffer.length) buffer = Buffer.allocUnsafe(length);
          let read = 0;
          while (read < length) {
            const got = readSync(fd, buffer, read, length - read, offset + read);
            if (got === 0) break;
            read += got;
          }
          windowStart = offset;
          windowEnd = offset + read;
          at = 0;
          check = checkFrame(buffer, 0, read);
          sinceYield += read;
          if (sinceYield >= YIELD_EVERY_BYTES) {
            sinceYield = 0;
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
        if (check.kind !== 'ok' || framePosition(buffer, at) !== next) return undefined;
        if (!index.agrees(next, number, offset)) return undefined;
        if (next <= last) {
          const body = at + FRAME_HEADER_BYTES;
          const jsonStart =
            body + BODY_HEAD_BYTES + buffer.readUInt16LE(body + 12) + buffer.readUInt16LE(body + 14);
          // No id: a link that does not check out is never reported from here (the two-pass path names it).
          const link = readChainLink(buffer, jsonStart, check.end, false);
          if (link === undefined || !verifier.visit(link)) return undefined;
        }
        appendOpen = !frameEndsAppend(buffer, at);
        next++;
        offset = windowStart + check.end;
      }
      // A segment never ends inside an append: if it does, it is torn or damaged (the open says which).
      if (appendOpen) return undefined;
      closeSync(fd);
      fd = undefined;
    }
    // An index entry past the last record: a segment or its end is missing.
    if (index.claims(next)) return undefined;
    return verifier.finish();
  } catch {
    // A file that cannot be read, or vanished: the two-pass path names it as it always did.
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
    index?.close();
  }
};
