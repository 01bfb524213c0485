import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import {
  assertAppendable,
  assertTagsAndCondition,
  chainEvents,
  checkExpectedRevision,
  checkIntegerOption,
  classifyAppend,
  createTagPositions,
  knownAtFilter,
} from './append-rules';
import { StoreClosedError } from './errors';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  SubscriptionMessage,
} from './port';

export interface InMemoryStoreOptions {
  /** How many events readAll hands out between two pauses, when the caller does not say. Default 500. */
  readonly defaultPageSize?: number;
}

/**
 * Direct access to the stored records, for tests that play an attacker with write access to the storage
 * (the contract suite's tamper tests). Nothing checks what is written here, which is the point. Never
 * part of the package's API.
 */
export interface InMemoryTampering {
  /** Replaces the data of the event at `position`; its stored hash is left as it was. */
  editEventData(position: number, data: unknown): void;
  /** Removes the event at `position`; later events move one position earlier. */
  deleteEvent(position: number): void;
  /** Exchanges the events at two positions; each takes the position of its new place. */
  swapEvents(a: number, b: number): void;
  /** Stores `event` at `position`; the event that was there and those after move one position later. */
  insertEvent(position: number, event: RecordedEvent): void;
  /** Puts `event` in the place of the event at `position`, exactly as given (its position field too). */
  replaceEvent(position: number, event: RecordedEvent): void;
}

interface StreamState {
  /** The stream's events by revision. */
  readonly events: RecordedEvent[];
}

const DEFAULT_PAGE_SIZE = 500;

