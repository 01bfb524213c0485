import { canonicalJson, decodeStoredEvent, isEventType } from '@partner-ledger/events';
import type { LedgerEvent, RecordedEvent } from '@partner-ledger/events';
import { eachEvent } from '@partner-ledger/store';
import type { AsKnownAt, EventStore } from '@partner-ledger/store';
import type { JsonValue } from './json';
import type { ProjectionSet, ResultsOf } from './projection';
import { REFERENCE_EVENT_TYPES, createReference } from './reference';
import type { ConversionInfo, ReferenceData } from './reference';

/** The format tag of a projection checkpoint: a checkpoint of another format is refused. */
export const CHECKPOINT_FORMAT = 'partner-ledger/projection-checkpoint@1';

/**
 * A projection set's state at a position of the log: everything needed to resume exactly there. Position and
 * states are one document, saved together, so that a restart can neither skip nor repeat an event.
 */
export interface Checkpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  /** The global position of the last event read (applied or filtered out); -1 before the first. */
  readonly position: number;
  readonly eventsRead: number;
  readonly eventsApplied: number;
  /** The latest occurredAt among the events applied. */
  readonly lastOccurredAt: string | null;
  /** The replay options that shape the state: a checkpoint resumes only with the same ones. */
  readonly effectiveAt: string | null;
  readonly reportingCurrency: string | null;
  readonly reference: JsonValue;
  /** Each projection's saved state, by its name in the set. */
  readonly states: Readonly<Record<string, { readonly projection: string; readonly state: JsonValue }>>;
}

/** A checkpoint that does not fit the projections or options it is resumed with. */
export class CheckpointMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointMismatchError';
  }
}

/** Options that decide what a state contains. */
export interface FoldOptions {
  /** Effective at T: only events with occurredAt <= T are applied. Results are computed as of T. */
  readonly effectiveAt?: string;
  /** Money in a reporting currency uses this one; default: the currency of the first ProgramConfigured. */
  readonly reportingCurrency?: string;
}

/** What a session reads, besides the events it is fed, and the bound it reads them within. */
export interface SessionOptions extends FoldOptions {
  /**
   * Where the conversion a ConversionReversed reverses is read from (the reversal's stream, up to the
   * reversal): no conversion is kept in memory. Without it, `prepare` refuses reversals, and a projection
   * that asks for the reversed conversion (revenue, health) fails; others (balances, statements) do not ask.
   */
  readonly store?: EventStore;
  /** The bound of the replay the session is fed from: what is read from `store` keeps to it too. */
  readonly asKnownAt?: AsKnownAt;
}

/** An in-progress fold of a projection set: feed it events in global order, read results or a checkpoint. */
export interface ProjectionSession<P extends ProjectionSet> {
  /**
   * Reads what the event needs from the store before it is handled: for a ConversionReversed, the conversion
   * it reverses (from the reversal's stream, only events before the reversal and within `asKnownAt` and
   * `effectiveAt`, exactly those a replay of the prefix has applied). Resolves at once for any other event.
   * `handle` is synchronous, so a caller awaits this first (replay and followLive do).
   */
  prepare(event: RecordedEvent): Promise<void>;
  /**
   * Decodes the event once and applies it to every projection, unless it is at or before the position
   * already reached (a redelivery: ignored, so nothing is counted twice) or after `effectiveAt`. A caller
   * that has decoded this very event already (`decodeEvent` or `decodeStoredEvent`, as verify's invariants
   * replay does) passes it as `decoded`, and it is not decoded again.
   */
  handle(event: RecordedEvent, decoded?: LedgerEvent): void;
  /** The result of every projection at the position reached. */
  results(): ResultsOf<P>;
  /** A checkpoint at the position reached, to resume from later. */
  checkpoint(): Checkpoint;
  readonly position: number;
  readonly eventsRead: number;
  readonly eventsApplied: number;
  readonly reference: ReferenceData;
}

