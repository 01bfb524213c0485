/**
 * @packageDocumentation
 * The contract suite of the EventStore port: what every store must do, as jest tests. An adapter runs it
 * from one of its test files:
 *
 * ```ts
 * import { describeEventStoreContract } from '@partner-ledger/store/contract';
 * describeEventStoreContract('file store', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'pl-'));
 *   const store = await openFileStore(dir);
 *   return { store, cleanup: async () => { await store.close(); await rm(dir, { recursive: true }); } };
 * });
 * ```
 *
 * It uses jest's globals (describe, it, expect, beforeEach, afterEach) and nothing else at run time. The
 * events it appends are of made-up types (`ContractChecked`): a store keeps events whatever their type.
 */
import { GENESIS_DIGEST, computeEventHash, nextDigest } from '@partner-ledger/events';
import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
// Relative imports: the suite ships inside @partner-ledger/store, so its error classes are the store's own.
import { computeDigest, verifyStore } from '../audit';
import type { VerifyReport } from '../audit';
import { DuplicateEventIdError, StoreClosedError, StoreError, WrongExpectedRevisionError } from '../errors';
import type { AppendResult, EventStore, ExpectedRevision, SubscriptionMessage } from '../port';

/**
 * An attacker with write access to the storage. Each hook changes the stored history behind the store's
 * back (nothing it writes is checked) and returns the store through which the changed history is to be
 * read: the same store, or one reopened over the changed storage. Positions are global positions, always
 * ones the store reported for the events of the history before the change.
 */
export interface TamperHooks {
  /** Replaces the data of the event at `position`, leaving every other field (its hash too) as it was. */
  editEventData(position: number, data: unknown): Promise<EventStore>;
  /** Removes the event at `position`; the events after it are read one place earlier. */
  deleteEvent(position: number): Promise<EventStore>;
  /** Exchanges the events stored at two positions. */
  swapEvents(a: number, b: number): Promise<EventStore>;
  /**
   * Stores `event` (exactly as given) so that it is read at `position`, before the event that was there;
   * that event and the ones after it are read one position later.
   */
  insertEvent(position: number, event: RecordedEvent): Promise<EventStore>;
}

/** A fresh, empty store for one test, and what the suite needs around it. */
export interface ContractStore {
  readonly store: EventStore;
  /** Releases everything the test used: closes the store(s), even if already closed, and removes files. */
  readonly cleanup: () => Promise<void>;
  /** Durable stores: closes the store and opens the same storage again. Required when `canReopen`. */
  readonly reopen?: () => Promise<EventStore>;
  /** Required when `canTamper`. */
  readonly tamper?: TamperHooks;
}

export interface ContractOptions {
  /** The store keeps its history across a close and a reopen: run the reopen tests. Default false. */
  readonly canReopen?: boolean;
  /** The test can tamper with the storage: run the tamper-detection tests. Default false. */
  readonly canTamper?: boolean;
  /** Events in the large-stream test. Default 100,000. */
  readonly largeStreamEvents?: number;
  /** Events per append in the large-stream test. Default 1,000. */
  readonly largeStreamBatch?: number;
  /** How long a subscription may take to deliver a message before the test fails. Default 5,000 ms. */
  readonly deliveryTimeoutMs?: number;
  /**
   * What the store promises about global positions. Default `dense`.
   * - `dense`: 0, 1, 2, ... in global order, with no gap (the in-memory and file stores): the suite checks
   *   the numbers themselves, and also starts reads at positions well past the head.
   * - `increasing`: strictly increasing in global order, but with gaps and not from 0 (EventStoreDB's
   *   commit positions): the suite checks the order only, and starts reads and subscriptions only at 0 or
   *   at a position the store reported (an event's, the head's) or that position + 1. (As-of bounds may be
   *   any integer in both modes.)
   */
  readonly positions?: 'dense' | 'increasing';
}

const BASE_TIME = Date.UTC(2026, 0, 1);
/** A timestamp `seconds` after the suite's epoch, in the ledger's one form. */
const at = (seconds: number): string => new Date(BASE_TIME + seconds * 1000).toISOString();

/** A test event: the id says what it is; `n` goes into its data and its times. */
const makeEvent = (id: string, n = 0, overrides: Partial<NewEvent> = {}): NewEvent => ({
  id,
  type: 'ContractChecked',
  schemaVersion: 1,
  data: { n, note: `event ${id}`, nested: { list: [n, String(n)], flag: n % 2 === 0 } },
  occurredAt: at(n),
  recordedAt: at(n),
  actor: 'test:contract',
  correlationId: 'corr-contract',
  causationId: null,
  ...overrides,
});

/** `count` events with ids `${prefix}-${first}`, `${prefix}-${first + 1}`, ... */
const makeEvents = (prefix: string, count: number, first = 0): NewEvent[] =>
  Array.from({ length: count }, (_, i) => makeEvent(`${prefix}-${first + i}`, first + i));

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

const positionsOf = (events: readonly RecordedEvent[]): number[] => events.map((e) => e.position);
const idsOf = (events: readonly { readonly id: string }[]): string[] => events.map((e) => e.id);
const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** Awaits a promise, failing with a readable message if it takes longer than `ms`. */
const within = async <T>(promise: Promise<T>, what: string, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/** Whether a promise is still pending after `ms`. */
const stillPending = async (promise: Promise<unknown>, ms: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined;
  const pending = Symbol('pending');
  const result = await Promise.race([
    promise.then(() => undefined),
    new Promise<symbol>((resolve) => {
      timer = setTimeout(() => resolve(pending), ms);
    }),
  ]);
  clearTimeout(timer);
  return result === pending;
};

/** A small deterministic generator, so that the randomized model test repeats exactly. */
const seededRandom = (seed: number): ((below: number) => number) => {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % below;
  };
};

/**
 * Declares the contract suite for one store. `setup` creates a fresh, empty store for every test.
 * Tests that need a capability the store does not declare (reopen, tamper) are skipped, and their names
 * say so.
 */
