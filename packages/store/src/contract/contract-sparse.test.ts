import type { RecordedEvent } from '@partner-ledger/events';
import { createInMemoryStoreWithTampering } from '../in-memory';
import type { EventStore, SubscriptionMessage } from '../port';
import { describeEventStoreContract } from './index';

// The contract's `increasing` mode, itself under test: the in-memory store seen through positions with gaps
// that do not start at 0 (position * 7 + 100), as EventStoreDB's commit positions are. A correct store with
// such positions must pass the whole suite in that mode. Like the EventStoreDB adapter, the wrapper refuses
// to read from a position it could not have reported (see startOf), so the suite must not make one up.

const STEP = 7;
const OFFSET = 100;
const outward = (position: number): number => position * STEP + OFFSET;
/** The first inner position at or after an outer one: where a read "from `position`, inclusive" starts. */
const inwardFrom = (position: number): number => Math.max(0, Math.ceil((position - OFFSET) / STEP));
/** The last inner position at or before an outer one: the bound of "as known at `position`". */
const inwardUpTo = (position: number): number => Math.floor((position - OFFSET) / STEP);
/** An outer position that the store reported for an event (tamper hooks are given only those). */
const inwardExact = (position: number): number => {
  const inner = inwardUpTo(position);
  if (outward(inner) !== position) throw new RangeError(`${position} is not an event's position`);
  return inner;
};

const outwardEvent = (event: RecordedEvent): RecordedEvent => ({
  ...event,
  position: outward(event.position),
});

async function* mapEvents(events: AsyncIterable<RecordedEvent>): AsyncGenerator<RecordedEvent> {
  for await (const event of events) yield outwardEvent(event);
}

/**
 * The store with every position mapped: outward on the way out, inward on the way in. A read or
 * subscription may start at 0, at an event's position, at an event's position + 1, or past the head, as on
 * EventStoreDB; any other start is a RangeError.
 */
const withSparsePositions = (inner: EventStore): EventStore => {
  const startOf = async (fromPosition: number | undefined): Promise<{ fromPosition?: number }> => {
    if (fromPosition === undefined) return {};
    const event = inwardUpTo(fromPosition);
    const known =
      fromPosition === 0 ||
      (event >= 0 && [outward(event), outward(event) + 1].includes(fromPosition)) ||
      fromPosition > outward(await inner.headPosition());
    if (!known) throw new RangeError(`position ${fromPosition} is not a position of this store`);
    return { fromPosition: inwardFrom(fromPosition) };
  };
  return {
    append: async (stream, events, options) => {
      const result = await inner.append(stream, events, options);
      return {
        ...result,
        events: result.events.map(outwardEvent),
        lastPosition: outward(result.lastPosition),
      };
    },
    readStream: (stream, options = {}) =>
      mapEvents(
        inner.readStream(stream, {
          ...options,
          ...(options.asKnownAt?.position === undefined
            ? {}
            : { asKnownAt: { ...options.asKnownAt, position: inwardUpTo(options.asKnownAt.position) } }),
        }),
      ),
    readAll: async function* (options = {}): AsyncGenerator<RecordedEvent> {
      const from = await startOf(options.fromPosition);
      yield* mapEvents(
        inner.readAll({
          ...options,
          ...from,
          ...(options.asKnownAt?.position === undefined
            ? {}
            : { asKnownAt: { ...options.asKnownAt, position: inwardUpTo(options.asKnownAt.position) } }),
        }),
      );
    },
    subscribe: async function* (options = {}): AsyncGenerator<SubscriptionMessage> {
      const from = await startOf(options.fromPosition);
      for await (const message of inner.subscribe({ ...options, ...from })) {
        yield message.kind === 'event'
          ? { kind: 'event', event: outwardEvent(message.event) }
          : { kind: 'caughtUp', position: message.position < 0 ? -1 : outward(message.position) };
      }
    },
    headPosition: async () => {
      const head = await inner.headPosition();
      return head < 0 ? -1 : outward(head);
    },
    close: () => inner.close(),
  };
};

const sparseStore = () => {
  const { store, tampering } = createInMemoryStoreWithTampering({ defaultPageSize: 4 });
  const sparse = withSparsePositions(store);
  const inwardEvent = (event: RecordedEvent): RecordedEvent => ({
    ...event,
    position: inwardExact(event.position),
  });
  return {
    store: sparse,
    cleanup: () => sparse.close(),
    tamper: {
      editEventData: async (position: number, data: unknown) => (
        tampering.editEventData(inwardExact(position), data),
        sparse
      ),
      deleteEvent: async (position: number) => (tampering.deleteEvent(inwardExact(position)), sparse),
      swapEvents: async (a: number, b: number) => (
        tampering.swapEvents(inwardExact(a), inwardExact(b)),
        sparse
      ),
      insertEvent: async (position: number, event: RecordedEvent) => (
        tampering.insertEvent(inwardExact(position), inwardEvent(event)),
        sparse
      ),
    },
  };
};

describeEventStoreContract('in-memory store with sparse positions (x * 7 + 100)', async () => sparseStore(), {
  canTamper: true,
  positions: 'increasing',
  // The dense-mode run of the in-memory store (in-memory.test.ts) holds the large stream; this run checks
  // the order of its positions, which needs no 100,000 events.
  largeStreamEvents: 5_000,
});

describe('the sparse-position wrapper', () => {
  it('gives positions with gaps, not from 0, and refuses to start where it could not have reported', async () => {
    const { store } = sparseStore();
    const event = {
      id: 'e-0',
      type: 'ContractChecked',
      schemaVersion: 1,
      data: {},
      occurredAt: '2026-01-01T00:00:00.000Z',
      recordedAt: '2026-01-01T00:00:00.000Z',
      actor: 'test:contract',
      correlationId: 'corr-contract',
      causationId: null,
    };
    const result = await store.append('s', [event, { ...event, id: 'e-1' }]);
    expect(result.events.map((e) => e.position)).toEqual([100, 107]);
    expect(await store.headPosition()).toBe(107);
    const idsFrom = async (fromPosition: number): Promise<string[]> => {
      const ids: string[] = [];
      for await (const e of store.readAll({ fromPosition })) ids.push(e.id);
      return ids;
    };
    expect(await idsFrom(0)).toEqual(['e-0', 'e-1']);
    expect(await idsFrom(101)).toEqual(['e-1']);
    expect(await idsFrom(107)).toEqual(['e-1']);
    expect(await idsFrom(108)).toEqual([]);
    expect(await idsFrom(500)).toEqual([]);
    await expect(idsFrom(1)).rejects.toThrow(RangeError);
    await expect(idsFrom(103)).rejects.toThrow(RangeError);
    await store.close();
  });
});
