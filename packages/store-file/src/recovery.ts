import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreCorruptionError } from '@partner-ledger/store';
import {
  BODY_HEAD_BYTES,
  FRAME_HEADER_BYTES,
  checkFrame,
  frameEndsAppend,
  frameBodyLength,
  frameHead,
  frameIdBytes,
  framePosition,
  frameStream,
  idFingerprint,
} from './frame';
import {
  INDEX_ENTRY_BYTES,
  SEGMENTS_DIR,
  SEGMENT_HEADER_BYTES,
  decodeSegmentHeader,
  parseSegmentName,
  positionsIndexFile,
  segmentName,
} from './layout';
import type { Segment } from './layout';
import { createIdTable, createUint32List } from './memory-index';
import type { IdTable, Uint32List } from './memory-index';

/** Offset recorded for a position whose record was lost to damage (tolerateDamage opens only). */
export const LOST = 0xffffffff;

/**
 * A stream's global positions, in order (by revision, in a ledger nobody tampered with): the position
 * itself for a stream of one event (most of them: a visitor, a conversion), so that millions of streams
 * cost a map entry each rather than an object and an array; a list from the second event on.
 */
export type StreamPositions = number | number[];

/** The positions of a stream as a list (a fresh one-element list for a stream of one event). */
export const positionList = (positions: StreamPositions | undefined): readonly number[] =>
  positions === undefined ? [] : typeof positions === 'number' ? [positions] : positions;

/** The position of a stream's last event; undefined for a stream with none. */
export const lastPosition = (positions: StreamPositions | undefined): number | undefined =>
  positions === undefined || typeof positions === 'number' ? positions : positions[positions.length - 1];

/** Adds the position of a stream's next event to the index. */
export const addStreamPosition = (
  streams: Map<string, StreamPositions>,
  stream: string,
  position: number,
): void => {
  const positions = streams.get(stream);
  if (positions === undefined) streams.set(stream, position);
  else if (typeof positions === 'number') streams.set(stream, [positions, position]);
  else positions.push(position);
};

export interface LedgerIndex {
  readonly segments: Segment[];
  /** Offset of each position's record within its segment (LOST when damage destroyed it). */
  readonly offsets: Uint32List;
  readonly streams: Map<string, StreamPositions>;
  readonly ids: IdTable;
  /** The last committed position; -1 when empty. */
  head: number;
}

/** The end of a segment that a crash left half-written: where, and how many bytes were dropped. */
export interface TornTail {
  /** The segment whose end was cut off (or, read-only, ignored). */
  readonly file: string;
  /** Where the bytes dropped start: the first record of the unfinished append, or the bytes that are no record. */
  readonly offset: number;
  readonly bytesDropped: number;
  /** What the bytes were: the record that does not check out there, and why. */
  readonly reason: string;
  /** False on a read-only open: the bytes were ignored, not removed (a writer may still be writing them). */
  readonly truncated: boolean;
}

/** Damage found by an open with `tolerateDamage` (read-only, for verify and forensics). */
export interface DamageReport {
  readonly file: string;
  readonly offset: number;
  /** The position the damaged record should hold, when it can be told. */
  readonly position: number | null;
  /** Best-effort guesses from the damaged record itself (they may be damaged too). */
  readonly eventId: string | null;
  readonly stream: string | null;
  readonly reason: string;
}

export interface RecoveryOptions {
  readonly directory: string;
  readonly writable: boolean;
  readonly tolerateDamage: boolean;
  readonly rebuildIndex: boolean;
  readonly chunkBytes: number;
}

export interface Recovered {
  readonly index: LedgerIndex;
  readonly tornTail: TornTail | null;
  readonly damage: DamageReport[];
  /** How many entries of positions.idx are right (a writable open then writes the rest). */
  readonly validIndexEntries: number;
}

const corruption = (message: string, file: string, offset: number): StoreCorruptionError =>
  new StoreCorruptionError(`${message} (${file} at offset ${offset})`, file, offset);

