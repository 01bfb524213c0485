import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import {
  assertAppendable,
  assertTagsAndCondition,
  chainEvents,
  checkExpectedRevision,
  classifyAppend,
  createTagPositions,
  knownAtFilter,
} from '@partner-ledger/store';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  SubscriptionMessage,
} from '@partner-ledger/store';

/** An EventStore that acknowledges appends before its target has made them durable. */
export interface WriteBehindStore extends EventStore {
  /** Waits until every acknowledged append is durable in the target; throws the first write that failed. */
  flush(): Promise<void>;
}

/**
 * For bulk loads only (the simulation): acknowledges an append as soon as it is decided and chained, and
 * writes it to the target in the background, in order, with many appends in flight, so that the target's
 * group commit turns thousands of fsyncs into a few. Reads see acknowledged events at once (the target's,
 * then those still in flight).
 *
 * What it gives up, and why that is acceptable for a simulation: an acknowledged event is not yet durable
 * (a crash loses the tail; `flush` and `close` wait for it), and an event id already stored in the target
 * with another body is only found when the background write fails (the next call then throws). It predicts
 * the positions the target will assign (one after another, as the file store does with one writer) and
 * checks every one when the target answers: any difference stops it. Positions assigned by a server
 * (EventStoreDB) cannot be predicted: use the target directly there.
 */
