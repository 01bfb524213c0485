import { constants as fsConstants, promises as fs, write } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeHashedText, hashEvent, hashOfEncodedText } from '@partner-ledger/events';
import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import {
  STORED_TEXT_HASH,
  StoreClosedError,
  StoreCorruptionError,
  assertAppendable,
  assertTagsAndCondition,
  canonicalDataOf,
  checkExpectedRevision,
  classifyAppend,
  createTagPositions,
  knownAtFilter,
} from '@partner-ledger/store';
import type {
  AppendCondition,
  ChainLink,
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  PagedReads,
  StoredTextHashReads,
  SubscriptionMessage,
} from '@partner-ledger/store';
import { ReadOnlyStoreError, StoreFailedError } from './errors';
import { readChainLink } from './chain-link';
import { sha256Hex } from './chain-scan';
import { crc32 } from './crc';
import { createRecentRecords } from './recent-records';
import {
  BODY_HEAD_BYTES,
  FRAME_HEADER_BYTES,
  MAX_BODY_BYTES,
  checkFrame,
  frameBodyLength,
  frameHead,
  frameJson,
  framePosition,
  idFingerprint,
  RECORD_SUFFIX_MAX_BYTES,
  recordSuffixLength,
  sealRecordFrame,
  writeRecordNames,
} from './frame';
import {
  INDEX_DIR,
  INDEX_ENTRY_BYTES,
  SEGMENTS_DIR,
  SEGMENT_HEADER_BYTES,
  encodeSegmentHeader,
  positionsIndexFile,
  segmentName,
} from './layout';
import type { Segment } from './layout';
import { acquireWriterLock } from './lock';
import type { WriterLock } from './lock';
import { LOST, recoverLedger } from './recovery';
import { addStreamPosition, lastPosition, positionList } from './recovery';
import type { DamageReport, LedgerIndex, TornTail } from './recovery';

/** Where a ledger lives when the caller does not say. */
export const DEFAULT_DIRECTORY = './.partner-ledger';

const MIB = 1024 * 1024;
const INDEX_WRITE_EVERY = 4096;
/** Records of one stream further apart than this in a segment are read separately, not in one read. */
const GROUP_GAP_BYTES = 16 * 1024;
/** Stream heads kept in memory (see rememberHead). */
const HEADS_KEPT = 65_536;
/**
 * How many of the records it wrote last the store keeps in memory (a power of two; see ./recent-records), and
 * in how many bytes at most (a 4 MiB buffer outside the JavaScript heap).
 */
const RECENT_RECORDS = 4096;
const RECENT_BYTES = 4 * MIB;
/**
 * Events per page of readAll and readAllPages (fewer at a segment's end). Small enough that the events
 * parsed ahead of the reader die young; large enough that the promise per page is nothing beside them.
 */
const PAGE_EVENTS: number = 256;

/** The options of the file store: directory, read-only, damage tolerance and its tuning (segment size, read chunks), its clock and a commit hook. */
export interface FileStoreOptions {
  /** The ledger's directory, created if missing (unless read-only). Default `./.partner-ledger`. */
  readonly directory?: string;
  /**
   * Open for reading only: no lock is taken, so it works while another process writes; it sees what was
   * committed when it opened. A torn tail is ignored rather than cut off. Default false.
   */
  readonly readOnly?: boolean;
  /**
   * Read-only only: open a damaged ledger anyway, reporting the damage (`openReport.damage`) instead of
   * refusing, so that `verifyFileStore` can name the events concerned. Reads deliver what can still be
   * decoded of a damaged record and fail on what cannot. Default false.
   */
  readonly tolerateDamage?: boolean;
  /** Discard index/positions.idx and rebuild it from the segments. Default false. */
  readonly rebuildIndex?: boolean;
  /** A new segment is started once the current one would grow past this. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Bytes per read when scanning or replaying. Default 1 MiB. */
  readonly readChunkBytes?: number;
  /** Time source for the lock file's "since". Default: the system clock. */
  readonly clock?: () => Date;
  /** Called after each group commit is durable: for metrics and the benchmark. */
  readonly onCommit?: (commit: CommitInfo) => void;
}

/** One group commit: the appends that shared one write and one fsync. */
export interface CommitInfo {
  readonly appends: number;
  readonly events: number;
  readonly bytes: number;
}

/** What the open found and did. */
export interface OpenReport {
  readonly directory: string;
  readonly readOnly: boolean;
  readonly segments: number;
  /** Events in the ledger (head position + 1). */
  readonly events: number;
  /** The torn last record that recovery cut off (or, read-only, ignored); null when the end was clean. */
  readonly tornTail: TornTail | null;
  /** Entries of index/positions.idx that the open (re)wrote from the segments. */
  readonly indexEntriesWritten: number;
  /** Damage found and tolerated (only with `tolerateDamage`; otherwise damage stops the open). */
  readonly damage: readonly DamageReport[];
}

/**
 * The file store: the EventStore port, plus what its open reported, readAll a page at a time, and a readAll
 * for verifyStore that hashes each record's stored bytes (they are the canonical text the event's hash
 * covers) instead of serialising the event again.
 */
export interface FileEventStore extends EventStore, PagedReads, StoredTextHashReads {
  readonly directory: string;
  readonly readOnly: boolean;
  readonly openReport: OpenReport;
}

/**
 * An event as it was when `append` was called: its fields copied and its data serialised (canonical JSON)
 * at once, so that what is stored and hashed is what the caller passed, even if the caller changes its
 * objects before the batch is written. The data text is serialised once and serves the hash and the record.
 */
interface SealedInput extends NewEvent {
  readonly dataJson: string;
}

const sealInput = (stream: string, event: NewEvent, index: number): SealedInput => ({
  id: event.id,
  type: event.type,
  schemaVersion: event.schemaVersion,
  occurredAt: event.occurredAt,
  recordedAt: event.recordedAt,
  actor: event.actor,
  correlationId: event.correlationId,
  causationId: event.causationId,
  data: event.data,
  dataJson: canonicalDataOf(stream, index, event),
});

/** The input with its data as it was sealed (for the rare comparisons with a stored event). */
const asSealed = (input: SealedInput): NewEvent => ({
  ...input,
  data: JSON.parse(input.dataJson) as unknown,
});

/** Refuses an event whose frame would pass MAX_BODY_BYTES, naming it (the append is refused, nothing of it stored). */
const tooLarge = (id: string, bytes: number): never => {
  throw new RangeError(
    `event ${id} is ${bytes} bytes stored; the file store takes at most ${MAX_BODY_BYTES}`,
  );
};

interface PendingAppend {
  readonly stream: string;
  readonly events: readonly SealedInput[];
  readonly expectedRevision: ExpectedRevision;
  readonly tags: readonly string[] | undefined;
  readonly condition: AppendCondition | undefined;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

const checkInteger = (name: string, value: number | undefined, min: number): void => {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min))
    throw new RangeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
};

