import { closeSync, fstatSync, openSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createChainVerifier } from '@partner-ledger/store';
import type { ChainVerifierOptions, VerifyReport } from '@partner-ledger/store';
import { linkFromScan } from './chain-link';
import { BODY_HEAD_BYTES, FRAME_HEADER_BYTES, MAX_BODY_BYTES, frameEndsAppend, framePosition } from './frame';
import {
  INDEX_ENTRY_BYTES,
  SEGMENTS_DIR,
  SEGMENT_HEADER_BYTES,
  decodeSegmentHeader,
  parseSegmentName,
  positionsIndexFile,
} from './layout';
import { DAMAGED, LINK_OK, RESULT_FRAME, RESULT_SCAN, RESULT_SLOTS, RESULT_STATUS } from './verify-chunk';
import { createChunkCheckers, createSlot } from './verify-threads';
import type { ChunkCheckers, Slot } from './verify-threads';

/** What the one-pass verify reads and reports (verifyStore's options, but the page size: it reads chunks). */
export type OnePassVerifyOptions = ChainVerifierOptions & {
  /** Verify the history up to this position (inclusive). Default: all of it. */
  readonly upToPosition?: number;
  /** Bytes per read. Default 1 MiB. */
  readonly chunkBytes?: number;
  /**
   * Worker threads that check the records' bytes (checksums, the links' byte scan, the SHA-256 of each
   * record) while this thread follows the chains and folds the digest. Default 0: everything on this
   * thread. Threads spend more CPU in all (10% to 25% more, measured) to finish sooner only when cores are
   * idle; on a machine whose cores are busy they finished no sooner (docs/benchmarks.md, issue #17).
   */
  readonly threads?: number;
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
 *
 * With worker threads (`threads`), the checks that need no order (checkChunk: checksums, the links' byte
 * scan, the SHA-256 of each record) run on them, a chunk at a time in shared memory, while this thread reads
 * the next chunks, then takes each chunk's results in order: positions, the index, segments and appends, and
 * the chain checks and the digest. The checks and their order of effect are the same with or without threads.
 */
export const verifyInOnePass = async (
  directory: string,
  options: OnePassVerifyOptions = {},
): Promise<VerifyReport | undefined> => {
  const { upToPosition, chunkBytes = MIB } = options;
  if (
    (upToPosition !== undefined && !(Number.isSafeInteger(upToPosition) && upToPosition >= -1)) ||
    !(Number.isSafeInteger(chunkBytes) && chunkBytes >= 4096) ||
    (options.threads !== undefined && !(Number.isSafeInteger(options.threads) && options.threads >= 0))
  )
    return undefined; // the two-pass path refuses the option with its own message
  const last = upToPosition ?? Number.MAX_SAFE_INTEGER;
  const verifier = createChainVerifier(options);
  const segmentsDir = join(directory, SEGMENTS_DIR);
  let index: ReturnType<typeof createIndexCursor> | undefined;
  let checkers: ChunkCheckers | undefined;
  let fd: number | undefined;
  try {
    const numbers = readdirSync(segmentsDir)
      .map(parseSegmentName)
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
    if (numbers.length === 0 || numbers.some((n, i) => n !== i)) return undefined;
    const fileOf = (number: number) => join(segmentsDir, `segment-${String(number).padStart(8, '0')}.log`);
    const threads = options.threads ?? 0;
    index = createIndexCursor(positionsIndexFile(directory));
    checkers = createChunkCheckers(threads);
    // Two chunks per thread in flight: one being checked, one read and waiting.
    const free = Array.from({ length: Math.max(1, 2 * threads) }, () => createSlot(chunkBytes));
    const inFlight: Slot[] = [];

    // The reader: the next chunk of whole frames into a slot; false at the end, undefined to give way.
    let segmentAt = 0;
    let size = 0;
    let offset = 0;
    let framed = 0;
    let readingSegment = -1;
    const readChunk = (slot: Slot): boolean | undefined => {
      for (;;) {
        if (fd === undefined) {
          if (segmentAt === numbers.length) return false;
          readingSegment = numbers[segmentAt++]!;
          fd = openSync(fileOf(readingSegment), 'r');
          size = fstatSync(fd).size;
          const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
          const headerBytes = readSync(fd, header, 0, SEGMENT_HEADER_BYTES, 0);
          const decoded = decodeSegmentHeader(header.subarray(0, headerBytes), readingSegment);
          if (!decoded.ok || decoded.firstPosition !== framed) return undefined;
          offset = SEGMENT_HEADER_BYTES;
        }
        if (offset >= size) {
          closeSync(fd);
          fd = undefined;
          continue;
        }
        const wanted = Math.min(size - offset, slot.chunk.length);
        let read = 0;
        while (read < wanted) {
          const got = readSync(fd, slot.chunk, read, wanted - read, offset + read);
          if (got === 0) break;
          read += got;
        }
        // Whole frames, cut by their lengths (checkChunk checks what they hold).
        let at = 0;
        let count = 0;
        let needed = FRAME_HEADER_BYTES;
        while (read - at >= FRAME_HEADER_BYTES) {
          const bodyLength = slot.chunk.readUInt32LE(at + 4);
          if (bodyLength < BODY_HEAD_BYTES || bodyLength > MAX_BODY_BYTES) return undefined;
          needed = FRAME_HEADER_BYTES + bodyLength;
          if (at + needed > read) break;
          at += needed;
          count++;
        }
        if (count === 0) {
          // A frame larger than the slot, or a torn one at the segment's end.
          if (read < wanted || offset + needed > size) return undefined;
          // New memory, shared with no worker yet: each is sent it with its next chunk from this slot.
          Object.assign(slot, createSlot(needed));
          continue;
        }
        slot.length = at;
        slot.count = count;
        slot.segment = readingSegment;
        slot.fileOffset = offset;
        offset += at;
        framed += count;
        return true;
      }
    };

    let next = 0;
    let appendOpen = false;
    let segment = numbers[0]!;
    let ended = false;
    let sinceYield = 0;
    for (;;) {
      while (!ended && free.length > 0) {
        const slot = free[free.length - 1]!;
        const got = readChunk(slot);
        if (got === undefined) return undefined;
        if (!got) {
          ended = true;
          break;
        }
        free.pop();
        checkers.check(slot, last);
        inFlight.push(slot);
      }
      const slot = inFlight.shift();
      if (slot === undefined) break;
      await slot.done;
      if (slot.segment !== segment) {
        // A segment never ends inside an append: if it does, it is torn or damaged (the open says which).
        if (appendOpen) return undefined;
        appendOpen = false;
        segment = slot.segment;
      }
      const { chunk, results } = slot;
      for (let r = 0; r < slot.count; r++) {
        const base = r * RESULT_SLOTS;
        const at = results[base + RESULT_FRAME]!;
        if (results[base + RESULT_STATUS] === DAMAGED || framePosition(chunk, at) !== next) return undefined;
        if (!index.agrees(next, slot.segment, slot.fileOffset + at)) return undefined;
        if (next <= last) {
          // No id: a link that does not check out is never reported from here (the two-pass path names it).
          if (results[base + RESULT_STATUS] !== LINK_OK) return undefined;
          if (!verifier.visit(linkFromScan(chunk, results, base + RESULT_SCAN, false))) return undefined;
        }
        appendOpen = !frameEndsAppend(chunk, at);
        next++;
      }
      free.push(slot);
      sinceYield += slot.length;
      if (threads === 0 && sinceYield >= YIELD_EVERY_BYTES) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (appendOpen) return undefined;
    // An index entry past the last record: a segment or its end is missing.
    if (index.claims(next)) return undefined;
    return verifier.finish();
  } catch {
    // A file that cannot be read, or vanished, or a worker that failed: the two-pass path names it as it
    // always did.
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
    index?.close();
    await checkers?.close();
  }
};
