import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { RecordedEvent } from '@partner-ledger/events';
import type { AsKnownAt, EventStore } from '@partner-ledger/store';
import { projectionCodeVersion } from './code-version';
import type { JsonValue } from './json';
import type { ProjectionSet } from './projection';
import { CHECKPOINT_FORMAT, createSession, replay } from './runner';
import type { Checkpoint, ProjectionSession, ReplayOptions, ReplayOutcome } from './runner';
import type { CheckpointShelf } from './shelf';

/**
 * The format tag of a shelved checkpoint's header: a document of another format is ignored (and, the tag
 * being part of the set's id, not even looked for). 2: the body's checksum is a CRC-32, no longer a SHA-256.
 */
export const SHELVED_CHECKPOINT_FORMAT = 'partner-ledger/shelved-checkpoint@2';

/** Default of `checkpointEvery`: a checkpoint every 100,000 events read. */
export const DEFAULT_CHECKPOINT_EVERY = 100_000;

/** How many checkpoints of one set a shelf keeps: the newest ones. */
const KEEP = 12;

/** What `replayWithCheckpoints` is asked: a replay's options, where checkpoints are kept, and how often. */
export interface CheckpointedReplayOptions extends Omit<ReplayOptions, 'from'> {
  /** Where checkpoints are read from and written to. */
  readonly shelf: CheckpointShelf;
  /**
   * What the projection set is, with every option that shapes its states (granularity, partners, window...):
   * any text, the same for the same set. Checkpoints of another description are never used.
   */
  readonly describe: string;
  /** Write a checkpoint every this many events read (and none for a replay of fewer). Default 100,000. */
  readonly checkpointEvery?: number;
  /** Write checkpoints (default true); false: only read them. */
  readonly write?: boolean;
  /**
   * The version of the code that computes the states; default: a digest of the projections and events
   * packages' code (projectionCodeVersion). Give your own when your projections live in your code.
   */
  readonly codeVersion?: string;
  /** Told why a checkpoint was not used (corrupt, of another ledger): the replay goes on without it. */
  readonly onNotice?: (message: string) => void;
}

/** A replay's outcome, and what it did with checkpoints. */
export interface CheckpointedReplayOutcome<P extends ProjectionSet> extends ReplayOutcome<P> {
  /** The position of the checkpoint the replay resumed from; null when it read from the start. */
  readonly resumedFrom: number | null;
  /** The positions of the checkpoints written. */
  readonly checkpointsWritten: readonly number[];
}

/** The header line of a shelved checkpoint: what decides whether it may be used, without reading its body. */
interface Header {
  readonly format: typeof SHELVED_CHECKPOINT_FORMAT;
  readonly set: string;
  readonly codeVersion: string;
  /** The position of the last event folded in, its hash, and the hash of the ledger's first event. */
  readonly position: number;
  readonly hash: string;
  readonly genesisHash: string;
  readonly eventsRead: number;
  readonly eventsApplied: number;
  /** The latest occurredAt and recordedAt among the events folded in. */
  readonly lastOccurredAt: string | null;
  readonly lastRecordedAt: string | null;
  /** The body's length (UTF-16 code units) and the CRC-32 of its UTF-8 bytes. */
  readonly bodyLength: number;
  readonly bodyCrc32: number;
}