/** Lets the event loop run between pages, so that a long read does not starve timers and I/O. */
const pause = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The store and its tampering hooks; `createInMemoryStore` hands out only the store. */
export const createInMemoryStoreWithTampering = (
  options: InMemoryStoreOptions = {},
): { readonly store: EventStore; readonly tampering: InMemoryTampering } => {
  const defaultPageSize = options.defaultPageSize ?? DEFAULT_PAGE_SIZE;
  checkIntegerOption('defaultPageSize', defaultPageSize, 1);

  /** Every event in global order: an event's position is its index. */
  let log: RecordedEvent[] = [];
  let streams = new Map<string, StreamState>();
  let byId = new Map<string, RecordedEvent>();
  /** Where each tag was last stored, for append conditions (the store starts empty: floor -1). */
  const tagPositions = createTagPositions(-1);
  /** Subscriptions waiting for the next append (or for close). */
  const waiting = new Set<() => void>();
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new StoreClosedError();
  };

  const wakeSubscriptions = (): void => {
    const wake = [...waiting];
    waiting.clear();
    wake.forEach((resolve) => resolve());
  };

  // Everything from the checks to the write runs without an await, so an append is atomic and two appends
  // cannot both pass the same expected-revision check or the same append condition.
  const append = async (
    stream: string,
    events: readonly NewEvent[],
    appendOptions: AppendOptions = {},
  ): Promise<AppendResult> => {
    assertOpen();
    const expectedRevision = appendOptions.expectedRevision ?? 'any';
    assertAppendable(stream, events, expectedRevision);
    const { tags, condition } = appendOptions;
    if (tags !== undefined || condition !== undefined) assertTagsAndCondition(stream, appendOptions);
    const decision = classifyAppend(
      stream,
      events,
      events.map((event) => byId.get(event.id)),
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
    const state = streams.get(stream);
    const previous = state?.events[state.events.length - 1];
    checkExpectedRevision(stream, expectedRevision, previous?.revision ?? 'noStream');
    if (condition !== undefined) tagPositions.check(stream, condition);
    const firstPosition = log.length;
    const recorded = chainEvents(stream, previous, events).map((event, index): RecordedEvent =>
      Object.freeze({ ...event, position: firstPosition + index }),
    );
    const target = state ?? { events: [] };
    if (state === undefined) streams.set(stream, target);
    for (const event of recorded) {
      log.push(event);
      target.events.push(event);
      byId.set(event.id, event);
    }
    const last = recorded[recorded.length - 1] as RecordedEvent;
    if (tags !== undefined && tags.length > 0) tagPositions.record(tags, last.position);
    wakeSubscriptions();
    return {
      stream,
      events: recorded,
      nextExpectedRevision: last.revision,
      lastPosition: last.position,
      alreadyStored: false,
    };
  };

  async function* readStream(
    stream: string,
    readOptions: ReadStreamOptions = {},
  ): AsyncGenerator<RecordedEvent> {
    assertOpen();
    const { direction = 'forwards', fromRevision, maxCount, asKnownAt } = readOptions;
    checkIntegerOption('fromRevision', fromRevision, 0);
    checkIntegerOption('maxCount', maxCount, 0);
    const known = knownAtFilter(asKnownAt);
    const events = streams.get(stream)?.events ?? [];
    const limit = maxCount ?? Number.POSITIVE_INFINITY;
    // The stream is read as it is now: events appended while the caller iterates are not included.
    const end = events.length;
    let count = 0;
    if (direction === 'forwards') {
      for (let revision = fromRevision ?? 0; revision < end && count < limit; revision += 1) {
        const event = events[revision] as RecordedEvent;
        if (!known(event)) continue;
        count += 1;
        yield event;
      }
    } else {
      for (
        let revision = Math.min(fromRevision ?? end - 1, end - 1);
        revision >= 0 && count < limit;
        revision -= 1
      ) {
        const event = events[revision] as RecordedEvent;
        if (!known(event)) continue;
        count += 1;
        yield event;
      }
    }
  }

  async function* readAll(readOptions: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    assertOpen();
    const { fromPosition = 0, pageSize = defaultPageSize, asKnownAt } = readOptions;
    checkIntegerOption('fromPosition', fromPosition, 0);
    checkIntegerOption('pageSize', pageSize, 1);
    const known = knownAtFilter(asKnownAt);
    // The log is read up to its head when the read starts (and no further than asKnownAt.position).
    const end = Math.min(log.length, asKnownAt?.position === undefined ? log.length : asKnownAt.position + 1);
    for (let pageStart = fromPosition; pageStart < end; pageStart += pageSize) {
      if (pageStart > fromPosition) await pause();
      assertOpen();
      const pageEnd = Math.min(pageStart + pageSize, end);
      for (let position = pageStart; position < pageEnd; position += 1) {
        const event = log[position] as RecordedEvent;
        if (known(event)) yield event;
      }
    }
  }

  async function* subscribe(subscribeOptions: SubscribeOptions = {}): AsyncGenerator<SubscriptionMessage> {
    assertOpen();
    const { fromPosition = 0, signal } = subscribeOptions;
    checkIntegerOption('fromPosition', fromPosition, 0);
    // The cursor walks the log itself, so catch-up and live delivery are one loop: an event appended while
    // the subscriber catches up is simply read later, never lost and never delivered twice.
    let cursor = fromPosition;
    let caughtUp = false;
    while (signal?.aborted !== true) {
      assertOpen();
      if (cursor < log.length) {
        yield { kind: 'event', event: log[cursor] as RecordedEvent };
        cursor += 1;
        continue;
      }
      if (!caughtUp) {
        caughtUp = true;
        yield { kind: 'caughtUp', position: log.length - 1 };
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          waiting.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        waiting.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  const store: EventStore = {
    append,
    readStream,
    readAll,
    subscribe,
    headPosition: async () => {
      assertOpen();
      return log.length - 1;
    },
    close: async () => {
      closed = true;
      wakeSubscriptions();
    },
  };

  /**
   * Rebuilds the indexes from a tampered log, as a store reading its storage would; positions are those of
   * the new places unless `keepPositions` (then whatever the records claim is read back).
   */
  const rebuild = (next: RecordedEvent[], keepPositions = false): void => {
    log = keepPositions
      ? next
      : next.map((event, position) => (event.position === position ? event : { ...event, position }));
    streams = new Map();
    byId = new Map();
    for (const event of log) {
      const state = streams.get(event.stream) ?? { events: [] };
      streams.set(event.stream, state);
      state.events.push(event);
      byId.set(event.id, event);
    }
  };
  const at = (position: number): RecordedEvent => {
    const event = log[position];
    if (event === undefined) throw new RangeError(`no event at position ${position}`);
    return event;
  };
  const tampering: InMemoryTampering = {
    editEventData: (position, data) => {
      const next = [...log];
      next[position] = { ...at(position), data };
      rebuild(next);
    },
    deleteEvent: (position) => {
      at(position);
      rebuild(log.filter((_, index) => index !== position));
    },
    swapEvents: (a, b) => {
      const next = [...log];
      next[a] = at(b);
      next[b] = at(a);
      rebuild(next);
    },
    insertEvent: (position, event) => {
      if (position < 0 || position > log.length) throw new RangeError(`cannot insert at ${position}`);
      rebuild([...log.slice(0, position), event, ...log.slice(position)]);
    },
    replaceEvent: (position, event) => {
      const next = [...log];
      at(position);
      next[position] = event;
      rebuild(next, true);
    },
  };

  return { store, tampering };
};

/**
 * An event store in memory: for tests, examples and short-lived scripts. It implements the whole port
 * (and passes the contract suite); nothing survives the process.
 */
export const createInMemoryStore = (options: InMemoryStoreOptions = {}): EventStore =>
  createInMemoryStoreWithTampering(options).store;