/** Starts a fold of a projection set, from the start or from a checkpoint: feed it events in global order. */
export const createSession = <P extends ProjectionSet>(
  projections: P,
  options: SessionOptions = {},
  from?: Checkpoint,
): ProjectionSession<P> => {
  const names = Object.keys(projections).sort();
  const effectiveAt = options.effectiveAt ?? null;
  const reportingCurrency = options.reportingCurrency ?? null;
  if (from !== undefined) checkFits(from, projections, names, effectiveAt, reportingCurrency);
  const reference = createReference(reportingCurrency, from?.reference);
  const list = names.map((name) => projections[name]!);
  const states: unknown[] = names.map((name, i) =>
    from === undefined ? list[i]!.initialState() : list[i]!.load(from.states[name]!.state),
  );
  // Which projections see each event type. A type that neither a projection nor the reference data needs is
  // not decoded at all: a balances replay skips the clicks that make up most of a log.
  const routes = new Map<string, number[]>();
  const routeOf = (type: string): number[] => {
    let route = routes.get(type);
    if (route === undefined) {
      route = [];
      for (let i = 0; i < list.length; i += 1) {
        const wanted = list[i]!.eventTypes;
        if (wanted === undefined || (wanted as readonly string[]).includes(type)) route.push(i);
      }
      routes.set(type, route);
    }
    return route;
  };
  const referenceTypes = new Set<string>(REFERENCE_EVENT_TYPES);
  let position = from?.position ?? -1;
  let eventsRead = from?.eventsRead ?? 0;
  let eventsApplied = from?.eventsApplied ?? 0;
  let lastOccurredAt = from?.lastOccurredAt ?? null;
  const store = options.store;
  // Compared as an instant, as the stores do, so that any ISO 8601 form of the bound works.
  const knownAt =
    options.asKnownAt?.recordedAt === undefined ? undefined : Date.parse(options.asKnownAt.recordedAt);
  /** The reversal prepared last: its position, the event decoded once, and the conversion it reverses. */
  let prepared: {
    position: number;
    event: LedgerEvent;
    conversionId: string;
    info: ConversionInfo | undefined;
  } | null = null;

  const prepare = async (raw: RecordedEvent): Promise<void> => {
    if (raw.type !== 'ConversionReversed' || raw.position <= position) return;
    if (effectiveAt !== null && raw.occurredAt > effectiveAt) return;
    // No projection of the set sees reversals: nothing to read.
    if (routeOf(raw.type).length === 0) return;
    if (store === undefined)
      throw new Error('A session without a store cannot read the conversion a reversal reverses');
    const event = decodeStoredEvent(raw);
    if (event.type !== 'ConversionReversed')
      throw new Error(`Expected a ConversionReversed, got ${event.type}`);
    const conversionId = event.data.conversionId;
    let info: ConversionInfo | undefined;
    // Revisions are dense from 0: the events before the reversal in its stream are its first `revision`.
    if (raw.revision > 0)
      for await (const stored of store.readStream(raw.stream, { maxCount: raw.revision })) {
        // Only what the replay of this prefix applied to the reference data: before the reversal (so within
        // the position bound), recorded by the known-at bound, effective by effectiveAt.
        if (stored.position >= raw.position) break;
        if (stored.type !== 'ConversionAttributed' && stored.type !== 'ConversionReversed') continue;
        if (knownAt !== undefined && Date.parse(stored.recordedAt) > knownAt) continue;
        if (effectiveAt !== null && stored.occurredAt > effectiveAt) continue;
        info = reference.foldConversion(info, conversionId, decodeStoredEvent(stored), stored.position);
      }
    prepared = { position: raw.position, event, conversionId, info };
  };

  const handle = (raw: RecordedEvent, decoded?: LedgerEvent): void => {
    if (raw.position <= position) return;
    position = raw.position;
    eventsRead += 1;
    if (effectiveAt !== null && raw.occurredAt > effectiveAt) {
      // The program's settings are not a fact of the effective past: a report as of a date before `init`
      // (or before the settings' effective date) still finds its reporting currency. Only the reference data
      // sees them; no projection counts them as applied.
      if (raw.type === 'ProgramConfigured') reference.apply(decoded ?? decodeStoredEvent(raw), raw.position);
      return;
    }
    eventsApplied += 1;
    if (lastOccurredAt === null || raw.occurredAt > lastOccurredAt) lastOccurredAt = raw.occurredAt;
    const route = routeOf(raw.type);
    // An unknown type is decoded anyway, so that the decoder reports it.
    if (route.length === 0 && !referenceTypes.has(raw.type) && isEventType(raw.type)) return;
    let event: LedgerEvent;
    if (prepared !== null && prepared.position === raw.position) {
      event = prepared.event;
      reference.reversing({ conversionId: prepared.conversionId, info: prepared.info });
      prepared = null;
    } else {
      event = decoded ?? decodeStoredEvent(raw);
      if (event.type === 'ConversionReversed')
        reference.reversing({ conversionId: event.data.conversionId, info: null });
    }
    try {
      for (let r = 0; r < route.length; r += 1) {
        const i = route[r]!;
        states[i] = list[i]!.apply(states[i], event, reference);
      }
    } finally {
      reference.reversing(null);
    }
    reference.apply(event, raw.position);
  };

  return {
    prepare,
    handle,
    results: () => {
      const context = { asOf: effectiveAt ?? lastOccurredAt, position, reference };
      const results: Record<string, unknown> = {};
      names.forEach((name, i) => {
        results[name] = list[i]!.result(states[i], context);
      });
      return results as ResultsOf<P>;
    },
    checkpoint: () => ({
      format: CHECKPOINT_FORMAT,
      position,
      eventsRead,
      eventsApplied,
      lastOccurredAt,
      effectiveAt,
      reportingCurrency,
      reference: reference.save(),
      states: Object.fromEntries(
        names.map((name, i) => [name, { projection: list[i]!.name, state: list[i]!.save(states[i]) }]),
      ),
    }),
    get position() {
      return position;
    },
    get eventsRead() {
      return eventsRead;
    },
    get eventsApplied() {
      return eventsApplied;
    },
    reference,
  };
};