const fsyncDirectory = async (directory: string): Promise<void> => {
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

const writeFully = async (handle: FileHandle, buffer: Buffer, length: number, position: number) => {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await handle.write(buffer, done, length - done, position + done);
    done += bytesWritten;
  }
};

/**
 * Appends are written through a handle opened with O_DSYNC where the platform has it (Linux, macOS): each
 * write returns only once its data is on stable storage, as write + fdatasync would, in one system call and
 * one trip through libuv's thread pool instead of two. Elsewhere the write is followed by fdatasync.
 */
const O_DSYNC: number | undefined = (fsConstants as { O_DSYNC?: number }).O_DSYNC;

const openSegmentWriter = (file: string): Promise<FileHandle> =>
  O_DSYNC === undefined ? fs.open(file, 'r+') : fs.open(file, fsConstants.O_WRONLY | O_DSYNC);

const readFully = async (handle: FileHandle, target: Buffer, length: number, position: number) => {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(target, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
};

/** Creates a segment atomically: header written and fsync'ed under a draft name, then renamed into place. */
const createSegment = async (
  segmentsDir: string,
  number: number,
  firstPosition: number,
): Promise<Segment> => {
  const file = join(segmentsDir, segmentName(number));
  const draft = `${file}.tmp`;
  const writer = await fs.open(draft, 'w');
  try {
    await writeFully(writer, encodeSegmentHeader(number, firstPosition), SEGMENT_HEADER_BYTES, 0);
    await writer.datasync();
  } finally {
    await writer.close();
  }
  await fs.rename(draft, file);
  await fsyncDirectory(segmentsDir);
  return { number, file, firstPosition, size: SEGMENT_HEADER_BYTES, handle: await fs.open(file, 'r+') };
};

const exists = async (path: string): Promise<boolean> =>
  fs.stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );

/** A wrong argument as an error message shows it: a string quoted, anything else by its kind. */
const describeArgument = (value: unknown): string =>
  typeof value === 'string'
    ? `the string ${JSON.stringify(value)}`
    : value === null
      ? 'null'
      : Array.isArray(value)
        ? 'an array'
        : `${typeof value} ${String(value)}`;

/**
 * Opens (creating if needed) the ledger in a directory: takes the writer lock, recovers (cuts off a torn last
 * record, refuses anything else that does not check out), rebuilds the in-memory index, and returns the
 * store. See FileStoreOptions for read-only and damage-tolerant opens.
 */
export const openFileStore = async (options: FileStoreOptions = {}): Promise<FileEventStore> => {
  // openFileStore('my-ledger') would otherwise read `directory` off a string (undefined) and quietly open
  // the default ./.partner-ledger: a ledger in the wrong place, found only later.
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(
      `openFileStore takes an options object such as { directory: './ledger' }, got ${describeArgument(options)}`,
    );
  const directory = resolve(options.directory ?? DEFAULT_DIRECTORY);
  const readOnly = options.readOnly ?? false;
  const tolerateDamage = options.tolerateDamage ?? false;
  const segmentBytes = options.segmentBytes ?? 64 * MIB;
  const readChunkBytes = options.readChunkBytes ?? MIB;
  checkInteger('segmentBytes', segmentBytes, 4096);
  checkInteger('readChunkBytes', readChunkBytes, 4096);
  if (tolerateDamage && !readOnly)
    throw new RangeError('tolerateDamage needs readOnly: a damaged ledger is never opened for writing');
  const segmentsDir = join(directory, SEGMENTS_DIR);
  const indexFile = positionsIndexFile(directory);

  if (readOnly) {
    if (!(await exists(segmentsDir)))
      throw new Error(`There is no ledger in ${directory} (no ${SEGMENTS_DIR}/)`);
  } else {
    const fresh = !(await exists(segmentsDir));
    await fs.mkdir(segmentsDir, { recursive: true });
    await fs.mkdir(join(directory, INDEX_DIR), { recursive: true });
    if (fresh) await fsyncDirectory(directory);
  }
  const lock = readOnly ? null : await acquireWriterLock(directory, options.clock ?? (() => new Date()));
  let indexHandle: FileHandle | undefined;
  let recoveredIndex: LedgerIndex | undefined;
  try {
    if (!readOnly) {
      // Drafts of segments whose creation a crash interrupted: never renamed, so never part of the ledger.
      for (const name of await fs.readdir(segmentsDir))
        if (name.endsWith('.tmp')) await fs.rm(join(segmentsDir, name), { force: true });
    }
    const recovered = await recoverLedger({
      directory,
      writable: !readOnly,
      tolerateDamage,
      rebuildIndex: options.rebuildIndex ?? false,
      chunkBytes: readChunkBytes,
    });
    const { index } = recovered;
    recoveredIndex = index;
    let indexEntriesWritten = 0;
    if (!readOnly) {
      if (index.segments.length === 0) index.segments.push(await createSegment(segmentsDir, 0, 0));
      // Bring the position index in line with the segments: keep what checked out, write the rest.
      indexHandle = await fs.open(indexFile, (await exists(indexFile)) ? 'r+' : 'w+');
      const valid = recovered.validIndexEntries;
      if ((await indexHandle.stat()).size !== valid * INDEX_ENTRY_BYTES || valid <= index.head) {
        await indexHandle.truncate(valid * INDEX_ENTRY_BYTES);
        indexEntriesWritten = await writeIndexEntries(indexHandle, index, valid, index.head);
        await indexHandle.datasync();
      }
    }
    const openReport: OpenReport = {
      directory,
      readOnly,
      segments: index.segments.length,
      events: index.head + 1,
      tornTail: recovered.tornTail,
      indexEntriesWritten,
      damage: recovered.damage,
    };
    return createFileStore({
      directory,
      readOnly,
      tolerateDamage,
      segmentBytes,
      readChunkBytes,
      index,
      lock,
      indexHandle,
      openReport,
      onCommit: options.onCommit,
    });
  } catch (error) {
    await indexHandle?.close();
    await Promise.all((recoveredIndex?.segments ?? []).map((segment) => segment.handle?.close()));
    await lock?.release();
    throw error;
  }
};

/** The segment that holds a position: the last one that starts at or before it. */
const segmentOf = (segments: readonly Segment[], position: number): Segment => {
  let low = 0;
  let high = segments.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (segments[middle]!.firstPosition <= position) low = middle;
    else high = middle - 1;
  }
  return segments[low]!;
};

/** Writes the index entries of positions from..to (inclusive); returns how many. */
const writeIndexEntries = async (
  handle: FileHandle,
  index: LedgerIndex,
  from: number,
  to: number,
): Promise<number> => {
  const perChunk = 65536;
  const buffer = Buffer.allocUnsafe(Math.min(perChunk, Math.max(0, to - from + 1)) * INDEX_ENTRY_BYTES);
  for (let start = from; start <= to; start += perChunk) {
    const end = Math.min(to, start + perChunk - 1);
    for (let position = start; position <= end; position++) {
      const segment = segmentOf(index.segments, position);
      const at = (position - start) * INDEX_ENTRY_BYTES;
      buffer.writeUInt32LE(segment.number, at);
      buffer.writeUInt32LE(index.offsets.get(position), at + 4);
    }
    await writeFully(handle, buffer, (end - start + 1) * INDEX_ENTRY_BYTES, start * INDEX_ENTRY_BYTES);
  }
  return Math.max(0, to - from + 1);
};