export const describeEventStoreContract = (
  name: string,
  setup: () => Promise<ContractStore>,
  options: ContractOptions = {},
): void => {
  const {
    canReopen = false,
    canTamper = false,
    largeStreamEvents = 100_000,
    largeStreamBatch = 1_000,
    deliveryTimeoutMs = 5_000,
    positions = 'dense',
  } = options;
  const dense = positions === 'dense';

  // Every expectation about a position goes through these two: dense mode checks the numbers, increasing
  // mode the order. Everything else the tests say about positions is in terms of positions the store
  // reported (an append's events, a read), so it holds in both modes.
  /** The position of the event that comes right after the one at `previous` (-1: the first event). */
  const expectFollows = (position: number | undefined, previous: number): void => {
    if (dense) expect(position).toBe(previous + 1);
    else expect(position).toBeGreaterThan(previous);
  };
  /** The positions of consecutive events in global order, right after the one at `previous`. */
  const expectPositionsAfter = (actual: readonly number[], previous: number): void => {
    const increasing = [...new Set(actual)].sort((a, b) => a - b).filter((p) => p > previous);
    if (dense) expect(actual).toEqual(range(previous + 1, previous + 1 + actual.length));
    else expect(actual).toEqual(increasing);
    expect(actual.every((position) => Number.isSafeInteger(position))).toBe(true);
  };

  describe(`EventStore contract: ${name}`, () => {
    let handle: ContractStore;
    /** The store under test; replaced when a test reopens or tampers. */
    let store: EventStore;

    beforeEach(async () => {
      handle = await setup();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.cleanup();
    });

    const append = (stream: string, events: NewEvent[], expectedRevision: ExpectedRevision = 'any') =>
      store.append(stream, events, { expectedRevision });
    const readStream = (stream: string, opts?: Parameters<EventStore['readStream']>[1]) =>
      collect(store.readStream(stream, opts));
    const readAll = (opts?: Parameters<EventStore['readAll']>[0]) => collect(store.readAll(opts));
    const subscription = (
      opts?: Parameters<EventStore['subscribe']>[0],
    ): AsyncIterator<SubscriptionMessage> => store.subscribe(opts)[Symbol.asyncIterator]();

    /**
     * Appends to several streams in turn, one event at a time, so that their events interleave. Returns the
     * events as the appends returned them, in the order appended.
     */
    const appendInterleaved = async (streams: Record<string, number>): Promise<RecordedEvent[]> => {
      const left = new Map(Object.entries(streams));
      const next = new Map<string, number>();
      const appended: RecordedEvent[] = [];
      while ([...left.values()].some((count) => count > 0)) {
        for (const [stream, count] of left) {
          if (count === 0) continue;
          const n = next.get(stream) ?? 0;
          appended.push(...(await append(stream, [makeEvent(`${stream}-${n}`, n)])).events);
          next.set(stream, n + 1);
          left.set(stream, count - 1);
        }
      }
      return appended;
    };

    /** Fails unless `promise` rejects with a WrongExpectedRevisionError carrying these revisions. */
    const expectConflict = async (
      promise: Promise<unknown>,
      stream: string,
      expected: ExpectedRevision,
      actual: number | 'noStream',
    ): Promise<void> => {
      const error: unknown = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WrongExpectedRevisionError);
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ code: 'WRONG_EXPECTED_REVISION', stream, expected, actual });
    };

    const expectDuplicate = async (promise: Promise<unknown>, eventId: string): Promise<void> => {
      const error: unknown = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DuplicateEventIdError);
      expect(error).toMatchObject({ code: 'DUPLICATE_EVENT_ID', eventId });
    };

    describe('append and read back', () => {
      it('starts empty: head -1, no events, missing streams read as empty', async () => {
        expect(await store.headPosition()).toBe(-1);
        expect(await readAll()).toEqual([]);
        expect(await readStream('nobody')).toEqual([]);
        expect(await readStream('nobody', { direction: 'backwards' })).toEqual([]);
      });

      it(`assigns revisions and global positions (${dense ? 'from 0' : 'increasing'}) and returns the events as stored`, async () => {
        const events = makeEvents('a', 3);
        const result = await append('stream-a', events, 'noStream');
        expectPositionsAfter(positionsOf(result.events), -1);
        expect(result).toMatchObject({
          stream: 'stream-a',
          nextExpectedRevision: 2,
          lastPosition: result.events[2]?.position,
          alreadyStored: false,
        });
        expect(result.events.map((e) => [e.stream, e.revision])).toEqual([
          ['stream-a', 0],
          ['stream-a', 1],
          ['stream-a', 2],
        ]);
        // Everything the caller said is kept as said.
        result.events.forEach((recorded, i) => {
          expect(recorded).toMatchObject(events[i] as object);
        });
        expect(await readStream('stream-a')).toEqual(result.events);
        expect(await readAll()).toEqual(result.events);
        expect(await store.headPosition()).toBe(result.lastPosition);

        const more = await append('stream-b', makeEvents('b', 2));
        expect(more.events.map((e) => e.revision)).toEqual([0, 1]);
        expectPositionsAfter(positionsOf(more.events), result.lastPosition);
        expect(more.nextExpectedRevision).toBe(1);
        expect(more.lastPosition).toBe(more.events[1]?.position);
        expect(await store.headPosition()).toBe(more.lastPosition);
        expect(await readAll()).toEqual([...result.events, ...more.events]);
      });

      it('keeps its own copy: changing the appended objects afterwards changes nothing stored', async () => {
        const event = makeEvent('copy-0', 0, { data: { list: [1, 2], inner: { value: 'kept' } } });
        const result = await append('copy', [event]);
        const data = event.data as { list: number[]; inner: { value: string } };
        data.list.push(3);
        data.inner.value = 'changed';
        const [stored] = await readStream('copy');
        expect(stored?.data).toEqual({ list: [1, 2], inner: { value: 'kept' } });
        expect(stored?.hash).toBe(result.events[0]?.hash);
        expect(computeEventHash(stored as RecordedEvent)).toBe(stored?.hash);
      });

      it('refuses data with no JSON form (a bigint, a number that is not finite), naming the event, and writes nothing', async () => {
        for (const data of [{ amount: 10n }, { rate: Number.POSITIVE_INFINITY }, { rate: Number.NaN }]) {
          const error: unknown = await append('json', [
            makeEvent('json-ok'),
            makeEvent('json-bad', 1, { data }),
          ]).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).message).toMatch(/event 1 of the append to "json" \(id "json-bad"\)/);
        }
        expect(await store.headPosition()).toBe(-1);
        expect(await readStream('json')).toEqual([]);
      });

      it('rejects an empty append and an expected revision that is not one of the four forms', async () => {
        await expect(append('s', [])).rejects.toThrow(RangeError);
        await expect(append('s', [makeEvent('bad-1')], -1)).rejects.toThrow(RangeError);
        await expect(append('s', [makeEvent('bad-2')], 1.5)).rejects.toThrow(RangeError);
        expect(await store.headPosition()).toBe(-1);
      });
    });

    describe('hash links', () => {
      it('chains every event to its predecessor in the same stream, and hashes its content', async () => {
        await appendInterleaved({ red: 4, green: 3, blue: 5 });
        await append('green', makeEvents('green', 3, 3));
        const all = await readAll();
        expectPositionsAfter(positionsOf(all), -1);
        expect(all).toHaveLength(15);
        const lastHash = new Map<string, string>();
        for (const event of all) {
          expect(event.prevHash).toBe(lastHash.get(event.stream) ?? null);
          expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
          expect(event.hash).toBe(computeEventHash(event));
          lastHash.set(event.stream, event.hash);
        }
        const green = await readStream('green');
        expect(green.map((e) => e.revision)).toEqual(range(0, 6));
        expect(green[0]?.prevHash).toBeNull();
      });
    });

    describe('expected revision', () => {
      it('noStream: succeeds on a new stream, refuses an existing one (actual = its revision)', async () => {
        await append('s', makeEvents('s', 3), 'noStream');
        await expectConflict(append('s', [makeEvent('s-3')], 'noStream'), 's', 'noStream', 2);
      });

      it('streamExists: refuses a missing stream (actual = noStream), succeeds on an existing one', async () => {
        await expectConflict(
          append('s', [makeEvent('s-0')], 'streamExists'),
          's',
          'streamExists',
          'noStream',
        );
        await append('s', [makeEvent('s-0')]);
        const result = await append('s', [makeEvent('s-1')], 'streamExists');
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('exact: succeeds only at that revision, and says which revision the stream is at', async () => {
        await expectConflict(append('s', [makeEvent('s-0')], 0), 's', 0, 'noStream');
        await append('s', makeEvents('s', 2));
        await expectConflict(append('s', [makeEvent('s-2')], 0), 's', 0, 1);
        await expectConflict(append('s', [makeEvent('s-2')], 2), 's', 2, 1);
        const result = await append('s', [makeEvent('s-2')], 1);
        expect(result.nextExpectedRevision).toBe(2);
        expect((await append('s', makeEvents('s', 2, 3), 2)).nextExpectedRevision).toBe(4);
      });

      it('any: succeeds whether or not the stream exists', async () => {
        await append('s', [makeEvent('s-0')], 'any');
        const result = await append('s', [makeEvent('s-1')], 'any');
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('a refused append writes nothing', async () => {
        const { lastPosition } = await append('s', makeEvents('s', 2));
        await expectConflict(append('s', makeEvents('x', 3), 5), 's', 5, 1);
        await expectConflict(append('s', makeEvents('x', 3), 'noStream'), 's', 'noStream', 1);
        expect(await store.headPosition()).toBe(lastPosition);
        expect(idsOf(await readAll())).toEqual(['s-0', 's-1']);
        // The ids of a refused append are free: they were never stored.
        const result = await append('s', makeEvents('x', 3), 1);
        expect(result.alreadyStored).toBe(false);
        expect(result.nextExpectedRevision).toBe(4);
      });
    });

    describe('concurrency', () => {
      it('two writers with the same expected revision: exactly one wins, the other gets a conflict', async () => {
        const { nextExpectedRevision } = await append('deal-1', makeEvents('deal-1', 3));
        const outcomes = await Promise.allSettled([
          append('deal-1', [makeEvent('writer-a')], nextExpectedRevision),
          append('deal-1', [makeEvent('writer-b')], nextExpectedRevision),
        ]);
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        await expectConflict(Promise.reject(lost[0]?.reason), 'deal-1', 2, 3);
        const stream = await readStream('deal-1');
        expect(stream.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
        expect(['writer-a', 'writer-b']).toContain(stream[3]?.id);
      });

      it('ten writers racing for a new stream: one creates it, nine are refused with noStream conflicts', async () => {
        const outcomes = await Promise.allSettled(
          range(0, 10).map((i) => append('race', makeEvents(`racer-${i}`, 2), 'noStream')),
        );
        const won = outcomes.filter(
          (o): o is PromiseFulfilledResult<AppendResult> => o.status === 'fulfilled',
        );
        expect(won).toHaveLength(1);
        const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(refused).toHaveLength(9);
        for (const outcome of refused) {
          expect(outcome.reason).toBeInstanceOf(WrongExpectedRevisionError);
          expect(outcome.reason).toMatchObject({ expected: 'noStream', actual: 1 });
        }
        const winner = won[0]?.value;
        expectPositionsAfter(positionsOf(winner?.events ?? []), -1);
        expect(await store.headPosition()).toBe(winner?.lastPosition);
        expect(await readAll()).toEqual(winner?.events);
      });
    });

    describe('idempotent appends', () => {
      it('the same ids and bodies again change nothing and return the first result', async () => {
        const events = makeEvents('once', 3);
        const first = await append('once', events, 'noStream');
        const other = await append('other', makeEvents('other', 2));
        // A retry of the same facts, recorded later by another process: still the same events.
        const retried = events.map((e) => ({
          ...e,
          recordedAt: at(999),
          actor: 'test:retry',
          correlationId: 'r',
        }));
        const again = await append('once', retried, 'noStream');
        expect(again.alreadyStored).toBe(true);
        expect(again.events).toEqual(first.events);
        expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
        expect(again.lastPosition).toBe(first.lastPosition);
        expect(await store.headPosition()).toBe(other.lastPosition);
        expect(await readStream('once')).toEqual(first.events);
      });

      it('a retry is recognised after the stream has moved on, whatever revision it expected', async () => {
        const first = await append('moving', [makeEvent('moving-0')], 'noStream');
        const moved = await append('moving', makeEvents('moving', 2, 1), 0);
        const again = await append('moving', [makeEvent('moving-0')], 'noStream');
        expect(again).toMatchObject({
          alreadyStored: true,
          nextExpectedRevision: 0,
          lastPosition: first.lastPosition,
        });
        expect(again.events).toEqual(first.events);
        expect(await store.headPosition()).toBe(moved.lastPosition);
      });

      it('the same id with another body is refused, and nothing of the batch is written', async () => {
        await append('s', [makeEvent('fact-1', 1)]);
        const changed = makeEvent('fact-1', 1, { data: { n: 1, note: 'something else' } });
        await expectDuplicate(append('s', [changed]), 'fact-1');
        await expectDuplicate(append('s', [makeEvent('fact-1', 1, { type: 'OtherType' })]), 'fact-1');
        await expectDuplicate(append('s', [makeEvent('fact-1', 1, { occurredAt: at(77) })]), 'fact-1');
        await expectDuplicate(append('s', [makeEvent('fresh-1'), makeEvent('fresh-2'), changed]), 'fact-1');
        expect(idsOf(await readAll())).toEqual(['fact-1']);
      });

      it('an id stored in another stream is refused', async () => {
        await append('s', [makeEvent('shared-id')]);
        await expectDuplicate(append('t', [makeEvent('shared-id')]), 'shared-id');
        expect(await readStream('t')).toEqual([]);
      });

      it('an id twice in one append, or a retry that is only partly stored, is refused', async () => {
        await expectDuplicate(append('s', [makeEvent('twice'), makeEvent('twice')]), 'twice');
        await append('s', [makeEvent('p-0')]);
        await expectDuplicate(append('s', [makeEvent('p-0'), makeEvent('p-1')]), 'p-0');
        expect(idsOf(await readAll())).toEqual(['p-0']);
      });
    });

    describe('atomic batches', () => {
      it('concurrent batches to different streams each occupy consecutive positions', async () => {
        const results = await Promise.all(
          range(0, 6).map((i) => append(`batch-${i}`, makeEvents(`batch-${i}`, 4))),
        );
        const all = await readAll();
        expect(all).toHaveLength(24);
        expectPositionsAfter(positionsOf(all), -1);
        for (let start = 0; start < 24; start += 4) {
          const batch = all.slice(start, start + 4);
          expect(new Set(batch.map((e) => e.stream)).size).toBe(1);
          expect(batch.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
          // Read back where the append said it put them: no event of another batch between them.
          expect(results.find((r) => r.stream === batch[0]?.stream)?.events).toEqual(batch);
        }
      });

      it('a batch refused by its last event writes none of its events', async () => {
        const taken = await append('elsewhere', [makeEvent('taken')]);
        await expectDuplicate(append('s', [...makeEvents('s', 3), makeEvent('taken')]), 'taken');
        expect(await readStream('s')).toEqual([]);
        expect(await store.headPosition()).toBe(taken.lastPosition);
      });
    });

    describe('global order and paging', () => {
      it('reads all events in the order they were appended, across streams', async () => {
        const appended = await appendInterleaved({ p1: 3, p2: 2, p3: 4 });
        const all = await readAll();
        expect(all).toEqual(appended);
        expect(idsOf(all)).toEqual(['p1-0', 'p2-0', 'p3-0', 'p1-1', 'p2-1', 'p3-1', 'p1-2', 'p3-2', 'p3-3']);
        expectPositionsAfter(positionsOf(all), -1);
        for (const stream of ['p1', 'p2', 'p3']) {
          expect(await readStream(stream)).toEqual(all.filter((e) => e.stream === stream));
        }
      });

      it('pages across page boundaries with any page size and start position', async () => {
        const check = async (total: number): Promise<void> => {
          const positions = positionsOf(await readAll());
          expect(positions).toHaveLength(total);
          expectPositionsAfter(positions, -1);
          const of = (index: number): number => positions[index] as number;
          // The start of the log, events' own positions, an event's position + 1 (a reader resuming after
          // it), the head + 1; in dense mode also positions no event has yet.
          const starts = new Set([
            0,
            of(1),
            of(6),
            of(6) + 1,
            of(14),
            of(20),
            of(20) + 1,
            of(total - 1) + 1,
            ...(dense ? [22, 30] : []),
          ]);
          for (const pageSize of [1, 2, 3, 7, 21, 22, 100]) {
            for (const fromPosition of starts) {
              const events = await readAll({ pageSize, fromPosition });
              expect({ pageSize, fromPosition, positions: positionsOf(events) }).toEqual({
                pageSize,
                fromPosition,
                positions: positions.filter((p) => p >= fromPosition),
              });
            }
          }
        };
        // 21 events: pages of 1, 3, 7 and 21 end exactly at the head; 2 and 22 do not. Then 23 events: the
        // 21st event's position + 1 is no longer past the head.
        await appendInterleaved({ x: 7, y: 7, z: 7 });
        await check(21);
        await append('x', makeEvents('x', 2, 7));
        await check(23);
        expect(idsOf(await readAll({ pageSize: 7 }))).toEqual(idsOf(await readAll()));
      });

      it('reads a stream backwards, and from a revision, with a maximum count, in both directions', async () => {
        await appendInterleaved({ s: 6, t: 3 });
        const revisions = async (opts: Parameters<EventStore['readStream']>[1]) =>
          (await readStream('s', opts)).map((e) => e.revision);
        expect(await revisions({ direction: 'backwards' })).toEqual([5, 4, 3, 2, 1, 0]);
        expect(await revisions({ direction: 'backwards', fromRevision: 3 })).toEqual([3, 2, 1, 0]);
        expect(await revisions({ direction: 'backwards', maxCount: 2 })).toEqual([5, 4]);
        expect(await revisions({ direction: 'backwards', fromRevision: 4, maxCount: 3 })).toEqual([4, 3, 2]);
        expect(await revisions({ direction: 'backwards', fromRevision: 50 })).toEqual([5, 4, 3, 2, 1, 0]);
        expect(await revisions({ fromRevision: 2 })).toEqual([2, 3, 4, 5]);
        expect(await revisions({ fromRevision: 2, maxCount: 3 })).toEqual([2, 3, 4]);
        expect(await revisions({ fromRevision: 6 })).toEqual([]);
        expect(await revisions({ maxCount: 0 })).toEqual([]);
        expect(await revisions({ direction: 'backwards', maxCount: 0 })).toEqual([]);
        const backwards = await readStream('s', { direction: 'backwards' });
        expect(backwards).toEqual((await readStream('s')).reverse());
      });

      it(`holds a large stream (${largeStreamEvents} events) and reads both of its ends`, async () => {
        let lastBatch: AppendResult | undefined;
        for (let first = 0; first < largeStreamEvents; first += largeStreamBatch) {
          const count = Math.min(largeStreamBatch, largeStreamEvents - first);
          const events = Array.from({ length: count }, (_, i) => ({
            ...makeEvent(`big-${first + i}`, 0),
            data: { i: first + i },
          }));
          lastBatch = await append('big', events, first === 0 ? 'noStream' : first - 1);
        }
        const last = largeStreamEvents - 1;
        const tailPositions = positionsOf(lastBatch?.events ?? []).slice(-2);
        expect(await store.headPosition()).toBe(lastBatch?.lastPosition);
        const tail = await readStream('big', { direction: 'backwards', maxCount: 3 });
        expect(tail.map((e) => e.revision)).toEqual([last, last - 1, last - 2]);
        expect(tail[0]?.prevHash).toBe(tail[1]?.hash);
        expect(tail[0]?.data).toEqual({ i: last });
        const fromNearEnd = await readStream('big', { fromRevision: last - 1 });
        expect(positionsOf(fromNearEnd)).toEqual(tailPositions);
        let expected = 0;
        for await (const event of store.readStream('big')) {
          if (event.revision !== expected) throw new Error(`revision ${event.revision} at ${expected}`);
          expected += 1;
        }
        expect(expected).toBe(largeStreamEvents);
        // Without an expect per event, which would slow the test down: each position follows the one before
        // (dense: by exactly one).
        let count = 0;
        let previous = -1;
        for await (const { position } of store.readAll({ pageSize: 1_000 })) {
          if (dense ? position !== previous + 1 : position <= previous) {
            throw new Error(`position ${position} after position ${previous}`);
          }
          previous = position;
          count += 1;
        }
        expect(count).toBe(largeStreamEvents);
        expect(previous).toBe(lastBatch?.lastPosition);
      });
    });

    describe('subscriptions', () => {
      /** Reads the next message, failing if none comes in time; undefined when the subscription ended. */
      const nextMessage = async (
        iterator: AsyncIterator<SubscriptionMessage>,
      ): Promise<SubscriptionMessage | undefined> => {
        const result = await within(iterator.next(), 'subscription', deliveryTimeoutMs);
        return result.done === true ? undefined : result.value;
      };
      const describeMessage = (m: SubscriptionMessage | undefined): string | number =>
        m === undefined ? 'end' : m.kind === 'caughtUp' ? `caughtUp@${m.position}` : m.event.position;

      it('catches up, signals caughtUp once, then delivers live events, and ends on abort', async () => {
        const before = positionsOf(await appendInterleaved({ a: 3, b: 2 }));
        expectPositionsAfter(before, -1);
        const head = before[4] as number;
        const controller = new AbortController();
        const iterator = subscription({ signal: controller.signal });
        const seen: (string | number)[] = [];
        for (let i = 0; i < 6; i += 1) seen.push(describeMessage(await nextMessage(iterator)));
        expect(seen).toEqual([...before, `caughtUp@${head}`]);
        const pending = iterator.next();
        expect(await stillPending(pending, 30)).toBe(true);
        const c = await append('c', makeEvents('c', 2));
        expectPositionsAfter(positionsOf(c.events), head);
        const live = await within(pending, 'live event', deliveryTimeoutMs);
        expect(live.done).toBe(false);
        expect(live.value).toMatchObject({
          kind: 'event',
          event: { id: 'c-0', position: c.events[0]?.position },
        });
        const second = await nextMessage(iterator);
        expect(second).toMatchObject({
          kind: 'event',
          event: { id: 'c-1', position: c.events[1]?.position, prevHash: expect.any(String) },
        });
        // The delivered event is the stored event.
        expect(second?.kind === 'event' ? second.event : undefined).toEqual((await readStream('c'))[1]);
        const waiting = iterator.next();
        controller.abort();
        expect(await within(waiting, 'end after abort', deliveryTimeoutMs)).toEqual({
          done: true,
          value: undefined,
        });
      });

      it('starts at a position, and on an empty store catches up at once (position -1)', async () => {
        const controller = new AbortController();
        const empty = subscription({ signal: controller.signal });
        expect(await nextMessage(empty)).toEqual({ kind: 'caughtUp', position: -1 });
        const positions = positionsOf((await append('s', makeEvents('s', 5))).events);
        expectPositionsAfter(positions, -1);
        const [, p1, p2, p3, p4] = positions as [number, number, number, number, number];
        const fromMiddle = subscription({ fromPosition: p3, signal: controller.signal });
        const seen: (string | number)[] = [];
        for (let i = 0; i < 3; i += 1) seen.push(describeMessage(await nextMessage(fromMiddle)));
        expect(seen).toEqual([p3, p4, `caughtUp@${p4}`]);
        // Resuming after a checkpoint: from the position of the last event handled + 1.
        const resumed = subscription({ fromPosition: p1 + 1, signal: controller.signal });
        const resumedSeen: (string | number)[] = [];
        for (let i = 0; i < 4; i += 1) resumedSeen.push(describeMessage(await nextMessage(resumed)));
        expect(resumedSeen).toEqual([p2, p3, p4, `caughtUp@${p4}`]);
        const live: (string | number)[] = [];
        for (let i = 0; i < 5; i += 1) live.push(describeMessage(await nextMessage(empty)));
        expect(live).toEqual(positions);
        controller.abort();
        expect(await nextMessage(empty)).toBeUndefined();
        expect(await nextMessage(fromMiddle)).toBeUndefined();
        expect(await nextMessage(resumed)).toBeUndefined();
      });

      it('a subscription that starts past the head catches up at once and skips events below its start', async () => {
        const { lastPosition: head } = await append('s', makeEvents('s', 3));
        // Dense: a position two events ahead of the head. Increasing: the only one known to be past the head.
        const start = dense ? head + 3 : head + 1;
        const controller = new AbortController();
        const ahead = subscription({ fromPosition: start, signal: controller.signal });
        expect(await nextMessage(ahead)).toEqual({ kind: 'caughtUp', position: head });
        const later = positionsOf((await append('s', makeEvents('s', 4, 3))).events);
        expectPositionsAfter(later, head);
        const expected = later.filter((p) => p >= start);
        const seen: (string | number)[] = [];
        for (let i = 0; i < expected.length; i += 1) seen.push(describeMessage(await nextMessage(ahead)));
        expect(seen).toEqual(expected);
        controller.abort();
        expect(await nextMessage(ahead)).toBeUndefined();
      });

      it('delivers every event exactly once when appends race the catch-up', async () => {
        for (let i = 0; i < 10; i += 1) await append(`s-${i % 3}`, makeEvents(`pre-${i}`, 10));
        const controller = new AbortController();
        const iterator = subscription({ signal: controller.signal });
        // One append starts before the subscriber reads anything, others while it is catching up.
        const racing: Promise<unknown>[] = [append('racer', makeEvents('racer-a', 3))];
        const delivered: number[] = [];
        let caughtUpAt: number | undefined;
        let caughtUpCount = 0;
        let appendedAfterCatchUp = false;
        const total = 100 + 3 + 3 * 5 + 4;
        while (delivered.length < total) {
          const message = await nextMessage(iterator);
          if (message === undefined) throw new Error('the subscription ended early');
          if (message.kind === 'caughtUp') {
            caughtUpCount += 1;
            caughtUpAt = message.position;
            expect(delivered[delivered.length - 1]).toBe(message.position);
            if (!appendedAfterCatchUp) {
              appendedAfterCatchUp = true;
              racing.push(append('after', makeEvents('after', 4)));
            }
            continue;
          }
          delivered.push(message.event.position);
          if ([1, 20, 50].includes(delivered.length)) {
            racing.push(append(`racer-${delivered.length}`, makeEvents(`r${delivered.length}`, 5)));
          }
        }
        await Promise.all(racing);
        const all = positionsOf(await readAll());
        expectPositionsAfter(all, -1);
        expect(delivered).toEqual(all);
        expect(caughtUpCount).toBe(1);
        // At least the 100 events appended before the subscription started.
        expect(caughtUpAt).toBeGreaterThanOrEqual(all[99] as number);
        controller.abort();
        expect(await nextMessage(iterator)).toBeUndefined();
      });

      it('serves several subscribers at once, each with every event', async () => {
        const controller = new AbortController();
        const first = subscription({ signal: controller.signal });
        const second = subscription({ signal: controller.signal });
        expect(await nextMessage(first)).toEqual({ kind: 'caughtUp', position: -1 });
        expect(await nextMessage(second)).toEqual({ kind: 'caughtUp', position: -1 });
        const { events } = await append('s', makeEvents('s', 3));
        expectPositionsAfter(positionsOf(events), -1);
        for (const iterator of [first, second]) {
          const seen: (string | number)[] = [];
          for (let i = 0; i < 3; i += 1) seen.push(describeMessage(await nextMessage(iterator)));
          expect(seen).toEqual(positionsOf(events));
        }
        controller.abort();
      });

      it('an already aborted signal delivers nothing', async () => {
        await append('s', makeEvents('s', 3));
        const controller = new AbortController();
        controller.abort();
        expect(
          await within(collect(store.subscribe({ signal: controller.signal })), 'abort', deliveryTimeoutMs),
        ).toEqual([]);
      });
    });

    describe('as-of reads', () => {
      // In global order (dense: positions 0..5): a-0 (t1), b-0 (t2), a-1 (t3), b-1 (t4), a-2 (t5),
      // b-2 (t0: recorded late, dated early). Returns each event's position, by id.
      const appendHistory = async (): Promise<Record<string, number>> => {
        const recorded = { 'a-0': 1, 'b-0': 2, 'a-1': 3, 'b-1': 4, 'a-2': 5, 'b-2': 0 } as Record<
          string,
          number
        >;
        const positionOf: Record<string, number> = {};
        for (const id of Object.keys(recorded)) {
          const seconds = recorded[id] as number;
          const result = await append(id.slice(0, 1), [makeEvent(id, seconds, { recordedAt: at(seconds) })]);
          positionOf[id] = result.lastPosition;
        }
        expectPositionsAfter(Object.values(positionOf), -1);
        return positionOf;
      };

      it('by position: only what had been recorded up to that position', async () => {
        const positionOf = await appendHistory();
        const b1 = positionOf['b-1'] as number;
        expect(idsOf(await readAll({ asKnownAt: { position: b1 } }))).toEqual(['a-0', 'b-0', 'a-1', 'b-1']);
        expect(
          idsOf(await readAll({ asKnownAt: { position: b1 }, fromPosition: positionOf['b-0'], pageSize: 2 })),
        ).toEqual(['b-0', 'a-1', 'b-1']);
        for (const beyond of [(positionOf['b-2'] as number) + 1, Number.MAX_SAFE_INTEGER]) {
          expect(idsOf(await readAll({ asKnownAt: { position: beyond } }))).toHaveLength(6);
        }
        expect(await readAll({ asKnownAt: { position: (positionOf['a-0'] as number) - 1 } })).toEqual([]);
        const a1 = positionOf['a-1'] as number;
        expect(idsOf(await readStream('a', { asKnownAt: { position: a1 } }))).toEqual(['a-0', 'a-1']);
        expect(idsOf(await readStream('a', { asKnownAt: { position: a1 }, direction: 'backwards' }))).toEqual(
          ['a-1', 'a-0'],
        );
      });

      it('by recordedAt: only events recorded at or before that time, even late in global order', async () => {
        await appendHistory();
        expect(idsOf(await readAll({ asKnownAt: { recordedAt: at(3) } }))).toEqual([
          'a-0',
          'b-0',
          'a-1',
          'b-2',
        ]);
        expect(idsOf(await readAll({ asKnownAt: { recordedAt: at(3) }, pageSize: 1 }))).toEqual([
          'a-0',
          'b-0',
          'a-1',
          'b-2',
        ]);
        expect(idsOf(await readStream('b', { asKnownAt: { recordedAt: at(2) } }))).toEqual(['b-0', 'b-2']);
        expect(
          idsOf(
            await readStream('b', { asKnownAt: { recordedAt: at(2) }, direction: 'backwards', maxCount: 1 }),
          ),
        ).toEqual(['b-2']);
        expect(await readAll({ asKnownAt: { recordedAt: at(-1) } })).toEqual([]);
      });

      it('by both: an event must satisfy both bounds', async () => {
        const positionOf = await appendHistory();
        const [a2, b1] = [positionOf['a-2'] as number, positionOf['b-1'] as number];
        expect(idsOf(await readAll({ asKnownAt: { position: a2, recordedAt: at(3) } }))).toEqual([
          'a-0',
          'b-0',
          'a-1',
        ]);
        expect(idsOf(await readStream('b', { asKnownAt: { position: b1, recordedAt: at(2) } }))).toEqual([
          'b-0',
        ]);
      });
    });

    describe('verify and digest', () => {
      const foldHashes = (events: readonly RecordedEvent[]): string =>
        events.reduce((digest, event) => nextDigest(digest, event.hash), GENESIS_DIGEST);

      it('an empty store verifies, with the genesis digest', async () => {
        expect(await verifyStore(store)).toEqual({
          ok: true,
          eventsChecked: 0,
          headPosition: -1,
          digest: GENESIS_DIGEST,
        });
        expect(await computeDigest(store)).toEqual({ digest: GENESIS_DIGEST, position: -1, eventCount: 0 });
      });

      it('a clean store verifies, and its digest folds every hash in global order', async () => {
        const all = await appendInterleaved({ a: 5, b: 4, c: 3 });
        expect(await readAll()).toEqual(all);
        expectPositionsAfter(positionsOf(all), -1);
        const [fifth, last] = [all[4]?.position as number, all[11]?.position as number];
        const progress: number[] = [];
        const report = await verifyStore(store, {
          progressEvery: 5,
          onProgress: (p) => progress.push(p.eventsChecked),
        });
        expect(report).toEqual({ ok: true, eventsChecked: 12, headPosition: last, digest: foldHashes(all) });
        expect(progress).toEqual([5, 10, 12]);
        expect(await computeDigest(store)).toEqual({
          digest: foldHashes(all),
          position: last,
          eventCount: 12,
        });
        const prefix = await verifyStore(store, { upToPosition: fifth });
        expect(prefix).toEqual({
          ok: true,
          eventsChecked: 5,
          headPosition: fifth,
          digest: foldHashes(all.slice(0, 5)),
        });
        expect((await computeDigest(store, { upToPosition: fifth })).digest).toBe(prefix.digest);
      });

      it('the digest of a position stays the same as history grows; the digest of the head changes', async () => {
        const before = await appendInterleaved({ a: 3, b: 3 });
        const kept = await computeDigest(store);
        expect(kept.position).toBe(before[5]?.position);
        expect(await computeDigest(store)).toEqual(kept);
        const appended = await append('a', [makeEvent('a-3', 3)]);
        expectFollows(appended.lastPosition, kept.position);
        expect(await computeDigest(store, { upToPosition: kept.position })).toEqual(kept);
        const now = await computeDigest(store);
        expect(now.digest).not.toBe(kept.digest);
        expect(now.position).toBe(appended.lastPosition);
      });
    });

    describe('randomized appends against a model', () => {
      for (const seed of [1, 7, 2026]) {
        it(`agrees with a simple model of the port (seed ${seed})`, async () => {
          const random = seededRandom(seed);
          const streams = ['s0', 's1', 's2', 's3'];
          const model = {
            log: [] as { id: string; stream: string; position: number }[],
            revisions: new Map<string, number>(),
          };
          const batches: { stream: string; events: NewEvent[] }[] = [];
          let nextId = 0;
          for (let step = 0; step < 60; step += 1) {
            const choice = random(10);
            if (choice === 0 && batches.length > 0) {
              // An idempotent retry of an earlier batch, whatever it expects.
              const batch = batches[random(batches.length)] as { stream: string; events: NewEvent[] };
              const result = await append(batch.stream, batch.events, random(2) === 0 ? 'noStream' : 0);
              expect(result.alreadyStored).toBe(true);
              expect(idsOf(result.events)).toEqual(idsOf(batch.events));
              continue;
            }
            const stream = streams[random(streams.length)] as string;
            const events = range(0, 1 + random(3)).map(() => makeEvent(`m-${seed}-${(nextId += 1)}`, nextId));
            const current = model.revisions.get(stream);
            const expected: ExpectedRevision = [
              'any',
              'noStream',
              'streamExists',
              current ?? 0,
              (current ?? -1) + 1 + random(2),
            ][random(5)] as ExpectedRevision;
            const holds =
              expected === 'any' ||
              (expected === 'noStream' && current === undefined) ||
              (expected === 'streamExists' && current !== undefined) ||
              expected === current;
            if (holds) {
              const result = await append(stream, events, expected);
              const first = (current ?? -1) + 1;
              expect(result.events.map((e) => e.revision)).toEqual(events.map((_, i) => first + i));
              expectPositionsAfter(
                positionsOf(result.events),
                model.log[model.log.length - 1]?.position ?? -1,
              );
              result.events.forEach((e) => model.log.push({ id: e.id, stream, position: e.position }));
              model.revisions.set(stream, first + events.length - 1);
              batches.push({ stream, events });
            } else {
              await expectConflict(append(stream, events, expected), stream, expected, current ?? 'noStream');
            }
          }
          const all = await readAll({ pageSize: 1 + random(8) });
          expect(all.map((e) => ({ id: e.id, stream: e.stream, position: e.position }))).toEqual(model.log);
          for (const stream of streams) {
            const events = await readStream(stream);
            expect(idsOf(events)).toEqual(model.log.filter((e) => e.stream === stream).map((e) => e.id));
          }
          expect((await verifyStore(store)).ok).toBe(true);
        });
      }
    });

    describe('closing', () => {
      it('after close every call fails with StoreClosedError; closing twice is harmless', async () => {
        await append('s', makeEvents('s', 2));
        await store.close();
        await expect(append('s', [makeEvent('late')])).rejects.toThrow(StoreClosedError);
        await expect(readStream('s')).rejects.toThrow(StoreClosedError);
        await expect(readAll()).rejects.toThrow(StoreClosedError);
        await expect(collect(store.subscribe())).rejects.toThrow(StoreClosedError);
        await expect(store.headPosition()).rejects.toThrow(StoreClosedError);
        await expect(store.close()).resolves.toBeUndefined();
      });

      it('close ends a waiting subscription with StoreClosedError', async () => {
        const iterator = subscription();
        expect(await within(iterator.next(), 'caughtUp', deliveryTimeoutMs)).toMatchObject({
          value: { kind: 'caughtUp' },
        });
        const waiting = iterator.next();
        await store.close();
        await expect(within(waiting, 'end after close', deliveryTimeoutMs)).rejects.toThrow(StoreClosedError);
      });
    });

    // A store that keeps nothing across a close has nothing to reopen: these tests are not declared at all.
    const describeReopen = canReopen ? describe : (): void => undefined;
    describeReopen('reopen', () => {
      const reopen = async (): Promise<void> => {
        if (handle.reopen === undefined)
          throw new Error('canReopen is set but the setup returned no reopen()');
        store = await handle.reopen();
      };

      it('keeps every event, revision, position and hash across a reopen', async () => {
        const before = await appendInterleaved({ a: 4, b: 3 });
        const head = before[6]?.position as number;
        const digest = await computeDigest(store);
        await reopen();
        expect(await readAll()).toEqual(before);
        expect(await readStream('a')).toEqual(before.filter((e) => e.stream === 'a'));
        expect(await store.headPosition()).toBe(head);
        expect(await computeDigest(store)).toEqual(digest);
        const result = await append('a', [makeEvent('a-4', 4)], 3);
        expect(result.events[0]).toMatchObject({ revision: 4, prevHash: before[6]?.hash });
        expectFollows(result.lastPosition, head);
        expect((await verifyStore(store)).ok).toBe(true);
      });

      it('still recognises retries and conflicts after a reopen', async () => {
        const first = await append('s', makeEvents('s', 2), 'noStream');
        await reopen();
        const again = await append('s', makeEvents('s', 2), 'noStream');
        expect(again.alreadyStored).toBe(true);
        expect(again.events).toEqual(first.events);
        await expectDuplicate(append('s', [makeEvent('s-0', 0, { data: { other: true } })]), 's-0');
        await expectConflict(append('s', [makeEvent('s-2')], 0), 's', 0, 1);
        await reopen();
        await reopen();
        expect(idsOf(await readAll())).toEqual(['s-0', 's-1']);
      });
    });

    const tamperTitle = canTamper ? '' : ` (skipped: ${name} provides no tamper hooks)`;
    const itTamper = canTamper ? it : it.skip;
    describe('tamper detection', () => {
      // Global order (dense: positions 0..6): a-0, b-0, a-1, b-1, a-2, b-2, a-3. The hooks are given the
      // positions the store reported for them.
      let clean: RecordedEvent[];
      let cleanDigest: string;
      const prepare = async (): Promise<TamperHooks> => {
        if (handle.tamper === undefined)
          throw new Error('canTamper is set but the setup returned no tamper hooks');
        clean = await appendInterleaved({ a: 4, b: 3 });
        expect(await readAll()).toEqual(clean);
        expectPositionsAfter(positionsOf(clean), -1);
        cleanDigest = (await computeDigest(store)).digest;
        expect((await verifyStore(store)).ok).toBe(true);
        return handle.tamper;
      };
      const event = (id: string): RecordedEvent => {
        const found = clean.find((e) => e.id === id);
        if (found === undefined) throw new Error(`no event ${id}`);
        return found;
      };
      const expectFirstProblem = async (
        id: string,
        kind: string,
        where: { stream: string; revision: number } = event(id),
      ): Promise<Extract<VerifyReport, { ok: false }>> => {
        const report = await verifyStore(store);
        if (report.ok) throw new Error('verifyStore found nothing wrong with a tampered store');
        const { stream, revision } = where;
        expect(report.firstProblem).toMatchObject({ eventId: id, stream, revision, kind });
        expect(report.firstProblem.message).toContain(id);
        expect((await computeDigest(store)).digest).not.toBe(cleanDigest);
        return report;
      };

      itTamper(`names an event whose data was edited (hash-mismatch)${tamperTitle}`, async () => {
        const tamper = await prepare();
        store = await tamper.editEventData(event('a-1').position, { n: 1, note: 'a larger amount' });
        const report = await expectFirstProblem('a-1', 'hash-mismatch');
        expect(report.firstProblem.position).toBe(event('a-1').position);
        expect(report).toMatchObject({ eventsChecked: 2, headPosition: event('b-0').position });
        expect(report.digest).toBe(
          nextDigest(nextDigest(GENESIS_DIGEST, event('a-0').hash), event('b-0').hash),
        );
      });

      itTamper(`names the event after a deleted one (revision-out-of-sequence)${tamperTitle}`, async () => {
        const tamper = await prepare();
        store = await tamper.deleteEvent(event('a-1').position);
        await expectFirstProblem('a-2', 'revision-out-of-sequence');
      });

      itTamper(`names the first of two swapped events (revision-out-of-sequence)${tamperTitle}`, async () => {
        const tamper = await prepare();
        store = await tamper.swapEvents(event('a-1').position, event('a-2').position);
        await expectFirstProblem('a-2', 'revision-out-of-sequence');
      });

      itTamper(`names a forged event whose hash is wrong (hash-mismatch)${tamperTitle}`, async () => {
        const tamper = await prepare();
        const forged: RecordedEvent = {
          ...event('a-2'),
          id: 'forged',
          data: { n: 2, note: 'forged' },
          hash: '0'.repeat(64),
        };
        store = await tamper.insertEvent(event('a-2').position, forged);
        await expectFirstProblem('forged', 'hash-mismatch', { stream: 'a', revision: 2 });
      });

      itTamper(
        `names the event after a well-forged one (revision-out-of-sequence)${tamperTitle}`,
        async () => {
          const tamper = await prepare();
          const unhashed = { ...event('a-2'), id: 'forged', data: { n: 2, note: 'forged' } };
          store = await tamper.insertEvent(event('a-2').position, {
            ...unhashed,
            hash: computeEventHash(unhashed),
          });
          await expectFirstProblem('a-2', 'revision-out-of-sequence');
        },
      );

      itTamper(`names the event after one replaced and re-hashed (broken-link)${tamperTitle}`, async () => {
        const tamper = await prepare();
        const unhashed = { ...event('a-1'), data: { n: 1, note: 'rewritten' } };
        await tamper.deleteEvent(event('a-1').position);
        store = await tamper.insertEvent(event('a-1').position, {
          ...unhashed,
          hash: computeEventHash(unhashed),
        });
        await expectFirstProblem('a-2', 'broken-link');
      });

      itTamper(
        `a consistent forgery passes the chains but changes the kept digest${tamperTitle}`,
        async () => {
          const tamper = await prepare();
          const unhashed = {
            ...makeEvent('new-stream-0', 0),
            stream: 'invented',
            revision: 0,
            position: event('b-1').position,
            prevHash: null,
          };
          store = await tamper.insertEvent(event('b-1').position, {
            ...unhashed,
            hash: computeEventHash(unhashed),
          });
          expect((await verifyStore(store)).ok).toBe(true);
          expect((await computeDigest(store, { upToPosition: event('a-3').position })).digest).not.toBe(
            cleanDigest,
          );
        },
      );
    });
  });
};