/** Reads positions.idx sequentially, in chunks, while the segments are scanned. */
const createIndexReader = async (file: string, ignore: boolean) => {
  let handle: FileHandle | undefined;
  let entries = 0;
  if (!ignore) {
    try {
      handle = await fs.open(file, 'r');
      entries = Math.floor((await handle.stat()).size / INDEX_ENTRY_BYTES);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let chunkFirst = 0;
  let chunkCount = 0;
  /** Whether the entry of a position is in the chunk read last (then segmentAt and offsetAt answer at once). */
  const holds = (position: number): boolean => position >= chunkFirst && position < chunkFirst + chunkCount;
  const load = async (position: number): Promise<void> => {
    chunkFirst = position;
    const wanted = Math.min(chunk.length / INDEX_ENTRY_BYTES, entries - position);
    const { bytesRead } = await handle!.read(
      chunk,
      0,
      wanted * INDEX_ENTRY_BYTES,
      position * INDEX_ENTRY_BYTES,
    );
    chunkCount = Math.floor(bytesRead / INDEX_ENTRY_BYTES);
  };
  return {
    entries,
    holds,
    load,
    /** The entry of a position the chunk holds (see holds). */
    segmentAt: (position: number): number => chunk.readUInt32LE((position - chunkFirst) * INDEX_ENTRY_BYTES),
    offsetAt: (position: number): number =>
      chunk.readUInt32LE((position - chunkFirst) * INDEX_ENTRY_BYTES + 4),
    async entryAt(position: number): Promise<{ segment: number; offset: number }> {
      if (!holds(position)) await load(position);
      const at = (position - chunkFirst) * INDEX_ENTRY_BYTES;
      return { segment: chunk.readUInt32LE(at), offset: chunk.readUInt32LE(at + 4) };
    },
    close: async () => handle?.close(),
  };
};

/** Looks for the next frame that checks out after a damaged one, in the rest of the segment. */
const findNextFrame = async (
  handle: FileHandle,
  from: number,
  size: number,
): Promise<{ offset: number } | null> => {
  if (from >= size) return null;
  const rest = Buffer.allocUnsafe(size - from);
  await readFully(handle, rest, from);
  for (let at = 0; at + FRAME_HEADER_BYTES <= rest.length; at++)
    if (checkFrame(rest, at, rest.length).kind === 'ok') return { offset: from + at };
  return null;
};

const readFully = async (handle: FileHandle, target: Buffer, position: number): Promise<number> => {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
};

/** Best-effort reading of what a damaged record says it is. */
const guessHead = (buffer: Buffer, at: number, end: number) => {
  try {
    if (end - at < FRAME_HEADER_BYTES + BODY_HEAD_BYTES) return { eventId: null, stream: null };
    const head = frameHead(buffer, at);
    // A record cut short may end inside its names: bytes past `end` are not the record's, whatever they
    // spell, so a name that runs past it is not guessed at all.
    const printable = (text: string, until: number) =>
      until <= end && /^[\x20-\x7e]{1,200}$/.test(text) ? text : null;
    const idStart = head.jsonStart - buffer.readUInt16LE(at + FRAME_HEADER_BYTES + 14);
    return { eventId: printable(head.id, head.jsonStart), stream: printable(head.stream, idStart) };
  } catch {
    return { eventId: null, stream: null };
  }
};

/**
 * Opens the segments of a ledger and rebuilds the in-memory index from them, checking every record's
 * checksum, its position and its stream revision, and the persisted position index against them.
 *
 * Only one thing is repaired: a torn last record (a crash during the last write) at the end of the last
 * segment, with nothing valid after it and no index entry claiming it. Anything else stops the open with a
 * StoreCorruptionError naming the file and offset; with `tolerateDamage` (read-only) it is reported instead
 * and the scan goes on from the next record that checks out.
 */
export const recoverLedger = async (options: RecoveryOptions): Promise<Recovered> => {
  const { directory, writable, tolerateDamage } = options;
  const segmentsDir = join(directory, SEGMENTS_DIR);
  const names = await fs.readdir(segmentsDir);
  const numbers = names
    .map(parseSegmentName)
    .filter((n): n is number => n !== undefined)
    .sort((a, b) => a - b);
  const damage: DamageReport[] = [];
  const report = (error: StoreCorruptionError, extra: Partial<DamageReport> = {}): void => {
    if (!tolerateDamage) throw error;
    damage.push({
      file: error.file ?? directory,
      offset: error.offset ?? 0,
      position: null,
      eventId: null,
      stream: null,
      reason: error.message,
      ...extra,
    });
  };
  numbers.forEach((number, i) => {
    if (number !== i)
      report(
        corruption(
          `segment ${segmentName(i)} is missing (the next one is ${segmentName(number)})`,
          join(segmentsDir, segmentName(i)),
          0,
        ),
      );
  });

  const indexFile = positionsIndexFile(directory);
  const indexReader = await createIndexReader(indexFile, options.rebuildIndex);
  const index: LedgerIndex = {
    segments: [],
    offsets: createUint32List(),
    streams: new Map(),
    ids: createIdTable(),
    head: -1,
  };
  let tornTail: TornTail | null = null;
  let next = 0;
  let validIndexEntries = options.rebuildIndex ? 0 : indexReader.entries;
  /**
   * The index entry of a position, if the index has one. The index is written without fsync, so after a
   * power failure it may end in zeros: no record sits at offset 0 (the segment header does), so an all-zero
   * entry ends the index there.
   */
  const indexEntry = async (position: number) => {
    if (position >= validIndexEntries) return undefined;
    const entry = await indexReader.entryAt(position);
    if (entry.segment !== 0 || entry.offset !== 0) return entry;
    validIndexEntries = position;
    return undefined;
  };
  const indexClaims = async (position: number) => (await indexEntry(position)) !== undefined;

  /**
   * Checks the index entry of a record the scan found. Called once per record: synchronous (no promise) when
   * the entry is in the chunk of the index already read, or there is none; the caller loads the chunk first.
   */
  const checkIndexEntry = (position: number, segment: number, offset: number, file: string): void => {
    if (position >= validIndexEntries) return;
    const entrySegment = indexReader.segmentAt(position);
    const entryOffset = indexReader.offsetAt(position);
    if (entrySegment === 0 && entryOffset === 0) {
      validIndexEntries = position; // the index ends here (see indexEntry)
      return;
    }
    if (entrySegment === segment && entryOffset === offset) return;
    const entry = { segment: entrySegment, offset: entryOffset };
    validIndexEntries = position;
    report(
      corruption(
        `the position index disagrees with the segments: it puts position ${position} at ` +
          `${segmentName(entry.segment)}:${entry.offset}, the segments have it at ${segmentName(segment)}:${offset} ` +
          `(${file}); open with { rebuildIndex: true } to rebuild the index from the segments`,
        indexFile,
        position * INDEX_ENTRY_BYTES,
      ),
      { position },
    );
  };

  let buffer = Buffer.allocUnsafe(options.chunkBytes);
  try {
    for (let i = 0; i < numbers.length; i++) {
      const number = numbers[i]!;
      const file = join(segmentsDir, segmentName(number));
      const isLast = i === numbers.length - 1;
      const handle = await fs.open(file, writable ? 'r+' : 'r');
      let closeHandle = true;
      try {
        let size = (await handle.stat()).size;
        const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
        await readFully(handle, header, 0);
        const decoded = decodeSegmentHeader(header.subarray(0, Math.min(size, SEGMENT_HEADER_BYTES)), number);
        if (!decoded.ok) {
          report(corruption(decoded.reason, file, 0));
          continue;
        }
        if (decoded.firstPosition !== next) {
          const error = corruption(
            `segment ${segmentName(number)} starts at position ${decoded.firstPosition}, but the segments before it end at ${next - 1}`,
            file,
            0,
          );
          report(error, { position: Math.min(next, decoded.firstPosition) });
          // Tolerating: the positions in between are lost.
          while (next < decoded.firstPosition) {
            index.offsets.push(LOST);
            next++;
          }
        }
        const segment: Segment = {
          number,
          file,
          firstPosition: decoded.firstPosition,
          size,
          handle: undefined,
        };
        index.segments.push(segment);

        /** Records of an append whose last record has not been seen yet: indexed when it is. */
        const pending: { offset: number; position: number; stream: string; fingerprint: number }[] = [];
        const indexPending = (): void => {
          for (const record of pending) {
            addStreamPosition(index.streams, record.stream, record.position);
            index.offsets.push(record.offset);
            if (writable) index.ids.add(record.fingerprint, record.position);
          }
          pending.length = 0;
        };
        /** Cuts off a torn tail from `from` (the torn record, or the first record of its unfinished append). */
        const cutTornTail = async (from: number, reason: string): Promise<number> => {
          tornTail = { file, offset: from, bytesDropped: size - from, reason, truncated: writable };
          if (writable) {
            await handle.truncate(from);
            await handle.datasync();
          }
          next = pending[0]?.position ?? next;
          pending.length = 0;
          return from;
        };
        let offset = SEGMENT_HEADER_BYTES;
        let windowStart = offset;
        let windowEnd = offset; // buffer holds file bytes [windowStart, windowEnd)
        const fill = async (from: number, atLeast: number) => {
          const length = Math.min(size - from, Math.max(options.chunkBytes, atLeast));
          if (length > buffer.length) buffer = Buffer.allocUnsafe(length);
          const read = await readFully(handle, buffer.subarray(0, length), from);
          windowStart = from;
          windowEnd = from + read;
        };
        while (offset < size) {
          let check = checkFrame(buffer, offset - windowStart, windowEnd - windowStart);
          if (check.kind === 'incomplete' && windowEnd < size) {
            await fill(offset, check.needed);
            check = checkFrame(buffer, 0, windowEnd - windowStart);
          }
          const at = offset - windowStart;
          if (check.kind === 'ok') {
            // The head's strings are made only when needed: the stream for the index, the id for a report.
            if (framePosition(buffer, at) !== next) {
              const head = frameHead(buffer, at);
              report(
                corruption(`expected position ${next}, the record says ${head.position}`, file, offset),
                {
                  position: next,
                  eventId: head.id,
                  stream: head.stream,
                },
              );
              indexPending();
              while (next < head.position) {
                index.offsets.push(LOST);
                next++;
              }
              if (head.position < next) {
                offset = windowStart + check.end;
                continue;
              }
            }
            if (next < validIndexEntries && !indexReader.holds(next)) await indexReader.load(next);
            checkIndexEntry(next, number, offset, file);
            pending.push({
              offset,
              position: next,
              stream: frameStream(buffer, at),
              // The id index serves idempotent appends: a read-only open has none to serve.
              fingerprint: writable ? idFingerprint(frameIdBytes(buffer, at)) : 0,
            });
            next++;
            offset = windowStart + check.end;
            if (frameEndsAppend(buffer, at)) indexPending();
            continue;
          }
          // The record at `offset` does not check out: a torn tail, or damage.
          const reason = check.kind === 'damaged' ? check.reason : 'the record is cut short';
          const after = await findNextFrame(handle, offset + 1, size);
          const torn = isLast && after === null && !(await indexClaims(pending[0]?.position ?? next));
          if (torn) {
            const unfinished =
              pending.length === 0
                ? ''
                : `; the append it ends (from position ${pending[0]!.position}) was never completed`;
            size = await cutTornTail(
              pending[0]?.offset ?? offset,
              `the record at offset ${offset} (position ${next}): ${reason}${unfinished}`,
            );
            break;
          }
          indexPending(); // tolerating: keep what is left of the append
          const guess = guessHead(buffer, at, windowEnd - windowStart);
          report(
            corruption(
              `${reason} in the record of position ${next} at offset ${offset}${guess.eventId === null ? '' : ` (event ${guess.eventId}?)`}` +
                (after === null ? '' : `; the next good record is at offset ${after.offset}`) +
                (isLast && after === null ? '; the position index says this record was committed' : ''),
              file,
              offset,
            ),
            { position: next, ...guess },
          );
          if (after === null) {
            // The last record of a segment that is not the last: if its length still reaches the end of the
            // segment, keep it addressable (verify then names its event, and the next segment's first
            // position follows on); otherwise the segment ends before it.
            if (
              !isLast &&
              check.kind === 'damaged' &&
              offset + FRAME_HEADER_BYTES + frameBodyLength(buffer, at) === size
            ) {
              index.offsets.push(offset);
              next++;
            } else {
              size = offset;
            }
            break;
          }
          // Tolerating: keep the damaged record addressable if its length still leads to the next good one,
          // so that a reader can try to show it (verify then names the event).
          if (
            check.kind === 'damaged' &&
            offset + FRAME_HEADER_BYTES + frameBodyLength(buffer, at) === after.offset
          ) {
            index.offsets.push(offset);
            next++;
          }
          offset = after.offset;
          windowEnd = windowStart; // refill from the next good record
        }
        if (pending.length > 0) {
          // The segment ends inside an append: torn if this is the end of the ledger, damage otherwise.
          if (isLast && !(await indexClaims(pending[0]!.position))) {
            size = await cutTornTail(
              pending[0]!.offset,
              `the append that starts with position ${pending[0]!.position} ends before its last record`,
            );
          } else {
            report(
              corruption(
                `the append that starts with position ${pending[0]!.position} is not complete, but ${isLast ? 'the position index says it was committed' : 'later segments follow'}`,
                file,
                pending[0]!.offset,
              ),
              { position: pending[0]!.position },
            );
            indexPending();
          }
        }
        segment.size = size;
        segment.handle = handle;
        closeHandle = false;
      } finally {
        if (closeHandle) await handle.close();
      }
    }
    index.head = next - 1;
    const entry = await indexEntry(next);
    if (entry !== undefined) {
      report(
        corruption(
          `the position index lists position ${next} at ${segmentName(entry.segment)}:${entry.offset}, ` +
            `beyond the last record in the segments (position ${next - 1}): a segment or its end is missing`,
          indexFile,
          next * INDEX_ENTRY_BYTES,
        ),
        { position: next },
      );
    }
    return { index, tornTail, damage, validIndexEntries: Math.min(validIndexEntries, next) };
  } catch (error) {
    await Promise.all(index.segments.map((segment) => segment.handle?.close()));
    throw error;
  } finally {
    await indexReader.close();
  }
};