const checkFits = (
  checkpoint: Checkpoint,
  projections: ProjectionSet,
  names: readonly string[],
  effectiveAt: string | null,
  reportingCurrency: string | null,
): void => {
  if (checkpoint.format !== CHECKPOINT_FORMAT)
    throw new CheckpointMismatchError(`Not a projection checkpoint (format ${String(checkpoint.format)})`);
  const saved = Object.keys(checkpoint.states).sort();
  if (saved.join('\u0000') !== names.join('\u0000'))
    throw new CheckpointMismatchError(
      `The checkpoint holds projections [${saved.join(', ')}], not [${names.join(', ')}]`,
    );
  for (const name of names) {
    const expected = projections[name]!.name;
    const actual = checkpoint.states[name]!.projection;
    if (expected !== actual)
      throw new CheckpointMismatchError(
        `The checkpoint's ${name} is a ${actual} projection, not ${expected}`,
      );
  }
  if (checkpoint.effectiveAt !== effectiveAt)
    throw new CheckpointMismatchError(
      `The checkpoint is effective at ${String(checkpoint.effectiveAt)}, not ${String(effectiveAt)}`,
    );
  if (checkpoint.reportingCurrency !== reportingCurrency)
    throw new CheckpointMismatchError(
      `The checkpoint reports in ${String(checkpoint.reportingCurrency)}, not ${String(reportingCurrency)}`,
    );
};

/** The checkpoint as canonical JSON (RFC 8785): the same state always gives the same bytes. */
export const serializeCheckpoint = (checkpoint: Checkpoint): string => canonicalJson(checkpoint);

/**
 * Reads a checkpoint from its JSON text; text that is not a projection checkpoint is a
 * CheckpointMismatchError.
 */
export const parseCheckpoint = (text: string): Checkpoint => {
  const parsed = JSON.parse(text) as Partial<Checkpoint> | null;
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    parsed.format !== CHECKPOINT_FORMAT ||
    typeof parsed.position !== 'number' ||
    typeof parsed.states !== 'object'
  )
    throw new CheckpointMismatchError('Not a projection checkpoint');
  return parsed as Checkpoint;
};

/** How far a replay has got, for a progress bar. */
export interface ReplayProgress {
  /** Events read so far (including those filtered out by effectiveAt). */
  readonly done: number;
  /**
   * How many events the replay will read in all, as far as known at its start: exact on stores whose
   * positions are dense (in-memory, file); on others (EventStoreDB) use position against head instead.
   */
  readonly total: number;
  /** The global position of the last event read, and of the last event to read. */
  readonly position: number;
  readonly head: number;
}

export interface ReplayOptions extends FoldOptions {
  /** As known at K: only events recorded by then (recordedAt <= K) and/or up to a global position. */
  readonly asKnownAt?: AsKnownAt;
  /** Resume from a checkpoint (catch up) instead of replaying from the start. */
  readonly from?: Checkpoint;
  /** Called as events are read, with how many are done of how many. */
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** Call onProgress every this many events (and once at the end). Default 10,000. */
  readonly progressEvery?: number;
  /** Passed to the store's readAll. */
  readonly pageSize?: number;
}

/** What `replay` returns: the results, where the replay stopped and how many events it read. */
export interface ReplayOutcome<P extends ProjectionSet> {
  readonly results: ResultsOf<P>;
  /** The global position of the last event read (-1 when none). */
  readonly position: number;
  readonly eventsRead: number;
  readonly eventsApplied: number;
  /** A checkpoint at the position reached, to catch up from later. */
  checkpoint(): Checkpoint;
}

/**
 * Replays a store into a set of projections in one pass over `readAll`, decoding each event once. With
 * `from`, catches up from a checkpoint instead: the result is the same as replaying from the start.
 */
export const replay = async <P extends ProjectionSet>(
  store: EventStore,
  projections: P,
  options: ReplayOptions = {},
): Promise<ReplayOutcome<P>> => {
  const session = createSession(
    projections,
    {
      ...options,
      store,
    },
    options.from,
  );
  const storeHead = await store.headPosition();
  const head =
    options.asKnownAt?.position === undefined ? storeHead : Math.min(storeHead, options.asKnownAt.position);
  const startAt = session.position + 1;
  const total = Math.max(0, head - startAt + 1);
  const every = options.progressEvery ?? 10_000;
  const onProgress = options.onProgress;
  let done = 0;
  const report = (): void =>
    onProgress?.({ done, total: Math.max(total, done), position: session.position, head });
  report();
  const step = (event: RecordedEvent): boolean => {
    session.handle(event);
    done += 1;
    if (onProgress !== undefined && done % every === 0) report();
    return true;
  };
  // Page by page when the store offers pages (no promise per event); a reversal awaits its conversion.
  await eachEvent(
    store,
    {
      fromPosition: startAt,
      ...(options.asKnownAt === undefined ? {} : { asKnownAt: options.asKnownAt }),
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    },
    (event) =>
      event.type === 'ConversionReversed' ? session.prepare(event).then(() => step(event)) : step(event),
  );
  report();
  return {
    results: session.results(),
    position: session.position,
    eventsRead: session.eventsRead,
    eventsApplied: session.eventsApplied,
    checkpoint: () => session.checkpoint(),
  };
};
