import { BACKWARDS, END, EventStoreDBClient, FORWARDS, START } from '@eventstore/db-client';
import type { ReadStreamOptions as ClientReadStreamOptions } from '@eventstore/db-client';
import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import {
  AppendConditionFailedError,
  StoreClosedError,
  StoreCorruptionError,
  WrongExpectedRevisionError,
  assertAppendable,
  assertTagsAndCondition,
  chainEvents,
  checkExpectedRevision,
  classifyAppend,
  knownAtFilter,
} from '@partner-ledger/store';
import type {
  ActualRevision,
  AppendCondition,
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  SubscriptionMessage,
} from '@partner-ledger/store';
import type { ResubscribeOptions } from './backoff';
import { DEFAULT_CHECKPOINT_STREAM_PREFIX, createCheckpoints } from './checkpoints';
import type { SubscriptionCheckpoints } from './checkpoints';
import type { EventStoreDbClient } from './client';
import { parseConnectionString } from './connection';
import { selectionFromOptions, selects, streamNaming } from './filters';
import { DEFAULT_ID_CLAIM_STREAM_PREFIX, createIdClaims } from './id-claims';
import { fromServerEvent, hasLedgerEnvelope, tagsOfRecord, toEventData } from './metadata';
import { toPortPosition } from './positions';
import { findHead, readAllRecords, resolveStart } from './reading';
import {
  fromClientCurrentRevision,
  fromNextExpectedRevision,
  isWrongExpectedVersion,
  toClientExpectedRevision,
} from './revisions';
import { createStreamIndexes, readServerStream } from './stream-index';
import { subscribeToLedger } from './subscription';

/** How the adapter reaches the server: a connection string, or a client the application made. */
export type EventStoreDbConnection =
  | { readonly connectionString: string }
  | {
      readonly client: EventStoreDbClient;
      /** Whether close() disposes of the client too. Default false: whoever made it, owns it. */
      readonly disposeClientOnClose?: boolean;
    };

/**
 * The options of the EventStoreDB / KurrentDB store beside its connection: namespace and selection, page
 * size, cache, retries, resubscription, checkpoints and id claims.
 */
export interface EventStoreDbStoreOptions {
  /**
   * Keeps the ledger's streams under this prefix on the server (`<namespace><stream>`) and reads only
   * them: several ledgers, or a ledger and other applications, share one database without seeing each
   * other's events. Stream names in the ledger (and in its hashes) do not include it.
   */
  readonly namespace?: string;
  /**
   * The ledger's streams, for a database shared with other applications: only events in streams whose
   * names start with one of these prefixes are read by readAll, subscribe and headPosition (the server
   * filters subscriptions on them). Default: every event written by this adapter.
   */
  readonly streamPrefixes?: readonly string[];
  /** Like streamPrefixes, on event types. Give one of namespace, streamPrefixes, eventTypePrefixes at most. */
  readonly eventTypePrefixes?: readonly string[];
  /** How many records each read of $all fetches. Default 500. */
  readonly pageSize?: number;
  /** How many streams the adapter remembers between appends (their last event and ids). Default 1,000. */
  readonly streamCacheSize?: number;
  /**
   * How many times an append with expected revision `any` or `streamExists` is chained again when another
   * writer appended to the stream between the adapter's read of its last event and its write. Default 5.
   */
  readonly appendRetries?: number;
  /** Backoff and limits of the subscriptions' automatic resubscription. */
  readonly resubscribe?: ResubscribeOptions;
  /** The prefix of the streams that keep subscription checkpoints. Default `partner-ledger-checkpoint-`. */
  readonly checkpointStreamPrefix?: string;
  /**
   * Whether an id already used in another stream is refused, as the port requires. EventStoreDB has no
   * index by event id, so the adapter claims each new id in a stream of its own before appending it: one
   * more small write per event. Turn it off only if ids can never be reused across streams. Default true.
   */
  readonly uniqueIdsAcrossStreams?: boolean;
  /** The prefix of the streams that hold id claims. Default `partner-ledger-id-`. */
  readonly idClaimStreamPrefix?: string;
}

/** The EventStore port on EventStoreDB or KurrentDB, and what only this store has. */
export interface EventStoreDbStore extends EventStore {
  /** Positions of named subscriptions, kept in streams of their own. */
  readonly checkpoints: SubscriptionCheckpoints;
}

const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_STREAM_CACHE_SIZE = 1000;
const DEFAULT_APPEND_RETRIES = 5;

const checkInteger = (name: string, value: number | undefined, min: number): void => {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
};

const connect = (connection: EventStoreDbConnection): { client: EventStoreDbClient; owned: boolean } => {
  if ('client' in connection)
    return { client: connection.client, owned: connection.disposeClientOnClose === true };
  parseConnectionString(connection.connectionString);
  return { client: EventStoreDBClient.connectionString(connection.connectionString.trim()), owned: true };
};

/**
 * The store on EventStoreDB (20.10+ protocol; positions on stream reads need 22.10 or later) or KurrentDB.
 * See docs/stores.md for what it guarantees and what it does not.
 */