export const createWriteBehindStore = async (
  target: EventStore,
  options: { readonly maxInFlight?: number; readonly rememberedHeads?: number } = {},
): Promise<WriteBehindStore> => {
  const maxInFlight = options.maxInFlight ?? 512;
  const maxHeads = options.rememberedHeads ?? 50_000;
  let nextPosition = (await target.headPosition()) + 1;
  /** Append conditions are checked here, where positions are assigned (the target sees the tags too). */
  const tagPositions = createTagPositions(nextPosition - 1);
  /** Acknowledged, not yet confirmed durable, in position order. */
  let tail: RecordedEvent[] = [];
  const tailByStream = new Map<string, RecordedEvent[]>();
  const tailById = new Map<string, RecordedEvent>();
  const inFlight: Array<Promise<void>> = [];
  let failure: unknown;
  let serial: Promise<unknown> = Promise.resolve();

  const assertHealthy = (): void => {
    if (failure !== undefined) throw failure;
  };

  const confirm = (events: readonly RecordedEvent[]): void => {
    const done = new Set(events);
    tail = tail.filter((event) => !done.has(event));
    for (const event of events) {
      tailById.delete(event.id);
      const list = tailByStream.get(event.stream);
      if (list === undefined) continue;
      const rest = list.filter((e) => !done.has(e));
      if (rest.length === 0) tailByStream.delete(event.stream);
      else tailByStream.set(event.stream, rest);
    }
  };

  /**
   * The heads this loader wrote last, at most `rememberedHeads`: a stream appended to again soon (a partner,
   * an account, a returning visitor) needs no read of the target to find its head. Only this loader writes
   * the target while it runs (a difference stops it), so a remembered head is the target's head.
   */
  let youngHeads = new Map<string, { revision: number; hash: string }>();
  let oldHeads = new Map<string, { revision: number; hash: string }>();
  const rememberHead = (stream: string, head: { revision: number; hash: string }): void => {
    // Two generations, not an exact LRU: deleting a Map's oldest key again and again makes it slow.
    oldHeads.delete(stream);
    youngHeads.set(stream, head);
    if (youngHeads.size >= maxHeads / 2) {
      oldHeads = youngHeads;
      youngHeads = new Map();
    }
  };

  const streamHead = async (stream: string): Promise<{ revision: number; hash: string } | undefined> => {
    const pending = tailByStream.get(stream);
    const last = pending?.[pending.length - 1];
    if (last !== undefined) return last;
    const remembered = youngHeads.get(stream) ?? oldHeads.get(stream);
    if (remembered !== undefined) return remembered;
    for await (const event of target.readStream(stream, { direction: 'backwards', maxCount: 1 }))
      return event;
    return undefined;
  };

  const appendNow = async (
    stream: string,
    events: readonly NewEvent[],
    appendOptions: AppendOptions,
  ): Promise<AppendResult> => {
    assertHealthy();
    const expectedRevision = appendOptions.expectedRevision ?? 'any';
    assertAppendable(stream, events, expectedRevision);
    const { tags, condition } = appendOptions;
    if (tags !== undefined || condition !== undefined) assertTagsAndCondition(stream, appendOptions);
    const decision = classifyAppend(
      stream,
      events,
      events.map((event) => tailById.get(event.id)),
    );
    if (decision.kind === 'retry') {
      const last = decision.stored[decision.stored.length - 1]!;
      return {
        stream,
        events: decision.stored,
        nextExpectedRevision: last.revision,
        lastPosition: last.position,
        alreadyStored: true,
      };
    }
    const head = await streamHead(stream);
    checkExpectedRevision(stream, expectedRevision, head?.revision ?? 'noStream');
    if (condition !== undefined) tagPositions.check(stream, condition);
    const recorded = chainEvents(stream, head, events).map((event, i): RecordedEvent =>
      Object.freeze({ ...event, position: nextPosition + i }),
    );
    nextPosition += recorded.length;
    if (tags !== undefined && tags.length > 0) tagPositions.record(tags, nextPosition - 1);
    const newHead = recorded[recorded.length - 1]!;
    rememberHead(stream, { revision: newHead.revision, hash: newHead.hash });
    tail.push(...recorded);
    tailByStream.set(stream, [...(tailByStream.get(stream) ?? []), ...recorded]);
    for (const event of recorded) tailById.set(event.id, event);
    const write = target
      .append(stream, events, {
        expectedRevision: head === undefined ? 'noStream' : head.revision,
        // The target keeps the tags for later conditions; this loader's own were checked above.
        ...(tags === undefined || tags.length === 0 ? {} : { tags }),
      })
      .then((result) => {
        const differs = result.events.some(
          (stored, i) => stored.position !== recorded[i]!.position || stored.hash !== recorded[i]!.hash,
        );
        if (result.alreadyStored || differs)
          throw new Error(
            `write-behind: the store recorded ${stream} differently than predicted (another writer, or an id already stored); stopped`,
          );
        confirm(recorded);
      })
      .catch((error: unknown) => {
        failure ??= error;
      });
    inFlight.push(write);
    void write.finally(() => inFlight.splice(inFlight.indexOf(write), 1));
    if (inFlight.length >= maxInFlight) await inFlight[0];
    const last = recorded[recorded.length - 1]!;
    return {
      stream,
      events: recorded,
      nextExpectedRevision: last.revision,
      lastPosition: last.position,
      alreadyStored: false,
    };
  };

  const flush = async (): Promise<void> => {
    await serial;
    while (inFlight.length > 0) await Promise.all([...inFlight]);
    assertHealthy();
  };

  async function* readStream(
    stream: string,
    readOptions: ReadStreamOptions = {},
  ): AsyncGenerator<RecordedEvent> {
    assertHealthy();
    // The tail is copied before the target is read: an event confirmed in between is in one or the other.
    const pending = tailByStream.get(stream)?.slice() ?? [];
    const known = knownAtFilter(readOptions.asKnownAt);
    if (readOptions.direction !== 'backwards') {
      // Forwards (every read a decision makes): only the revisions asked for, from the target then the tail.
      const from = readOptions.fromRevision ?? 0;
      const limit = readOptions.maxCount ?? Number.POSITIVE_INFINITY;
      if (limit <= 0) return;
      let count = 0;
      let lastDurable = from - 1;
      for await (const event of target.readStream(stream, { fromRevision: from })) {
        lastDurable = event.revision;
        if (!known(event)) continue;
        yield event;
        if ((count += 1) >= limit) return;
      }
      for (const event of pending) {
        if (event.revision <= lastDurable || !known(event)) continue;
        yield event;
        if ((count += 1) >= limit) return;
      }
      return;
    }
    const events: RecordedEvent[] = [];
    for await (const event of target.readStream(stream)) events.push(event);
    const lastDurable = events[events.length - 1]?.revision ?? -1;
    events.push(...pending.filter((event) => event.revision > lastDurable));
    let selected = events.filter(known).reverse();
    if (readOptions.fromRevision !== undefined) {
      const from = readOptions.fromRevision;
      selected = selected.filter((e) => e.revision <= from);
    }
    yield* readOptions.maxCount === undefined ? selected : selected.slice(0, readOptions.maxCount);
  }

  async function* readAll(readOptions: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    assertHealthy();
    const pending = [...tail];
    let last = (readOptions.fromPosition ?? 0) - 1;
    for await (const event of target.readAll(readOptions)) {
      last = event.position;
      yield event;
    }
    const known = knownAtFilter(readOptions.asKnownAt);
    for (const event of pending) if (event.position > last && known(event)) yield event;
  }

  return {
    append: (stream, events, appendOptions = {}) => {
      // One decision at a time: each append reads the head the previous one left.
      const result = serial.then(() => appendNow(stream, events, appendOptions));
      serial = result.catch(() => undefined);
      return result;
    },
    readStream,
    readAll,
    /** Delivers events once they are durable in the target. */
    subscribe: (subscribeOptions?: SubscribeOptions): AsyncIterable<SubscriptionMessage> =>
      target.subscribe(subscribeOptions),
    headPosition: async () => {
      assertHealthy();
      return nextPosition - 1;
    },
    flush,
    close: async () => {
      try {
        await flush();
      } finally {
        await target.close();
      }
    },
  };
};
