import { randomUUID } from 'node:crypto';
import type { NewEvent } from '@partner-ledger/events';
import { verifyStore } from '@partner-ledger/store';
import { describeEventStoreContract } from '@partner-ledger/store/contract';
import { createEventStoreDbStore } from './store';
import type { EventStoreDbStore } from './store';

// The adapter against a real EventStoreDB or KurrentDB: the only tests that prove it. They run when
// EVENTSTOREDB_URL holds a connection string (`esdb://localhost:2113?tls=false` for the container of
// docs/stores.md); use a throwaway server, as every test leaves its streams behind. Each test works in a
// namespace of its own, so that it sees an empty store on a shared server.

const url = process.env.EVENTSTOREDB_URL?.trim() ?? '';

if (url === '') {
  describe('EventStoreDB adapter against a live server', () => {
    it.skip('skipped: no EventStoreDB server is configured (set EVENTSTOREDB_URL, e.g. esdb://localhost:2113?tls=false)', () =>
      undefined);
  });
} else {
  const run = randomUUID().slice(0, 8);
  let tests = 0;
  const open = (namespace: string): EventStoreDbStore =>
    createEventStoreDbStore({ connectionString: url, namespace });

  describeEventStoreContract(
    `EventStoreDB at EVENTSTOREDB_URL`,
    async () => {
      const namespace = `contract-${run}-${(tests += 1)}/`;
      const stores = [open(namespace)];
      return {
        store: stores[0] as EventStoreDbStore,
        reopen: async () => {
          await stores[stores.length - 1]?.close();
          const reopened = open(namespace);
          stores.push(reopened);
          return reopened;
        },
        cleanup: async () => {
          await Promise.all(stores.map((store) => store.close()));
        },
      };
    },
    // Positions are the server's commit positions: increasing, with gaps, not from 0.
    { canReopen: true, canTamper: false, deliveryTimeoutMs: 15_000, positions: 'increasing' },
  );

  describe('EventStoreDB adapter against a live server: what only this store does', () => {
    let store: EventStoreDbStore;
    beforeEach(() => {
      store = open(`adapter-${run}-${(tests += 1)}/`);
    });
    afterEach(async () => {
      await store.close();
    });

    const event = (id: string, n: number): NewEvent => ({
      id,
      type: 'LiveChecked',
      schemaVersion: 1,
      data: { n },
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
      actor: 'test:live',
      correlationId: 'corr-live',
      causationId: null,
    });
    const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
      const items: T[] = [];
      for await (const item of iterable) items.push(item);
      return items;
    };

    it('reports commit positions: growing, the same in append results, stream reads and reads of all', async () => {
      const a = await store.append('a', [event('a0', 0), event('a1', 1)]);
      const b = await store.append('b', [event('b0', 2)]);
      const all = await collect(store.readAll());
      expect(all.map((e) => e.position)).toEqual([...a.events, ...b.events].map((e) => e.position));
      expect((await collect(store.readStream('a'))).map((e) => e.position)).toEqual(
        a.events.map((e) => e.position),
      );
      const positions = all.map((e) => e.position);
      expect(positions.every((p, i) => i === 0 || p > (positions[i - 1] as number))).toBe(true);
      expect(await store.headPosition()).toBe(b.lastPosition);
      expect((await verifyStore(store)).ok).toBe(true);
    });

    it("resumes from a checkpoint's position + 1, and keeps checkpoints across stores", async () => {
      const { events } = await store.append('a', [event('a0', 0), event('a1', 1), event('a2', 2)]);
      await store.checkpoints.save('live', events[0]?.position as number);
      const other = open(`unused-${run}-${(tests += 1)}/`);
      await other.close();
      const saved = await store.checkpoints.load('live');
      const resumed = await collect(store.readAll({ fromPosition: (saved as number) + 1 }));
      expect(resumed.map((e) => e.id)).toEqual(['a1', 'a2']);
    });

    it('delivers live events to a subscription after caughtUp', async () => {
      await store.append('a', [event('a0', 0)]);
      const controller = new AbortController();
      const iterator = store.subscribe({ signal: controller.signal })[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toMatchObject({ kind: 'event', event: { id: 'a0' } });
      expect((await iterator.next()).value).toMatchObject({ kind: 'caughtUp' });
      const live = iterator.next();
      await store.append('b', [event('b0', 1)]);
      expect((await live).value).toMatchObject({ kind: 'event', event: { id: 'b0' } });
      controller.abort();
      expect((await iterator.next()).done).toBe(true);
    });
  });
}