export const createEventStoreDbStore = (
  connection: EventStoreDbConnection & EventStoreDbStoreOptions,
): EventStoreDbStore => {
  const {
    pageSize = DEFAULT_PAGE_SIZE,
    streamCacheSize = DEFAULT_STREAM_CACHE_SIZE,
    appendRetries = DEFAULT_APPEND_RETRIES,
    resubscribe = {},
    checkpointStreamPrefix = DEFAULT_CHECKPOINT_STREAM_PREFIX,
    uniqueIdsAcrossStreams = true,
    idClaimStreamPrefix = DEFAULT_ID_CLAIM_STREAM_PREFIX,
  } = connection;
  checkInteger('pageSize', pageSize, 1);
  checkInteger('appendRetries', appendRetries, 0);
  const selection = selectionFromOptions(connection);
  const select = selects(selection);
  const naming = streamNaming(connection.namespace);
  const { client, owned } = connect(connection);
  const indexes = createStreamIndexes(client, naming, streamCacheSize);
  const idClaims = uniqueIdsAcrossStreams
    ? createIdClaims(client, `${idClaimStreamPrefix}${connection.namespace ?? ''}`)
    : undefined;
  const closing = new AbortController();

  const assertOpen = (): void => {
    if (closing.signal.aborted) throw new StoreClosedError();
  };

  /** The stored events at the given revisions of a stream (undefined where the revision is). */
  const storedAt = async (
    stream: string,
    revisions: readonly (number | undefined)[],
  ): Promise<(RecordedEvent | undefined)[]> => {
    const known = revisions.filter((revision): revision is number => revision !== undefined);
    if (known.length === 0) return revisions.map(() => undefined);
    const first = Math.min(...known);
    const byRevision = new Map<number, RecordedEvent>();
    for await (const event of readServerStream(client, naming, stream, {
      fromRevision: BigInt(first),
      maxCount: Math.max(...known) - first + 1,
      requiresLeader: true,
    })) {
      byRevision.set(event.revision, event);
    }
    return revisions.map((revision) => (revision === undefined ? undefined : byRevision.get(revision)));
  };

  /**
   * Checks an append condition by reading the server's log after `after`: an event of this ledger tagged
   * with one of the condition's tags fails it. NOT atomic with the write that follows: the server has no
   * check across streams, so another process's tagged append that lands between this read and the write is
   * not seen (docs/stores.md, "Append conditions"). Within this store object the window is closed by
   * `tagged` below.
   */
  const checkCondition = async (stream: string, condition: AppendCondition): Promise<void> => {
    const wanted = new Set(condition.failIfTagged);
    // `after` is normally an event's position (or -1), where a read can start; any other number is read
    // from the beginning, skipping what is at or before it.
    const { start, last } = await resolveStart(client, condition.after + 1).catch((error: unknown) => {
      if (!(error instanceof RangeError)) throw error;
      return resolveStart(client, 0);
    });
    if (last === undefined || toPortPosition(last.position) <= condition.after) return;
    for await (const record of readAllRecords(client, start, pageSize)) {
      const position = toPortPosition(record.position);
      if (position <= condition.after || !select(record) || !hasLedgerEnvelope(record)) continue;
      const tag = tagsOfRecord(record).find((t) => wanted.has(t));
      if (tag !== undefined) throw new AppendConditionFailedError(stream, tag, position, condition.after);
    }
  };

  /**
   * Appends with tags or a condition go one at a time through this store object, so that between one's
   * check and its write no other tagged append of this process lands: one writer process (however many
   * ledger instances share its store object) is safe. Appends with neither skip the queue.
   */
  let taggedQueue: Promise<unknown> = Promise.resolve();
  const append = (
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> => {
    if (options.tags === undefined && options.condition === undefined)
      return appendNow(stream, events, options);
    const result = taggedQueue.then(
      () => appendNow(stream, events, options),
      () => appendNow(stream, events, options),
    );
    taggedQueue = result.catch(() => undefined);
    return result;
  };

  const appendNow = async (
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> => {
    assertOpen();
    const expectedRevision = options.expectedRevision ?? 'any';
    assertAppendable(stream, events, expectedRevision);
    const { tags = [], condition } = options;
    if (options.tags !== undefined || condition !== undefined) assertTagsAndCondition(stream, options);
    let claimed = false;
    for (let attempt = 0; ; attempt += 1) {
      // Read what the stream holds now (only what was written since the adapter last looked).
      const { state } = await indexes.refresh(stream);
      const decision = classifyAppend(
        stream,
        events,
        await storedAt(
          stream,
          events.map((event) => state.revisionsById.get(event.id)),
        ),
      );
      if (decision.kind === 'retry') {
        const last = decision.stored.reduce((a, b) => (b.position > a.position ? b : a));
        return {
          stream,
          events: decision.stored,
          nextExpectedRevision: last.revision,
          lastPosition: last.position,
          alreadyStored: true,
        };
      }
      checkExpectedRevision(stream, expectedRevision, state.last?.revision ?? 'noStream');
      if (condition !== undefined) await checkCondition(stream, condition);
      if (idClaims !== undefined && !claimed) {
        await idClaims.claim(
          stream,
          events.map((event) => event.id),
        );
        claimed = true;
      }
      const chained = chainEvents(stream, state.last, events);
      // The adapter always sends the exact revision it chained onto, whatever the caller expected: a
      // concurrent writer makes the server refuse the write instead of letting two events claim the
      // same predecessor.
      let actual: ActualRevision | undefined;
      try {
        const result = await client.appendToStream(
          naming.toServer(stream),
          chained.map((event) => toEventData(event, tags)),
          {
            expectedRevision: toClientExpectedRevision(state.last?.revision ?? 'noStream'),
            requiresLeader: true,
          },
        );
        // A client made with throwOnAppendFailure=false answers a conflict instead of throwing it.
        if (!result.success) actual = fromNextExpectedRevision(result.nextExpectedRevision);
      } catch (error) {
        if (!isWrongExpectedVersion(error)) throw error;
        actual = fromClientCurrentRevision(error.actualVersion);
      }
      if (actual === undefined) {
        const first = (chained[0] as { revision: number }).revision;
        const { collected } = await indexes.refresh(stream, first);
        const stored = collected.slice(0, chained.length);
        const intact =
          stored.length === chained.length &&
          stored.every(
            (event, index) => event.id === chained[index]?.id && event.hash === chained[index]?.hash,
          );
        if (!intact) {
          throw new StoreCorruptionError(
            `stream ${JSON.stringify(stream)}: the events read back after the append are not the ones written`,
          );
        }
        const last = stored[stored.length - 1] as RecordedEvent;
        return {
          stream,
          events: stored,
          nextExpectedRevision: last.revision,
          lastPosition: last.position,
          alreadyStored: false,
        };
      }
      // Another writer got there between the read and the write. The next turn reads its events and runs
      // the checks again: an exact expectation then fails with the caller's revision and the actual one,
      // and a retry that raced with its own first attempt is answered as already stored.
      if (attempt >= appendRetries) throw new WrongExpectedRevisionError(stream, expectedRevision, actual);
    }
  };

  async function* readStream(stream: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    assertOpen();
    const { direction = 'forwards', fromRevision, maxCount, asKnownAt } = options;
    checkInteger('fromRevision', fromRevision, 0);
    checkInteger('maxCount', maxCount, 0);
    const known = knownAtFilter(asKnownAt);
    if (maxCount === 0) return;
    const forwards = direction === 'forwards';
    const clientOptions: ClientReadStreamOptions = {
      direction: forwards ? FORWARDS : BACKWARDS,
      fromRevision: fromRevision === undefined ? (forwards ? START : END) : BigInt(fromRevision),
      // With an as-known-at bound, the count applies to the events that pass it: the adapter counts.
      ...(maxCount !== undefined && asKnownAt === undefined ? { maxCount } : {}),
    };
    const bound = asKnownAt?.position;
    let count = 0;
    for await (const event of readServerStream(client, naming, stream, clientOptions)) {
      if (!known(event)) {
        // Forwards, positions only grow: nothing further can be known by the bound.
        if (forwards && bound !== undefined && event.position > bound) return;
        continue;
      }
      yield event;
      count += 1;
      if (maxCount !== undefined && count >= maxCount) return;
    }
  }

  async function* readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    assertOpen();
    const { fromPosition = 0, pageSize: size = pageSize, asKnownAt } = options;
    checkInteger('fromPosition', fromPosition, 0);
    checkInteger('pageSize', size, 1);
    const known = knownAtFilter(asKnownAt);
    const { start, last } = await resolveStart(client, fromPosition);
    if (last === undefined) return;
    // The log is read up to its end when the read starts (and no further than the as-known-at bound).
    const end = Math.min(toPortPosition(last.position), asKnownAt?.position ?? Number.MAX_SAFE_INTEGER);
    for await (const record of readAllRecords(client, start, size)) {
      assertOpen();
      const position = toPortPosition(record.position);
      if (position > end) return;
      if (position < fromPosition || !select(record)) continue;
      const event = fromServerEvent(record, record.position, naming.fromServer(record.streamId));
      if (known(event)) yield event;
    }
  }

  const subscribe = (options: SubscribeOptions = {}): AsyncGenerator<SubscriptionMessage> =>
    subscribeToLedger(
      { client, selection, select, naming, pageSize, resubscribe, closed: closing.signal },
      options,
    );

  return {
    append,
    readStream,
    readAll,
    subscribe,
    headPosition: async () => {
      assertOpen();
      const { head } = await findHead(client, select, pageSize);
      return head === undefined ? -1 : toPortPosition(head.position);
    },
    close: async () => {
      if (closing.signal.aborted) return;
      closing.abort();
      if (owned) await client.dispose();
    },
    checkpoints: createCheckpoints(
      client,
      `${checkpointStreamPrefix}${connection.namespace ?? ''}`,
      assertOpen,
    ),
  };
};
