import {
  ERASED_MARKER,
  SEALED_MARKER,
  createInMemoryKeyStore,
  isSealedValue,
  newEvent,
} from '@partner-ledger/events';
import type { KeyStore, RecordedEvent } from '@partner-ledger/events';
import { createInMemoryStore } from './in-memory';
import { eachEvent } from './paged';
import type { PagedReads } from './paged';
import type { EventStore } from './port';
import { createSealingStore } from './sealing';

// The sealing store opens sealed fields on every way out: readStream, readAll and subscribe. A projection
// or a read model that follows the log through subscribe must see exactly what a reader of readAll sees,
// for events that existed when it subscribed and for live ones, and after an erasure.

const AT = '2026-03-01T00:00:00.000Z';
const meta = (id: string) => ({
  id,
  occurredAt: AT,
  recordedAt: AT,
  actor: 'test',
  correlationId: 'c',
  causationId: null,
});
const joined = (partnerId: string, name: string, id: string) =>
  newEvent(
    'PartnerJoined',
    {
      partnerId,
      name,
      partnerType: 'affiliate',
      planId: 'std',
      parentPartnerId: null,
      payoutCurrency: 'USD',
      couponCodes: [],
      ownAccountIds: [],
      payee: { method: 'paypal', email: `${partnerId}@pay.example` },
    },
    meta(id),
  );
const ids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];

const readAll = async (store: EventStore): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
};

/** The events a subscription delivers from the start until `count` of them arrived (then it is aborted). */
const subscribed = async (
  store: EventStore,
  count: number,
  afterCaughtUp: () => Promise<void> = async () => {},
): Promise<RecordedEvent[]> => {
  const controller = new AbortController();
  const events: RecordedEvent[] = [];
  for await (const message of store.subscribe({ signal: controller.signal })) {
    if (message.kind === 'caughtUp') await afterCaughtUp();
    else events.push(message.event);
    if (events.length === count) controller.abort();
  }
  return events;
};

describe('createSealingStore: subscribe opens sealed fields as read does', () => {
  let beneath: EventStore;
  let keys: KeyStore;
  let sealing: EventStore;
  beforeEach(async () => {
    beneath = createInMemoryStore();
    keys = createInMemoryKeyStore();
    sealing = createSealingStore(beneath, keys);
    await sealing.append('partner-ana', [joined('ana', 'Ana Example', ids[0]!)]);
  });
  afterEach(() => beneath.close());

  it('delivers stored and live events opened, equal to what readAll gives; the store beneath holds ciphertext', async () => {
    const delivered = await subscribed(sealing, 2, async () => {
      // A live event, appended after the subscription caught up.
      await sealing.append('partner-bo', [joined('bo', 'Bo Example', ids[1]!)]);
    });
    expect(delivered.map((e) => e.data)).toMatchObject([
      { name: 'Ana Example', payee: { method: 'paypal', email: 'ana@pay.example' } },
      { name: 'Bo Example', payee: { method: 'paypal', email: 'bo@pay.example' } },
    ]);
    expect(delivered).toEqual(await readAll(sealing));
    const stored = await subscribed(beneath, 2);
    for (const event of stored) {
      const data = event.data as { name: string; payee: { email: string } };
      expect([isSealedValue(data.name), isSealedValue(data.payee.email)]).toEqual([true, true]);
    }
    // Same event ids, positions and hashes through both: only the personal fields differ.
    expect(delivered.map((e) => [e.id, e.position, e.hash])).toEqual(
      stored.map((e) => [e.id, e.position, e.hash]),
    );
  });

  it('after the key is destroyed, subscribe delivers [erased], as readAll does; without the key, [sealed]', async () => {
    await keys.destroy('partner:ana', AT);
    const erased = await subscribed(sealing, 1);
    expect(erased[0]!.data).toMatchObject({
      name: ERASED_MARKER,
      payee: { method: 'paypal', email: ERASED_MARKER },
    });
    expect(erased).toEqual(await readAll(sealing));

    const auditor = createSealingStore(beneath, createInMemoryKeyStore());
    const sealed = await subscribed(auditor, 1);
    expect(sealed[0]!.data).toMatchObject({ name: SEALED_MARKER, payee: { email: SEALED_MARKER } });
    expect(sealed).toEqual(await readAll(auditor));
  });
});

describe('createSealingStore: pages of the store beneath are opened too', () => {
  it('eachEvent over a sealing store on a paged store gives the events readAll gives, opened', async () => {
    const inMemory = createInMemoryStore();
    // A store beneath that offers pages besides the port, as the file store does.
    const beneath: EventStore & PagedReads = {
      ...inMemory,
      readAllPages: async function* (options) {
        const page: RecordedEvent[] = [];
        for await (const event of inMemory.readAll(options)) page.push(event);
        if (page.length > 0) yield page;
      },
    };
    const sealing = createSealingStore(beneath, createInMemoryKeyStore());
    await sealing.append('partner-ana', [joined('ana', 'Ana Example', ids[0]!)]);
    await sealing.append('partner-bo', [joined('bo', 'Bo Example', ids[1]!)]);
    const visited: RecordedEvent[] = [];
    await eachEvent(sealing, {}, (event) => {
      visited.push(event);
      return true;
    });
    expect(visited.map((e) => (e.data as { name: string }).name)).toEqual(['Ana Example', 'Bo Example']);
    expect(visited).toEqual(await readAll(sealing));
    inMemory.close();
  });
});