/** The body of a shelved checkpoint: the reference data and each projection's saved state. */
interface Body {
  readonly reference: JsonValue;
  readonly states: Checkpoint['states'];
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

const nativeCrc32 = (zlib as unknown as { crc32?: (data: string) => number }).crc32;

/**
 * The CRC-32 (zlib's) of a text's UTF-8 bytes: what tells a checkpoint's body was written whole and read
 * back unchanged (a crash, a disk error). A checkpoint is not a secret nor a signature: whoever could write
 * a false body could as well write its SHA-256, which cost two to three times as long to check (5 to 7 ms
 * for the 6 MB of a 1,000,000-event ledger, against 2 to 3). Node before 20.15 has no zlib.crc32: the same
 * sum in JavaScript.
 */
export const crc32OfText = (text: string): number =>
  nativeCrc32 === undefined ? crc32InJavaScript(text) : nativeCrc32(text);

/** crc32OfText where zlib has no crc32 (exported for its test). */
export const crc32InJavaScript = (text: string): number => {
  const bytes = Buffer.from(text, 'utf8');
  let crc = -1;
  for (let i = 0; i < bytes.length; i += 1) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
};

const parseHeader = (text: string, position: number): Header | undefined => {
  try {
    const h = JSON.parse(text) as Partial<Header> | null;
    if (
      h === null ||
      typeof h !== 'object' ||
      h.format !== SHELVED_CHECKPOINT_FORMAT ||
      h.position !== position ||
      typeof h.set !== 'string' ||
      typeof h.codeVersion !== 'string' ||
      typeof h.hash !== 'string' ||
      typeof h.genesisHash !== 'string' ||
      typeof h.eventsRead !== 'number' ||
      typeof h.eventsApplied !== 'number' ||
      typeof h.bodyLength !== 'number' ||
      typeof h.bodyCrc32 !== 'number' ||
      !(h.lastOccurredAt === null || typeof h.lastOccurredAt === 'string') ||
      !(h.lastRecordedAt === null || typeof h.lastRecordedAt === 'string')
    )
      return undefined;
    return h as Header;
  } catch {
    return undefined;
  }
};

/**
 * Whether a state of the whole history up to the checkpoint is also the state of a replay within the bounds:
 * true when every event it folded in is within them (occurred by effectiveAt, recorded by knownAt, at or
 * before its position), for then the bounded replay read and applied exactly the same events up there.
 */
const fitsBounds = (h: Header, effectiveAt: string | undefined, knownAt: AsKnownAt | undefined): boolean => {
  // Compared as the session compares occurredAt with effectiveAt: as text.
  if (effectiveAt !== undefined && h.lastOccurredAt !== null && h.lastOccurredAt > effectiveAt) return false;
  if (knownAt?.position !== undefined && h.position > knownAt.position) return false;
  // Compared as an instant, as the stores compare recordedAt with the bound.
  if (
    knownAt?.recordedAt !== undefined &&
    h.lastRecordedAt !== null &&
    Date.parse(h.lastRecordedAt) > Date.parse(knownAt.recordedAt)
  )
    return false;
  return true;
};

/** The first event a read from `position` gives (within the bound), or undefined. */
const firstFrom = async (
  store: EventStore,
  position: number,
  asKnownAt: AsKnownAt | undefined,
): Promise<RecordedEvent | undefined> => {
  for await (const event of store.readAll({
    fromPosition: position,
    pageSize: 1,
    ...(asKnownAt === undefined ? {} : { asKnownAt }),
  }))
    return event;
  return undefined;
};

/**
 * The first event a read from `position` gives (within the bound), or undefined: the event at `position`
 * itself when there is one, read with the bound narrowed to it (a store that reads a chunk then parses one
 * record, not a page of them: the file store parsed up to a MiB of records to give the first); else the
 * read as asked (a store with sparse positions may have none there).
 */
const eventAt = async (
  store: EventStore,
  position: number,
  asKnownAt: AsKnownAt | undefined,
): Promise<RecordedEvent | undefined> =>
  (await firstFrom(store, position, {
    ...asKnownAt,
    position: Math.min(position, asKnownAt?.position ?? position),
  })) ?? (await firstFrom(store, position, asKnownAt));

/**
 * Replays a store into a set of projections like `replay`, resuming from the latest checkpoint on the shelf
 * that fits, and writing checkpoints as it reads: a report on a ledger that grew by a few events since the
 * last one costs loading the checkpoint and reading those events. The results are exactly those of `replay`:
 * checkpoints are an optimisation, never a source of truth.
 *
 * - A checkpoint is used only when it was taken by the same projection set (`describe`), the same code
 *   (`codeVersion`) and the same reporting currency; when its body checks out (length and SHA-256); when the
 *   ledger's first event and the event at its position have the hashes it recorded (so that one taken on
 *   another history is never used); and, for a replay as of a moment, when every event it folded in is within
 *   the bounds (occurred by `effectiveAt`, recorded by `asKnownAt`): the latest one at or before them.
 *   Any other is ignored, with a notice when it looked usable; the replay goes on from an earlier one or from
 *   the start.
 * - Checkpoints are written only by a replay of the whole history (no effectiveAt, no asKnownAt), every
 *   `checkpointEvery` events read since the start or the checkpoint resumed from; a replay of fewer events
 *   writes none. A store whose head position is below `checkpointEvery` (a small ledger on a store with dense
 *   positions) is replayed plainly, without touching the shelf.
 */
export const replayWithCheckpoints = async <P extends ProjectionSet>(
  store: EventStore,
  projections: P,
  options: CheckpointedReplayOptions,
): Promise<CheckpointedReplayOutcome<P>> => {
  const every = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  if (!Number.isSafeInteger(every) || every < 1)
    throw new RangeError(`checkpointEvery: a whole number of events, at least 1 (got ${every})`);
  const { shelf, effectiveAt, asKnownAt, onNotice } = options;
  const replayOptions: ReplayOptions = {
    ...(effectiveAt === undefined ? {} : { effectiveAt }),
    ...(asKnownAt === undefined ? {} : { asKnownAt }),
    ...(options.reportingCurrency === undefined ? {} : { reportingCurrency: options.reportingCurrency }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.progressEvery === undefined ? {} : { progressEvery: options.progressEvery }),
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
  };
  const storeHead = await store.headPosition();
  // A small ledger: nothing to gain, and nothing to write.
  if (storeHead + 1 < every) {
    const outcome = await replay(store, projections, replayOptions);
    return { ...outcome, resumedFrom: null, checkpointsWritten: [] };
  }

  const codeVersion = options.codeVersion ?? projectionCodeVersion();
  const set = sha256(
    JSON.stringify([
      SHELVED_CHECKPOINT_FORMAT,
      options.describe,
      codeVersion,
      options.reportingCurrency ?? null,
    ]),
  ).slice(0, 32);
  const notice = (message: string): void => onNotice?.(message);
  const describeAt = (position: number): string => `the checkpoint at position ${position} in ${shelf.where}`;

  // The checkpoints of this set, newest first; a shelf that cannot be read (a directory without permission)
  // only costs the replay from the start.
  let positions: number[] = [];
  try {
    positions = [...(await shelf.positions(set))].sort((a, b) => b - a);
  } catch (error) {
    notice(
      `the checkpoints in ${shelf.where} cannot be read (${messageOf(error)}): replaying from the start`,
    );
  }
  /** The next checkpoint, newest first, of this code that fits the bounds: only its header is read. */
  let next = 0;
  const nextCandidate = async (): Promise<Header | undefined> => {
    while (next < positions.length) {
      const position = positions[next]!;
      next += 1;
      let text: string | undefined;
      try {
        text = await shelf.header(set, position);
      } catch (error) {
        notice(`${describeAt(position)} cannot be read (${messageOf(error)}): ignored`);
        continue;
      }
      if (text === undefined) continue; // removed meanwhile (another report pruned it)
      const h = parseHeader(text, position);
      if (h === undefined) {
        notice(`${describeAt(position)} is not readable: ignored`);
        continue;
      }
      if (h.set === set && h.codeVersion === codeVersion && fitsBounds(h, effectiveAt, asKnownAt)) return h;
    }
    return undefined;
  };

  let session: ProjectionSession<P> | undefined;
  let resumed: Header | undefined;
  let genesisHash: string | undefined;
  for (let h = await nextCandidate(); h !== undefined; h = await nextCandidate()) {
    genesisHash ??= (await eventAt(store, 0, undefined))?.hash;
    if (genesisHash !== h.genesisHash) {
      notice(`${describeAt(h.position)} was taken on another ledger (its first event differs): ignored`);
      continue;
    }
    const there = await eventAt(store, h.position, asKnownAt);
    if (there === undefined || there.position !== h.position || there.hash !== h.hash) {
      notice(`${describeAt(h.position)} does not match this ledger's event there: ignored`);
      continue;
    }
    let text: string | undefined;
    try {
      text = await shelf.body(set, h.position);
    } catch (error) {
      notice(`${describeAt(h.position)} cannot be read (${messageOf(error)}): ignored`);
      continue;
    }
    if (text === undefined) continue; // removed meanwhile (another report pruned it)
    if (text.length !== h.bodyLength || crc32OfText(text) !== h.bodyCrc32) {
      notice(`${describeAt(h.position)} is corrupt (its checksum does not match): ignored`);
      continue;
    }
    try {
      const body = JSON.parse(text) as Body;
      const checkpoint: Checkpoint = {
        format: CHECKPOINT_FORMAT,
        position: h.position,
        eventsRead: h.eventsRead,
        eventsApplied: h.eventsApplied,
        lastOccurredAt: h.lastOccurredAt,
        // Taken with no bound; valid within these ones (fitsBounds), so resumed as if taken with them.
        effectiveAt: effectiveAt ?? null,
        reportingCurrency: options.reportingCurrency ?? null,
        reference: body.reference,
        states: body.states,
      };
      session = createSession(projections, { ...replayOptions, store }, checkpoint);
      resumed = h;
      break;
    } catch (error) {
      notice(`${describeAt(h.position)} cannot be loaded (${messageOf(error)}): ignored`);
    }
  }
  session ??= createSession(projections, { ...replayOptions, store });

  // Only a replay of the whole history writes: its state at a position is what any later report can resume.
  let writing = options.write !== false && effectiveAt === undefined && asKnownAt === undefined;
  let lastRecordedAt = resumed?.lastRecordedAt ?? null;
  let lastRecordedMs = lastRecordedAt === null ? -Infinity : Date.parse(lastRecordedAt);
  let sinceCheckpoint = 0;
  const written: number[] = [];

  const write = async (event: RecordedEvent): Promise<void> => {
    const saved = session!.checkpoint();
    const body = JSON.stringify({ reference: saved.reference, states: saved.states } satisfies Body);
    const header: Header = {
      format: SHELVED_CHECKPOINT_FORMAT,
      set,
      codeVersion,
      position: saved.position,
      hash: event.hash,
      genesisHash: genesisHash!,
      eventsRead: saved.eventsRead,
      eventsApplied: saved.eventsApplied,
      lastOccurredAt: saved.lastOccurredAt,
      lastRecordedAt,
      bodyLength: body.length,
      bodyCrc32: crc32OfText(body),
    };
    try {
      await shelf.put(set, saved.position, JSON.stringify(header), body);
      written.push(saved.position);
    } catch (error) {
      // A shelf that cannot be written (a read-only disk) leaves the report as it would be without it.
      notice(`no checkpoint can be written in ${shelf.where} (${messageOf(error)}): going on without`);
      writing = false;
    }
  };

  const head = asKnownAt?.position === undefined ? storeHead : Math.min(storeHead, asKnownAt.position);
  const startAt = session.position + 1;
  const total = Math.max(0, head - startAt + 1);
  const progressEvery = options.progressEvery ?? 10_000;
  const onProgress = options.onProgress;
  let done = 0;
  const progress = (): void =>
    onProgress?.({ done, total: Math.max(total, done), position: session!.position, head });
  progress();
  for await (const event of store.readAll({
    fromPosition: startAt,
    ...(asKnownAt === undefined ? {} : { asKnownAt }),
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
  })) {
    if (event.type === 'ConversionReversed') await session.prepare(event);
    session.handle(event);
    done += 1;
    if (onProgress !== undefined && done % progressEvery === 0) progress();
    if (!writing) continue;
    // A replay from the start meets the ledger's first event first.
    genesisHash ??= event.hash;
    const recordedMs = Date.parse(event.recordedAt);
    if (recordedMs > lastRecordedMs) {
      lastRecordedMs = recordedMs;
      lastRecordedAt = event.recordedAt;
    }
    sinceCheckpoint += 1;
    if (sinceCheckpoint >= every) {
      sinceCheckpoint = 0;
      await write(event);
    }
  }
  progress();
  if (written.length > 0)
    await prune(shelf, set).catch((error: unknown) =>
      notice(`old checkpoints in ${shelf.where} cannot be removed (${messageOf(error)})`),
    );
  const final = session;
  return {
    results: final.results(),
    position: final.position,
    eventsRead: final.eventsRead,
    eventsApplied: final.eventsApplied,
    checkpoint: () => final.checkpoint(),
    resumedFrom: resumed?.position ?? null,
    checkpointsWritten: written,
  };
};

/** Keeps the newest KEEP checkpoints of a set. */
const prune = async (shelf: CheckpointShelf, set: string): Promise<void> => {
  const positions = [...(await shelf.positions(set))].sort((a, b) => b - a);
  for (const position of positions.slice(KEEP)) await shelf.remove(set, position);
};
