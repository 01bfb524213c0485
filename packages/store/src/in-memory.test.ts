import { describeEventStoreContract } from '@partner-ledger/store/contract';
import type { NewEvent } from '@partner-ledger/events';
import { createInMemoryStore, createInMemoryStoreWithTampering } from './in-memory';

// The in-memory store runs the whole contract, tamper tests included (it has nothing to reopen).
describeEventStoreContract(
  'in-memory store',
  async () => {
    // A small page size, so that the contract's reads cross many page boundaries.
    const { store, tampering } = createInMemoryStoreWithTampering({ defaultPageSize: 4 });
    return {
      store,
      cleanup: () => store.close(),
      tamper: {
        editEventData: async (position, data) => (tampering.editEventData(position, data), store),
        deleteEvent: async (position) => (tampering.deleteEvent(position), store),
        swapEvents: async (a, b) => (tampering.swapEvents(a, b), store),
        insertEvent: async (position, event) => (tampering.insertEvent(position, event), store),
      },
    };
  },
  { canTamper: true },
);

const makeEvent = (id: string, overrides: Partial<NewEvent> = {}): NewEvent => ({
  id,
  type: 'MemoryChecked',
  schemaVersion: 1,
  data: { id },
  occurredAt: '2026-05-01T00:00:00.000Z',
  recordedAt: '2026-05-01T00:00:00.000Z',
  actor: 'test:memory',
  correlationId: 'corr-memory',
  causationId: null,
  ...overrides,
});

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

describe('in-memory store, beyond the contract', () => {
  it('rejects events that break the envelope, naming the field, and writes nothing', async () => {
    const store = createInMemoryStore();
    const bad: [Partial<NewEvent>, string][] = [
      [{ id: '' }, 'invalid id'],
      [{ recordedAt: '2026-05-01' }, 'invalid recordedAt'],
      [{ occurredAt: 'yesterday' }, 'invalid occurredAt'],
      [{ schemaVersion: -1 }, 'invalid schemaVersion'],
      [{ causationId: ' padded ' }, 'invalid causationId'],
      [{ data: undefined }, 'invalid data'],
    ];
    for (const [overrides, message] of bad) {
      await expect(store.append('s', [makeEvent('ok'), makeEvent('x', overrides)])).rejects.toThrow(
        new TypeError(`event 1 of the append to "s": ${message}`).message,
      );
    }
    await expect(store.append('', [makeEvent('e')])).rejects.toThrow(TypeError);
    expect(await store.headPosition()).toBe(-1);
  });

  it('hands out frozen records: a reader cannot change what others read', async () => {
    const store = createInMemoryStore();
    await store.append('s', [makeEvent('e', { data: { list: [1] } })]);
    const [read] = await collect(store.readStream('s'));
    expect(Object.isFrozen(read)).toBe(true);
    expect(() => (read?.data as { list: number[] }).list.push(2)).toThrow(TypeError);
  });

  it('reads as of the moment a read starts: events appended meanwhile are left out', async () => {
    const store = createInMemoryStore({ defaultPageSize: 2 });
    await store.append('s', [makeEvent('a'), makeEvent('b'), makeEvent('c')]);
    const seen: string[] = [];
    for await (const event of store.readAll()) {
      seen.push(event.id);
      if (seen.length === 1) await store.append('s', [makeEvent('late')]);
    }
    expect(seen).toEqual(['a', 'b', 'c']);
    const streamSeen: string[] = [];
    for await (const event of store.readStream('s')) {
      streamSeen.push(event.id);
      if (streamSeen.length === 1) await store.append('s', [makeEvent('later')]);
    }
    expect(streamSeen).toEqual(['a', 'b', 'c', 'late']);
  });

  it('rejects nonsense read options', async () => {
    const store = createInMemoryStore();
    await expect(collect(store.readAll({ pageSize: 0 }))).rejects.toThrow(RangeError);
    await expect(collect(store.readAll({ fromPosition: -1 }))).rejects.toThrow(RangeError);
    await expect(collect(store.readAll({ asKnownAt: { recordedAt: 'soon' } }))).rejects.toThrow(RangeError);
    await expect(collect(store.readStream('s', { maxCount: -1 }))).rejects.toThrow(RangeError);
    await expect(collect(store.subscribe({ fromPosition: 0.5 }))).rejects.toThrow(RangeError);
    expect(() => createInMemoryStore({ defaultPageSize: 0 })).toThrow(RangeError);
  });

  it('compares asKnownAt.recordedAt as an instant, whatever ISO 8601 form the bound has', async () => {
    const store = createInMemoryStore();
    await store.append('s', [makeEvent('noon', { recordedAt: '2026-05-01T12:00:00.000Z' })]);
    const ids = async (recordedAt: string) =>
      (await collect(store.readAll({ asKnownAt: { recordedAt } }))).map((e) => e.id);
    expect(await ids('2026-05-01T12:00:00Z')).toEqual(['noon']);
    expect(await ids('2026-05-01T13:59:59+02:00')).toEqual([]);
    expect(await ids('2026-05-01T14:00:00+02:00')).toEqual(['noon']);
  });

  it('a subscriber that stops reading (break) leaves nothing behind', async () => {
    const store = createInMemoryStore();
    await store.append('s', [makeEvent('a'), makeEvent('b')]);
    for await (const message of store.subscribe()) {
      expect(message).toMatchObject({ kind: 'event' });
      break;
    }
    // A later append and close must not trip over the finished subscription.
    await store.append('s', [makeEvent('c')]);
    await store.close();
  });
});
