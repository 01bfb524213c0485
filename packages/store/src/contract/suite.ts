// One run of the contract suite against one store: the store under test (replaced when a test reopens or
// tampers), the resolved options, and the helpers every topic file asks the store through. The topic files
// read `suite.store` at call time, never keep it, since a reopen or a tamper hook swaps it.
import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
// Relative imports: the suite ships inside @partner-ledger/store, so its error classes are the store's own.
import { DuplicateEventIdError, StoreError, WrongExpectedRevisionError } from '../errors';
import type { EventStore, ExpectedRevision, SubscriptionMessage } from '../port';
import { collect, makeEvent, range } from './fixtures';
import type { ContractOptions, ContractStore } from './options';

export interface ContractSuite {
  /** The name the adapter gave its store, for test titles. */
  readonly name: string;
  /** Positions are 0, 1, 2, ... with no gap (`positions: 'dense'`). */
  readonly dense: boolean;
  readonly canTamper: boolean;
  readonly largeStreamEvents: number;
  readonly largeStreamBatch: number;
  readonly deliveryTimeoutMs: number;
  /** What the set-up returned for the running test. */
  readonly handle: ContractStore;
  /** The store under test; replaced when a test reopens or tampers. */
  store: EventStore;
  /** `describe` for a store that keeps its history across a reopen; otherwise declares nothing. */
  readonly describeReopen: (title: string, tests: () => void) => void;
  readonly append: (
    stream: string,
    events: NewEvent[],
    expectedRevision?: ExpectedRevision,
  ) => ReturnType<EventStore['append']>;
  readonly readStream: (
    stream: string,
    opts?: Parameters<EventStore['readStream']>[1],
  ) => Promise<RecordedEvent[]>;
  readonly readAll: (opts?: Parameters<EventStore['readAll']>[0]) => Promise<RecordedEvent[]>;
  readonly subscription: (
    opts?: Parameters<EventStore['subscribe']>[0],
  ) => AsyncIterator<SubscriptionMessage>;
  readonly appendInterleaved: (streams: Record<string, number>) => Promise<RecordedEvent[]>;
  readonly expectConflict: (
    promise: Promise<unknown>,
    stream: string,
    expected: ExpectedRevision,
    actual: number | 'noStream',
  ) => Promise<void>;
  readonly expectDuplicate: (promise: Promise<unknown>, eventId: string) => Promise<void>;
  readonly expectFollows: (position: number | undefined, previous: number) => void;
  readonly expectPositionsAfter: (actual: readonly number[], previous: number) => void;
}

/**
 * Resolves the options and registers the set-up and clean-up of every test. Called inside the suite's
 * outer `describe`, so that its beforeEach and afterEach apply to the suite's tests only.
 */
export const createContractSuite = (
  name: string,
  setup: () => Promise<ContractStore>,
  options: ContractOptions,
): ContractSuite => {
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
  const subscription = (opts?: Parameters<EventStore['subscribe']>[0]): AsyncIterator<SubscriptionMessage> =>
    store.subscribe(opts)[Symbol.asyncIterator]();

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
  // A store that keeps nothing across a close has nothing to reopen: these tests are not declared at all.
  const describeReopen = canReopen ? describe : (): void => undefined;

  return {
    name,
    dense,
    canTamper,
    largeStreamEvents,
    largeStreamBatch,
    deliveryTimeoutMs,
    get handle() {
      return handle;
    },
    get store() {
      return store;
    },
    set store(replacement: EventStore) {
      store = replacement;
    },
    describeReopen,
    append,
    readStream,
    readAll,
    subscription,
    appendInterleaved,
    expectConflict,
    expectDuplicate,
    expectFollows,
    expectPositionsAfter,
  };
};