interface StoreParts {
  readonly directory: string;
  readonly readOnly: boolean;
  readonly tolerateDamage: boolean;
  readonly segmentBytes: number;
  readonly readChunkBytes: number;
  readonly index: LedgerIndex;
  readonly lock: WriterLock | null;
  readonly indexHandle: FileHandle | undefined;
  readonly openReport: OpenReport;
  readonly onCommit: ((commit: CommitInfo) => void) | undefined;
}

/**
 * For verifyStore: when the record's JSON (`text`, the bytes jsonStart..end of `buffer`) is exactly
 * what `append` writes (the canonical text the event's hash covers, less its closing brace, then
 * `,"hash":"<hash>","position":<position>}` with the hash and position the JSON itself holds) and that
 * canonical text hashes to the event's hash, marks the event with it (STORED_TEXT_HASH): by the hash's
 * collision resistance the bytes are the text that was hashed when the event was recorded, and serialising
 * the parsed event again would give them back. Anything else (a record changed after it was written, a
 * hash that does not match) is left unmarked, and verifyStore hashes it from its content as before, so its
 * verdict and its message are the same. The buffer is changed for the time of the hash (the suffix's comma
 * stands in for the closing brace) and put back.
 */
const markStoredTextHash = (
  event: RecordedEvent,
  text: string,
  buffer: Buffer,
  jsonStart: number,
  end: number,
): void => {
  const { hash, position } = event;
  if (typeof hash !== 'string' || hash.length !== 64 || !Number.isSafeInteger(position)) return;
  const suffix = `,"hash":"${hash}","position":${position}}`;
  // The suffix is ASCII: as many bytes as characters, so the text's end is the buffer's.
  if (!text.endsWith(suffix)) return;
  const brace = end - suffix.length;
  if (brace <= jsonStart || buffer[brace] !== 0x2c) return;
  buffer[brace] = 0x7d;
  let stored: string;
  try {
    stored = sha256Hex(buffer.subarray(jsonStart, brace + 1));
  } finally {
    buffer[brace] = 0x2c;
  }
  if (stored === hash) (event as { [STORED_TEXT_HASH]?: string })[STORED_TEXT_HASH] = stored;
};

const createFileStore = (parts: StoreParts): FileEventStore => {
  const { directory, readOnly, tolerateDamage, index, lock, indexHandle, readChunkBytes } = parts;
  const segmentsDir = join(directory, SEGMENTS_DIR);
  let closed = false;
  let failure: StoreFailedError | undefined;
  let queue: PendingAppend[] = [];
  let indexWritable = indexHandle !== undefined;
  let indexWrittenSinceSync = false;
  /** Index writes, in order, off the appenders' path (the index is derived; see layout.ts). */
  let indexWrites: Promise<void> = Promise.resolve();
  /** The last position whose entry has been handed to the index file. */
  let indexedUpTo = index.head;
  /**
   * Index entries are written in runs of INDEX_WRITE_EVERY, not per commit: a system call per commit
   * costs the appenders as much as the commit's own write. Entries not yet written when the process dies
   * are rebuilt by the next open (they are derived from the segments).
   */
  const writeIndexUpToHead = (): void => {
    const from = indexedUpTo + 1;
    const to = index.head;
    if (to < from) return;
    indexedUpTo = to;
    indexWrites = indexWrites.then(async () => {
      if (!indexWritable) return;
      try {
        await writeIndexEntries(indexHandle!, index, from, to);
        indexWrittenSinceSync = true;
      } catch {
        // The index is derived: the next open rebuilds whatever is missing from it.
        indexWritable = false;
      }
    });
  };
  /** The O_DSYNC handle appends go through: for the last segment, opened on the first append. */
  let writer: { readonly segment: Segment; readonly handle: FileHandle } | undefined;
  const writerFor = async (segment: Segment): Promise<FileHandle> => {
    if (writer?.segment !== segment) {
      await writer?.handle.close();
      writer = undefined;
      writer = { segment, handle: await openSegmentWriter(segment.file) };
    }
    return writer.handle;
  };
  const waiting = new Set<() => void>();

  const assertOpen = (): void => {
    if (closed) throw new StoreClosedError();
  };
  const wakeSubscriptions = (): void => {
    const wake = [...waiting];
    waiting.clear();
    wake.forEach((resolveWaiter) => resolveWaiter());
  };

  /** A read that fails because the store closed under it reports that, not the file system's error. */
  const readAt = async (segment: Segment, target: Buffer, length: number, position: number) => {
    try {
      return await readFully(segment.handle!, target, length, position);
    } catch (error) {
      if (closed) throw new StoreClosedError();
      throw error;
    }
  };

  const damaged = (
    message: string,
    segment: Segment,
    offset: number,
    position?: number,
  ): StoreCorruptionError =>
    new StoreCorruptionError(
      `${message} (${segment.file} at offset ${offset})`,
      segment.file,
      offset,
      position,
    );

  /**
   * The event of a record whose checksum held. Its JSON can still fail to parse: anyone who edits a record
   * can recompute its CRC-32. That is damage, named by position, event, file and offset, never JSON.parse's
   * bare SyntaxError (which named nothing, and made verify report an unopenable store).
   */
  const parseRecord = (
    text: string,
    buffer: Buffer,
    at: number,
    segment: Segment,
    offset: number,
    position: number,
  ): RecordedEvent => {
    try {
      return JSON.parse(text) as RecordedEvent;
    } catch (error) {
      throw damaged(
        `the record of position ${position} (event ${frameHead(buffer, at).id}?) is not JSON, though its checksum holds: ${(error as Error).message}`,
        segment,
        offset,
        position,
      );
    }
  };

  /**
   * Decodes the record at `at` of `buffer` (file offset `offset` of `segment`), which should hold
   * `position`. A record that does not check out is an error, except on a damage-tolerant open, where
   * whatever JSON can still be read is delivered so that verify can judge it (and name it).
   */
  const decodeRecord = (
    buffer: Buffer,
    at: number,
    end: number,
    segment: Segment,
    offset: number,
    position: number,
  ): RecordedEvent => {
    const check = checkFrame(buffer, at, end);
    if (check.kind === 'ok') {
      if (framePosition(buffer, at) !== position)
        throw damaged(`the record here should be position ${position}`, segment, offset);
      return parseRecord(frameJson(buffer, at, check.end), buffer, at, segment, offset, position);
    }
    const reason = check.kind === 'damaged' ? check.reason : 'record cut short';
    if (tolerateDamage && check.kind === 'damaged') {
      try {
        const head = frameHead(buffer, at);
        return JSON.parse(buffer.toString('utf8', head.jsonStart, Math.min(head.end, end))) as RecordedEvent;
      } catch {
        // fall through: nothing readable is left of it
      }
    }
    throw damaged(`${reason} in the record of position ${position}`, segment, offset);
  };

  /**
   * Where the record of `position` (at `offset` of `segment`) ends: where the next position's record starts
   * when that one is in the same segment, so that reading a few records reads only their bytes; otherwise
   * a bound that holds any ordinary record (a longer one is read again whole, see readGroup).
   */
  const recordEnd = (segment: Segment, position: number, offset: number): number => {
    const next = position + 1;
    if (next <= index.head && next < index.offsets.length && segmentOf(index.segments, next) === segment) {
      const nextOffset = index.offsets.get(next);
      if (nextOffset !== LOST && nextOffset > offset) return nextOffset;
    }
    return offset + 64 * 1024;
  };

  // The last durable records this store wrote, by position: `recentRecord` parses one from memory.
  const recentRing = createRecentRecords(RECENT_RECORDS, RECENT_BYTES);
  const recentRecord = recentRing.get;

  /** Reads the records of `positions` (all in one segment, offsets within one read window). */
  const readGroup = async (segment: Segment, positions: readonly number[]): Promise<RecordedEvent[]> => {
    const offsets = positions.map((position) => index.offsets.get(position));
    let low = offsets[0]!;
    let high = low;
    let last = positions[0]!;
    for (let i = 1; i < offsets.length; i++) {
      const offset = offsets[i]!;
      if (offset < low) low = offset;
      if (offset > high) {
        high = offset;
        last = positions[i]!;
      }
    }
    const length = Math.min(segment.size - low, recordEnd(segment, last, high) - low);
    const buffer = Buffer.allocUnsafe(length);
    const read = await readAt(segment, buffer, length, low);
    const events: RecordedEvent[] = [];
    for (let i = 0; i < positions.length; i++) {
      const offset = offsets[i]!;
      const check = checkFrame(buffer, offset - low, read);
      if (check.kind === 'incomplete' && offset + check.needed <= segment.size) {
        const single = Buffer.allocUnsafe(check.needed);
        const got = await readAt(segment, single, check.needed, offset);
        events.push(decodeRecord(single, 0, got, segment, offset, positions[i]!));
      } else {
        events.push(decodeRecord(buffer, offset - low, read, segment, offset, positions[i]!));
      }
    }
    return events;
  };

  const readPosition = async (position: number): Promise<RecordedEvent> => {
    const recent = recentRecord(position);
    if (recent !== undefined) return recent;
    const offset = index.offsets.get(position);
    const segment = segmentOf(index.segments, position);
    if (offset === LOST) throw damaged(`position ${position} was lost to damage`, segment, 0);
    return (await readGroup(segment, [position]))[0]!;
  };

  /** Reads positions in the given order, grouping neighbours into one read. */
  async function* readPositions(positions: readonly number[]): AsyncGenerator<RecordedEvent> {
    let i = 0;
    while (i < positions.length) {
      assertOpen();
      const first = positions[i]!;
      const recent = recentRecord(first);
      if (recent !== undefined) {
        i++;
        yield recent;
        continue;
      }
      const segment = segmentOf(index.segments, first);
      const firstOffset = index.offsets.get(first);
      const group = [first];
      // Neighbours join the group only when close to the previous one: a stream whose events lie far
      // apart in the log is read record by record, not with the megabytes between them.
      let previousOffset = firstOffset;
      for (i++; i < positions.length && group.length < 4096; i++) {
        const position = positions[i]!;
        if (segmentOf(index.segments, position) !== segment) break;
        if (recentRing.has(position)) break;
        const offset = index.offsets.get(position);
        if (Math.abs(offset - firstOffset) > readChunkBytes) break;
        if (Math.abs(offset - previousOffset) > GROUP_GAP_BYTES) break;
        previousOffset = offset;
        group.push(position);
      }
      yield* await readGroup(segment, group);
    }
  }

  /**
   * Reads positions from..to (inclusive) in order, a page at a time: one large read per page, frames cut
   * from the buffer by their lengths, each checked (checksum, position) and its JSON parsed. This is the
   * replay path of every projection: no per-record system call, no copy of the bytes, no async step per
   * record. Returns the next page, empty only at the end.
   */
  const createPageReader = (
    from: number,
    to: number,
    markStoredText = false,
  ): (() => Promise<RecordedEvent[]>) => {
    // Sized to what is left of the segment when that is less than a chunk: a catch-up of a few new
    // records at the end of the log allocates a few kilobytes, not a whole chunk.
    let buffer: Buffer | undefined;
    let position = from;
    // The chunk last read (valid while `chunk` is defined): its segment offset, where the next record
    // starts in it, and where its bytes end. A chunk serves several pages: a page holds at most PAGE_EVENTS
    // events, so that the events parsed ahead of the reader stay few (a page of a whole 1 MiB chunk kept
    // about 1,400 parsed events alive at once, which the garbage collector then copied and promoted).
    let chunk: { readonly segment: Segment; readonly offset: number } | undefined;
    let at = 0;
    let end = 0;
    return async () => {
      const page: RecordedEvent[] = [];
      while (page.length === 0 && position <= to) {
        assertOpen();
        if (chunk === undefined) {
          for (let recent = recentRecord(position); recent !== undefined && page.length < PAGE_EVENTS;) {
            page.push(recent);
            if (++position > to) break;
            recent = recentRecord(position);
          }
          if (page.length > 0) break;
          const offset = index.offsets.get(position);
          const segment = segmentOf(index.segments, position);
          if (offset === LOST) {
            if (!tolerateDamage) throw damaged(`position ${position} was lost to damage`, segment, 0);
            position++;
            continue;
          }
          const wanted = Math.max(FRAME_HEADER_BYTES, Math.min(readChunkBytes, segment.size - offset));
          if (buffer === undefined || buffer.length < wanted) buffer = Buffer.allocUnsafe(wanted);
          end = await readAt(segment, buffer, Math.min(buffer.length, segment.size - offset), offset);
          chunk = { segment, offset };
          at = 0;
        }
        const { segment, offset } = chunk;
        const chunkBuffer = buffer!;
        const first = at;
        while (position <= to && end - at >= FRAME_HEADER_BYTES && page.length < PAGE_EVENTS) {
          const frameEnd = at + FRAME_HEADER_BYTES + chunkBuffer.readUInt32LE(at + 4);
          if (frameEnd > end) break; // continued in the next read (or damage, handled below)
          if (tolerateDamage && index.offsets.get(position) !== offset + at) break; // re-seek past damage
          // The common case inline (checksum, position, JSON); anything else through decodeRecord.
          if (
            crc32(chunkBuffer.subarray(at + 4, frameEnd)) === chunkBuffer.readUInt32LE(at) &&
            chunkBuffer.readDoubleLE(at + FRAME_HEADER_BYTES) === position
          ) {
            const names = at + FRAME_HEADER_BYTES + BODY_HEAD_BYTES;
            const jsonStart =
              names +
              chunkBuffer.readUInt16LE(at + FRAME_HEADER_BYTES + 12) +
              chunkBuffer.readUInt16LE(at + FRAME_HEADER_BYTES + 14);
            // For verify, the link's fields straight from the bytes when they are the hashed text (chain-link.ts).
            const link = markStoredText ? readChainLink(chunkBuffer, jsonStart, frameEnd) : undefined;
            if (link !== undefined) {
              page.push(link as unknown as RecordedEvent); // only readAllForVerify's pages hold links
            } else {
              const text = chunkBuffer.toString('utf8', jsonStart, frameEnd);
              const event = parseRecord(text, chunkBuffer, at, segment, offset + at, position);
              if (markStoredText) markStoredTextHash(event, text, chunkBuffer, jsonStart, frameEnd);
              page.push(event);
            }
          } else {
            // The events before a damaged record are delivered first; the next call reports the damage.
            if (page.length > 0) return page;
            page.push(decodeRecord(chunkBuffer, at, frameEnd, segment, offset + at, position));
          }
          position++;
          at = frameEnd;
        }
        if (page.length === PAGE_EVENTS) break; // the rest of the chunk serves the next page
        // The chunk is used up (or ends in a record cut by its end, or damage needs a re-seek): read on from
        // the next position's offset.
        chunk = undefined;
        if (first === 0 && at === 0 && position <= to) {
          // Not one whole record in the buffer: a record larger than the buffer, or damage.
          const bodyLength = frameBodyLength(chunkBuffer, 0);
          if (
            end >= FRAME_HEADER_BYTES &&
            bodyLength <= MAX_BODY_BYTES &&
            offset + FRAME_HEADER_BYTES + bodyLength <= segment.size
          ) {
            buffer = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLength);
          } else {
            page.push(decodeRecord(chunkBuffer, 0, end, segment, offset, position));
            position++;
          }
        }
      }
      return page;
    };
  };

  /** An async iterable over pages: a plain iterator, cheaper per event than an async generator. */
  const iteratePages = (
    start: () => {
      readPage: () => Promise<RecordedEvent[]>;
      keep: ((event: RecordedEvent) => boolean) | undefined;
    },
  ): AsyncIterable<RecordedEvent> => ({
    [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
      let readPage: (() => Promise<RecordedEvent[]>) | undefined;
      // The filter (asKnownAt.recordedAt), known on the first next(); none for a plain replay.
      let keep: ((event: RecordedEvent) => boolean) | undefined;
      let page: RecordedEvent[] = [];
      let i = 0;
      let finished = false;
      const fill = async (): Promise<IteratorResult<RecordedEvent>> => {
        if (readPage === undefined) {
          // Validation and the closed check happen on the first next(), as for a generator.
          const started = start();
          readPage = started.readPage;
          keep = started.keep;
        }
        while (!finished) {
          page = await readPage();
          i = 0;
          if (page.length === 0) finished = true;
          while (i < page.length) {
            const event = page[i++]!;
            if (keep === undefined || keep(event)) return { value: event, done: false };
          }
        }
        return { value: undefined, done: true };
      };
      return {
        next: (): Promise<IteratorResult<RecordedEvent>> => {
          while (i < page.length) {
            const event = page[i++]!;
            if (keep === undefined || keep(event)) return Promise.resolve({ value: event, done: false });
          }
          return fill().catch((error: unknown) => {
            finished = true;
            throw error;
          });
        },
        return: (): Promise<IteratorResult<RecordedEvent>> => {
          finished = true;
          page = [];
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  });

  /**
   * The heads (revision and hash) of recently appended streams, at most HEADS_KEPT of them. Bounded:
   * the head of a stream not appended to for a long while is read from its last record when needed, so
   * that millions of streams of one or two events (visitors, conversions) do not each keep one.
   */
  type Head = { readonly revision: number; readonly hash: string };
  // Two generations, not an exact LRU (deleting a Map's oldest key again and again makes it slow to
  // iterate): a head appended to again moves to the young map; when that is full, the old one is dropped.
  let youngHeads = new Map<string, Head>();
  let oldHeads = new Map<string, Head>();
  const keptHead = (stream: string): Head | undefined => youngHeads.get(stream) ?? oldHeads.get(stream);
  const rememberHead = (stream: string, head: Head): void => {
    oldHeads.delete(stream);
    youngHeads.set(stream, head);
    if (youngHeads.size >= HEADS_KEPT / 2) {
      oldHeads = youngHeads;
      youngHeads = new Map();
    }
  };

  const streamHead = async (stream: string): Promise<{ revision: number; hash: string } | undefined> => {
    const kept = keptHead(stream);
    if (kept !== undefined) return kept;
    const position = lastPosition(index.streams.get(stream));
    if (position === undefined) return undefined;
    const last = await readPosition(position);
    const head = { revision: last.revision, hash: last.hash };
    // Only if no append made a newer head known while the record was read.
    if (keptHead(stream) === undefined) rememberHead(stream, head);
    return head;
  };

  /**
   * What prepared-but-not-yet-durable batches will change, so that the next batch can be prepared while
   * the previous one is being written: event ids and stream heads, one pair of maps per batch (oldest
   * first), dropped whole when that batch is applied to the index. `nextPosition` is the next position
   * to assign.
   *
   * Not one long-lived map with an entry set and deleted per event: a V8 Map that is rehashed (as such
   * churn makes it, every hundred or so events) keeps its old table, entries and all, linked to the new
   * one. Once the garbage collector has promoted one of those tables to the old generation (it promotes
   * whatever is young at a full collection), that dead table holds every later table, and through them
   * the events staged in them, alive across minor collections until the next full one: about 1 MB
   * copied and promoted per scavenge with 64 writers. Maps that live for one batch take no part in that.
   */
  interface Staged {
    readonly number: number;
    readonly ids: Map<string, { readonly event: RecordedEvent; readonly dataJson: string }>;
    readonly heads: Map<string, Head>;
  }
  let staged: Staged[] = [];
  const stagedId = (id: string) => {
    for (let i = staged.length - 1; i >= 0; i--) {
      const found = staged[i]!.ids.get(id);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const stagedHead = (stream: string): Head | undefined => {
    for (let i = staged.length - 1; i >= 0; i--) {
      const found = staged[i]!.heads.get(stream);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  let nextPosition = index.head + 1;
  /**
   * Where each tag was last stored, for append conditions. Tags are not persisted: a tag not seen since the
   * store opened counts as stored at the head at open (a condition read before it fails once, then passes).
   */
  const tagPositions = createTagPositions(index.head);
  let batchNumber = 0;
  /** Two buffers, alternating: one batch is being written while the next is framed. */
  const frameBuffers = [Buffer.allocUnsafe(256 * 1024), Buffer.allocUnsafe(256 * 1024)];

  const findStored = async (id: string, fingerprint: number): Promise<RecordedEvent | undefined> => {
    const pending = stagedId(id);
    if (pending !== undefined) return { ...pending.event, data: JSON.parse(pending.dataJson) as unknown };
    for (const position of index.ids.candidates(fingerprint)) {
      const event = await readPosition(position);
      if (event.id === id) return event;
    }
    return undefined;
  };

  interface PreparedBatch {
    readonly number: number;
    readonly appends: number;
    readonly accepted: { request: PendingAppend; events: RecordedEvent[] }[];
    /** Settle the appends that were refused or were retries, once the batch is durable. */
    readonly outcomes: (() => void)[];
    readonly buffer: Buffer;
    readonly bytes: number;
    /** Offset of each accepted event's frame in `buffer`. */
    readonly frameOffsets: number[];
    /** The id fingerprint of each accepted event, for the id index. */
    readonly fingerprints: number[];
    readonly firstPosition: number;
    readonly events: number;
  }

  /**
   * Checks every append of a batch in order against the state left by the ones before it (those of this
   * batch and of the batch being written), so that exactly the right ones win; assigns positions, revisions
   * and hash links; frames the accepted events into one buffer. Nothing is visible to readers yet.
   */
  const prepareBatch = async (batch: readonly PendingAppend[]): Promise<PreparedBatch> => {
    const number = ++batchNumber;
    const stage: Staged = { number, ids: new Map(), heads: new Map() };
    staged.push(stage);
    const firstPosition = nextPosition;
    const outcomes: (() => void)[] = [];
    const accepted: { request: PendingAppend; events: RecordedEvent[] }[] = [];
    const frameOffsets: number[] = [];
    const fingerprints: number[] = [];
    // The frames are written as the events are chained, into this batch's buffer (grown when needed): the
    // other buffer may be on its way to the disk. A refused append's frames are dropped by moving back.
    const slot = number % 2;
    let buffer = frameBuffers[slot]!;
    let cursor = 0;
    for (const request of batch) {
      const requestStart = cursor;
      try {
        const { stream, events, expectedRevision, condition } = request;
        const ownFingerprints: number[] = [];
        let anyStored = false;
        const stored: (RecordedEvent | undefined)[] = [];
        for (let i = 0; i < events.length; i++) {
          // A new id (the usual case) is settled without a read, so without an await.
          const id = events[i]!.id;
          const fingerprint = idFingerprint(id);
          ownFingerprints.push(fingerprint);
          const maybeStored =
            stagedId(id) !== undefined || index.ids.hasCandidate(fingerprint)
              ? await findStored(id, fingerprint)
              : undefined;
          if (maybeStored !== undefined) anyStored = true;
          stored.push(maybeStored);
        }
        if (anyStored) {
          const decision = classifyAppend(stream, events.map(asSealed), stored);
          if (decision.kind === 'retry') {
            const last = decision.stored.reduce((a, b) => (b.position > a.position ? b : a));
            const result: AppendResult = {
              stream,
              events: decision.stored,
              nextExpectedRevision: last.revision,
              lastPosition: last.position,
              alreadyStored: true,
            };
            outcomes.push(() => request.resolve(result));
            continue;
          }
        }
        const head = stagedHead(stream) ?? keptHead(stream) ?? (await streamHead(stream));
        checkExpectedRevision(stream, expectedRevision, head?.revision ?? 'noStream');
        // Against the tags of every append accepted before this one (this batch's and the one being
        // written, tentatively: a write that fails stops the store, so an unwritten tag never lets one pass).
        if (condition !== undefined) tagPositions.check(stream, condition);
        // Chained as chainEvents chains them (the same hash), with the data text serialised once at append.
        let revision = head?.revision ?? -1;
        let prevHash = head?.hash ?? null;
        const recorded: RecordedEvent[] = [];
        for (let i = 0; i < events.length; i++) {
          const input = events[i]!;
          revision += 1;
          const position = nextPosition + i;
          // Built once, hashed (the hash covers neither `hash` nor `position`), then given its hash.
          const event: { -readonly [K in keyof RecordedEvent]: RecordedEvent[K] } = {
            id: input.id,
            type: input.type,
            schemaVersion: input.schemaVersion,
            stream,
            revision,
            occurredAt: input.occurredAt,
            recordedAt: input.recordedAt,
            actor: input.actor,
            correlationId: input.correlationId,
            causationId: input.causationId,
            data: input.data,
            prevHash,
            hash: '',
            position,
          };
          // Data too large already in UTF-16 code units, hence in bytes: refused before the buffer grows for it.
          if (input.dataJson.length > MAX_BODY_BYTES) {
            const { hash, canonicalText } = hashEvent(event, input.dataJson);
            tooLarge(
              input.id,
              FRAME_HEADER_BYTES +
                BODY_HEAD_BYTES +
                Buffer.byteLength(stream) +
                Buffer.byteLength(input.id) +
                Buffer.byteLength(canonicalText) -
                1 +
                recordSuffixLength(hash, position),
            );
          }
          // The record's JSON is the canonical text the hash covers (sorted keys, data included) with the
          // hash and the position added at its end. The text is written once, into the frame, and hashed
          // there (encodeHashedText, hashOfEncodedText): no text string to build, flatten and encode again.
          // Readers get the same fields as from any store; only the key order differs.
          const namesRoom = FRAME_HEADER_BYTES + BODY_HEAD_BYTES + 3 * (stream.length + input.id.length);
          let jsonStart = -1;
          let textEnd = -1;
          for (;;) {
            if (cursor + namesRoom <= buffer.length) {
              jsonStart = writeRecordNames(buffer, cursor, stream, input.id);
              textEnd = encodeHashedText(event, input.dataJson, buffer, jsonStart);
              if (textEnd >= 0 && textEnd - 1 + RECORD_SUFFIX_MAX_BYTES <= buffer.length) break;
            }
            // Too little room (rare: the buffers start at 256 KiB): a larger buffer, and this event again.
            const larger = Buffer.allocUnsafe(2 * buffer.length + namesRoom + RECORD_SUFFIX_MAX_BYTES);
            buffer.copy(larger, 0, 0, cursor);
            buffer = larger;
            frameBuffers[slot] = larger;
          }
          const hash = hashOfEncodedText(buffer, jsonStart, textEnd);
          event.hash = hash;
          prevHash = hash;
          const end = sealRecordFrame(
            buffer,
            cursor,
            textEnd,
            position,
            revision,
            hash,
            i === events.length - 1,
          );
          if (end - cursor - FRAME_HEADER_BYTES > MAX_BODY_BYTES) tooLarge(input.id, end - cursor);
          frameOffsets.push(cursor);
          cursor = end;
          recorded.push(event);
        }
        nextPosition += recorded.length;
        if (request.tags !== undefined && request.tags.length > 0)
          tagPositions.record(request.tags, nextPosition - 1);
        stage.heads.set(stream, { revision, hash: prevHash! });
        for (let i = 0; i < recorded.length; i++)
          stage.ids.set(recorded[i]!.id, { event: recorded[i]!, dataJson: events[i]!.dataJson });
        for (const fingerprint of ownFingerprints) fingerprints.push(fingerprint);
        accepted.push({ request, events: recorded });
      } catch (error) {
        // Nothing of a refused append stays: its frames (if any were written) are dropped.
        cursor = requestStart;
        frameOffsets.length = fingerprints.length;
        outcomes.push(() => request.reject(error));
      }
    }
    return {
      number,
      appends: batch.length,
      accepted,
      outcomes,
      buffer,
      bytes: cursor,
      frameOffsets,
      fingerprints,
      firstPosition,
      events: nextPosition - firstPosition,
    };
  };

  /** A prepared batch on its way to the disk, with where it is written (set when it is submitted). */
  interface Commit {
    readonly prepared: PreparedBatch;
    readonly requests: readonly PendingAppend[];
    segment?: Segment;
    offset?: number;
  }

  /** The batch being written (at most one: a later write must not land before an earlier one). */
  let inFlight: Commit | undefined;
  /** The next batch, prepared while `inFlight` is written, submitted the moment that write returns. */
  let ready: Commit | undefined;
  let preparing = false;
  let idleWaiters: (() => void)[] = [];
  const isIdle = (): boolean =>
    !preparing && ready === undefined && inFlight === undefined && queue.length === 0;
  const checkIdle = (): void => {
    if (!isIdle() || idleWaiters.length === 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    waiters.forEach((wake) => wake());
  };
  const whenIdle = (): Promise<void> =>
    isIdle() ? Promise.resolve() : new Promise<void>((resolveIdle) => idleWaiters.push(resolveIdle));

  /** A failed write leaves the file in an unknown state: stop writing; reopening recovers. */
  const stop = (error: unknown, requests: readonly PendingAppend[]): void => {
    const stopped = failure ?? new StoreFailedError(directory, error);
    failure = stopped;
    const failed = [...requests, ...(ready?.requests ?? []), ...queue];
    ready = undefined;
    queue = [];
    failed.forEach((request) => request.reject(stopped));
    checkIdle();
  };

  /**
   * The write of a commit, with the callback API on the raw descriptor: its completion is handled in the
   * callback itself, so that the next batch goes to the disk without waiting for a turn of promises.
   */
  const writeCommit = (commit: Commit, handle: FileHandle): void => {
    const { buffer, bytes } = commit.prepared;
    const offset = commit.offset!;
    let done = 0;
    const written = (error: NodeJS.ErrnoException | null, count: number): void => {
      if (error !== null) return failed(commit, error);
      done += count;
      if (done < bytes) return write(handle.fd, buffer, done, bytes - done, offset + done, written);
      if (O_DSYNC !== undefined) return completed(commit);
      handle.datasync().then(
        () => completed(commit),
        (syncError: unknown) => failed(commit, syncError),
      );
    };
    write(handle.fd, buffer, 0, bytes, offset, written);
  };

  /** Sends a commit to the disk: one write to the last segment, starting a new segment first if it is full. */
  const submit = (commit: Commit): void => {
    inFlight = commit;
    const { prepared } = commit;
    if (prepared.events === 0) {
      // Only refusals and retries: nothing to write, but settled after the batches before it.
      setImmediate(() => completed(commit));
      return;
    }
    const active = index.segments[index.segments.length - 1]!;
    if (active.size > SEGMENT_HEADER_BYTES && active.size + prepared.bytes > parts.segmentBytes) {
      createSegment(segmentsDir, active.number + 1, prepared.firstPosition).then(
        (created) => {
          index.segments.push(created);
          submit(commit);
        },
        (error: unknown) => failed(commit, error),
      );
      return;
    }
    commit.segment = active;
    commit.offset = active.size;
    if (writer?.segment === active) return writeCommit(commit, writer.handle);
    writerFor(active).then(
      (handle) => writeCommit(commit, handle),
      (error: unknown) => failed(commit, error),
    );
  };

  const failed = (commit: Commit, error: unknown): void => {
    inFlight = undefined;
    stop(error, commit.requests);
  };

  /**
   * A commit is durable: the next batch goes to the disk at once, and only then are this one's events
   * published (index, readers, appenders), so that the disk never waits for the bookkeeping.
   */
  const completed = (commit: Commit): void => {
    inFlight = undefined;
    const { prepared } = commit;
    if (prepared.events > 0) commit.segment!.size += prepared.bytes;
    const next = ready;
    ready = undefined;
    if (next !== undefined && failure === undefined) submit(next);
    publish(commit);
    pump();
  };

  /** Durable: now the index and the readers see the commit, and its appenders hear back. */
  const publish = ({ prepared, offset }: Commit): void => {
    // The index and the kept heads now say what this batch's staging said.
    staged = staged.filter((stage) => stage.number !== prepared.number);
    if (prepared.events > 0) {
      let k = 0;
      for (const { request, events } of prepared.accepted) {
        for (const event of events) {
          index.offsets.push(offset! + prepared.frameOffsets[k]!);
          addStreamPosition(index.streams, request.stream, event.position);
          index.ids.add(prepared.fingerprints[k]!, event.position);
          const frame = prepared.frameOffsets[k]!;
          const body = frame + FRAME_HEADER_BYTES;
          const jsonStart =
            body +
            BODY_HEAD_BYTES +
            prepared.buffer.readUInt16LE(body + 12) +
            prepared.buffer.readUInt16LE(body + 14);
          recentRing.remember(
            event.position,
            prepared.buffer,
            jsonStart,
            body + prepared.buffer.readUInt32LE(frame + 4),
          );
          k++;
        }
        const last = events[events.length - 1]!;
        rememberHead(request.stream, { revision: last.revision, hash: last.hash });
        const result: AppendResult = {
          stream: request.stream,
          events,
          nextExpectedRevision: last.revision,
          lastPosition: last.position,
          alreadyStored: false,
        };
        prepared.outcomes.push(() => request.resolve(result));
      }
      index.head = prepared.firstPosition + prepared.events - 1;
      if (index.head - indexedUpTo >= INDEX_WRITE_EVERY) writeIndexUpToHead();
    }
    prepared.outcomes.forEach((settle) => settle());
    if (prepared.events > 0) {
      wakeSubscriptions();
      try {
        parts.onCommit?.({ appends: prepared.appends, events: prepared.events, bytes: prepared.bytes });
      } catch (error) {
        // A metrics hook must not fail a commit that is already durable.
        process.emitWarning(`onCommit threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  /**
   * The writer: group commit, pipelined. Appends queued in one turn of the event loop form a batch, which
   * is prepared (checks, hashes, framing) while the previous batch is being written, so that the CPU work
   * and the disk overlap; at most one batch waits prepared. A large first batch is split in two to start
   * that alternation.
   */
  const pump = (): void => {
    if (preparing || ready !== undefined || queue.length === 0) return checkIdle();
    preparing = true;
    // Let every append issued in this turn of the event loop join the batch.
    setImmediate(() => void prepareNext());
  };

  const prepareNext = async (): Promise<void> => {
    let batch = queue;
    queue = [];
    if (failure !== undefined) {
      preparing = false;
      return stop(failure, batch);
    }
    if (inFlight === undefined && batch.length >= 16) {
      const half = batch.length >> 1;
      queue = batch.slice(half);
      batch = batch.slice(0, half);
    }
    let prepared: PreparedBatch;
    try {
      prepared = await prepareBatch(batch);
    } catch (error) {
      preparing = false;
      return stop(error, batch);
    }
    preparing = false;
    if (failure !== undefined) return stop(failure, batch);
    const commit: Commit = { prepared, requests: batch };
    if (inFlight === undefined) submit(commit);
    else ready = commit;
    pump();
  };

  // Not an async function: that would wrap the returned promise in another, two more turns per append.
  const append = (
    stream: string,
    events: readonly NewEvent[],
    appendOptions: AppendOptions = {},
  ): Promise<AppendResult> => {
    let sealed: SealedInput[];
    let expectedRevision: ExpectedRevision;
    try {
      assertOpen();
      if (readOnly) throw new ReadOnlyStoreError(directory);
      if (failure !== undefined) throw failure;
      expectedRevision = appendOptions.expectedRevision ?? 'any';
      assertAppendable(stream, events, expectedRevision);
      if (appendOptions.tags !== undefined || appendOptions.condition !== undefined)
        assertTagsAndCondition(stream, appendOptions);
      sealed = events.map((event, index) => sealInput(stream, event, index));
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolveAppend, rejectAppend) => {
      queue.push({
        stream,
        events: sealed,
        expectedRevision,
        tags: appendOptions.tags,
        condition: appendOptions.condition,
        resolve: resolveAppend,
        reject: rejectAppend,
      });
      pump();
    });
  };

  async function* readStream(stream: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    assertOpen();
    const { direction = 'forwards', fromRevision, maxCount, asKnownAt } = options;
    checkInteger('fromRevision', fromRevision, 0);
    checkInteger('maxCount', maxCount, 0);
    const known = knownAtFilter(asKnownAt);
    const positions = positionList(index.streams.get(stream));
    const end = positions.length; // the stream as it is now
    const limit = maxCount ?? Number.POSITIVE_INFINITY;
    if (limit === 0 || end === 0) return;
    const selected =
      direction === 'forwards'
        ? positions.slice(fromRevision ?? 0, end)
        : positions.slice(0, Math.min(fromRevision ?? end - 1, end - 1) + 1).reverse();
    let count = 0;
    // Without filters, read no more than asked for; with them, read on until enough pass.
    const bounded = asKnownAt === undefined ? selected.slice(0, Math.min(selected.length, limit)) : selected;
    for await (const event of readPositions(bounded)) {
      if (!known(event)) continue;
      yield event;
      count++;
      if (count >= limit) return;
    }
  }

  /** readAll's page reader and its filter, set up on the first next() as a generator would be. */
  const startReadAll = (
    options: ReadAllOptions,
    markStoredText: boolean,
  ): { readPage: () => Promise<RecordedEvent[]>; keep: ((event: RecordedEvent) => boolean) | undefined } => {
    assertOpen();
    const { fromPosition = 0, pageSize, asKnownAt } = options;
    checkInteger('fromPosition', fromPosition, 0);
    checkInteger('pageSize', pageSize, 1);
    const known = knownAtFilter(asKnownAt);
    // The log as it is now, up to asKnownAt.position.
    const readPage = createPageReader(
      fromPosition,
      Math.min(index.head, asKnownAt?.position ?? Number.POSITIVE_INFINITY),
      markStoredText,
    );
    return { readPage, keep: asKnownAt?.recordedAt !== undefined ? known : undefined };
  };

  const readAll = (options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> =>
    iteratePages(() => startReadAll(options, false));

  /** readAll a page at a time (PagedReads): no promise per event. Pages are never empty. */
  async function* pagesOf(options: ReadAllOptions, markStoredText: boolean): AsyncGenerator<RecordedEvent[]> {
    const { readPage, keep } = startReadAll(options, markStoredText);
    for (;;) {
      const page = await readPage();
      if (page.length === 0) return;
      const kept = keep === undefined ? page : page.filter(keep);
      if (kept.length > 0) yield kept;
    }
  }
  const readAllPages = (options: ReadAllOptions = {}): AsyncIterable<RecordedEvent[]> =>
    pagesOf(options, false);
  const readAllForVerify = (options: ReadAllOptions = {}): AsyncIterable<(RecordedEvent | ChainLink)[]> =>
    pagesOf(options, true);

  async function* subscribe(options: SubscribeOptions = {}): AsyncGenerator<SubscriptionMessage> {
    assertOpen();
    const { fromPosition = 0, signal } = options;
    checkInteger('fromPosition', fromPosition, 0);
    // One cursor for catch-up and live delivery: an event appended during catch-up is read later, never
    // lost and never delivered twice.
    let cursor = fromPosition;
    let caughtUp = false;
    const aborted = (): boolean => signal?.aborted === true;
    while (!aborted()) {
      assertOpen();
      if (cursor <= index.head) {
        const readPage = createPageReader(cursor, index.head);
        for (let page = await readPage(); page.length > 0; page = await readPage()) {
          for (const event of page) {
            cursor = event.position + 1;
            yield { kind: 'event', event };
            if (aborted()) return;
            assertOpen();
          }
        }
        continue;
      }
      if (!caughtUp) {
        caughtUp = true;
        yield { kind: 'caughtUp', position: index.head };
        continue;
      }
      await new Promise<void>((resolveWait) => {
        const wake = (): void => {
          waiting.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolveWait();
        };
        waiting.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await whenIdle();
    writeIndexUpToHead();
    await indexWrites;
    try {
      await writer?.handle.close();
      if (indexHandle !== undefined) {
        // Not needed for safety (the index is derived, and checked on open), but it saves a rebuild.
        if (indexWritable && indexWrittenSinceSync) await indexHandle.datasync().catch(() => undefined);
        await indexHandle.close();
      }
      await Promise.all(index.segments.map((segment) => segment.handle?.close()));
    } finally {
      await lock?.release();
      // Last, so that a waiting subscription ends (with StoreClosedError) as close returns.
      wakeSubscriptions();
    }
  };

  return {
    directory,
    readOnly,
    openReport: parts.openReport,
    append,
    readStream,
    readAll,
    readAllPages,
    readAllForVerify,
    subscribe,
    headPosition: async () => {
      assertOpen();
      return index.head;
    },
    close,
  };
};
