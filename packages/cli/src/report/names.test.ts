import { createInMemoryKeyStore, isSealedValue } from '@partner-ledger/events';
import type { KeyStore } from '@partner-ledger/events';
import { replay } from '@partner-ledger/projections';
import {
  createEventBuilder,
  partnerJoined,
  programConfigured,
  storeWith,
} from '@partner-ledger/projections/testing';
import { createInMemoryStore, createSealingStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { namesAtRevisions, partnerNameEvents, partnerNamesOf } from './names';

// The reports read each partner's name where partnerNameEvents (a checkpointed projection) says it is; these
// tests hold that to partnerNamesOf, which reads every partner's whole stream, at every position and moment.

const history = () => {
  const b = createEventBuilder().at('2026-01-01T00:00:00.000Z');
  b.add('program', 'ProgramConfigured', programConfigured());
  b.at('2026-01-02T00:00:00.000Z').add('partner-a', 'PartnerJoined', partnerJoined('a', 'affiliate'));
  b.at('2026-01-03T00:00:00.000Z').add('partner-b', 'PartnerJoined', partnerJoined('b', 'reseller'));
  b.at('2026-01-04T00:00:00.000Z').add('partner-a', 'PartnerContactDetailsChanged', {
    partnerId: 'a',
    name: 'Alpha GmbH',
  });
  // A change with no name: the name stays.
  b.at('2026-01-05T00:00:00.000Z').add('partner-b', 'PartnerContactDetailsChanged', {
    partnerId: 'b',
    contactEmail: 'ops@b.example',
  });
  // Recorded late: it occurred before the change recorded just before it.
  b.add(
    'partner-a',
    'PartnerContactDetailsChanged',
    { partnerId: 'a', name: 'Alpha (old name)' },
    {
      occurredAt: '2026-01-03T12:00:00.000Z',
    },
  );
  b.at('2026-01-06T00:00:00.000Z').add('partner-c', 'PartnerJoined', partnerJoined('c', 'agency'));
  b.at('2026-01-07T00:00:00.000Z').add('partner-b', 'PartnerContactDetailsChanged', {
    partnerId: 'b',
    name: 'Beta Ltd',
  });
  return b.events;
};

describe('partner names read where partnerNameEvents says they are', () => {
  let store: EventStore;
  let occurred: string[];
  let recorded: string[];
  beforeAll(async () => {
    const events = history();
    store = await storeWith(events);
    occurred = events.map((e) => e.event.occurredAt);
    recorded = events.map((e) => e.event.recordedAt);
  });

  it('are those of partnerNamesOf at every position, as of any moment and as known at any time', async () => {
    const ids = ['a', 'b', 'c', 'd'];
    const moments = [undefined, ...new Set(occurred)].sort();
    let compared = 0;
    for (let position = 0; position < occurred.length; position += 1)
      for (const effectiveAt of moments)
        for (const recordedAt of [undefined, recorded[2]!, recorded[5]!]) {
          const knownAt = { position, ...(recordedAt === undefined ? {} : { recordedAt }) };
          const outcome = await replay(
            store,
            { names: partnerNameEvents() },
            { asKnownAt: knownAt, ...(effectiveAt === undefined ? {} : { effectiveAt }) },
          );
          const expected = await partnerNamesOf(store, ids, {
            position: outcome.position,
            ...(effectiveAt === undefined ? {} : { effectiveAt }),
            knownAt,
          });
          expect(await namesAtRevisions(store, ids, outcome.results.names)).toEqual(expected);
          compared += Object.keys(expected).length;
        }
    expect(compared).toBeGreaterThan(100);
    // The whole history: the late change did not undo the newer name.
    const whole = await replay(store, { names: partnerNameEvents() });
    expect(await namesAtRevisions(store, ids, whole.results.names)).toEqual({
      a: 'Alpha (old name)',
      b: 'Beta Ltd',
      c: 'c',
    });
  });

  it('reads names close together in one run, and by revision any not found where recorded', async () => {
    const whole = await replay(store, { names: partnerNameEvents() });
    const recorded = whole.results.names;
    const expected = { a: 'Alpha (old name)', b: 'Beta Ltd', c: 'c' };
    const counted = (): EventStore & { streamReads: number; allReads: number } => {
      const wrapper = {
        ...store,
        streamReads: 0,
        allReads: 0,
        readStream: (...args: Parameters<EventStore['readStream']>) => {
          wrapper.streamReads += 1;
          return store.readStream(...args);
        },
        readAll: (...args: Parameters<EventStore['readAll']>) => {
          wrapper.allReads += 1;
          return store.readAll(...args);
        },
      };
      return wrapper;
    };
    // Positions 5, 6 and 7 (a, c, b): one run, read at once.
    const together = counted();
    expect(await namesAtRevisions(together, ['a', 'b', 'c'], recorded)).toEqual(expected);
    expect([together.allReads, together.streamReads]).toEqual([1, 0]);
    // A position that holds another event (b's recorded at c's): b is read by its revision, with the same name.
    const moved = counted();
    const wrong = { ...recorded, b: [recorded['b']![0], recorded['c']![1]] as const };
    expect(await namesAtRevisions(moved, ['a', 'b', 'c'], wrong)).toEqual(expected);
    expect(moved.streamReads).toBe(1);
    // A wrong revision is never taken for the right one: b then reads as the name at that revision.
    const stale = { ...recorded, b: [0, recorded['b']![1]] as const };
    expect((await namesAtRevisions(store, ['a', 'b', 'c'], stale))['b']).toBe('b');
  });

  it('saves and loads its state, and refuses a state of another format', () => {
    const projection = partnerNameEvents();
    const sealed = 'sealed.v1.cGFydG5lcjpj.aXY.Y3Q.dGFn';
    const state = new Map<string, readonly [number, number] | readonly [number, number, string]>([
      ['b', [3, 40]],
      ['a', [0, 7]],
      ['c', [1, 9, sealed]],
    ]);
    expect(projection.save(state)).toEqual({
      format: 'partnerNameEvents@3',
      events: { a: [0, 7], b: [3, 40], c: [1, 9, sealed] },
    });
    expect([...projection.load(projection.save(state))].sort()).toEqual([...state].sort());
    expect(() => projection.load({ format: 'partnerNameEvents@3', events: { a: [-1, 3] } })).toThrow(
      /not of the format partnerNameEvents@3/,
    );
    // A name that is not in its sealed form (a plaintext) is never taken from a checkpoint.
    expect(() => projection.load({ format: 'partnerNameEvents@3', events: { a: [0, 3, 'Alpha'] } })).toThrow(
      /not of the format partnerNameEvents@3/,
    );
    expect(() => projection.load({ format: 'partnerNameEvents@2', events: { a: [0, 3] } })).toThrow(
      /not of the format/,
    );
  });
});

describe('partner names kept sealed by partnerNameEvents, opened with the keys of the report', () => {
  // The history above appended through a sealing store: the store beneath holds every name sealed with its
  // partner's key; partner d joined in plaintext, straight into the store beneath (a ledger before its keys).
  let beneath: EventStore;
  let keys: KeyStore;
  let sealing: EventStore;
  const ids = ['a', 'b', 'c', 'd'];
  beforeEach(async () => {
    beneath = createInMemoryStore();
    keys = createInMemoryKeyStore();
    sealing = createSealingStore(beneath, keys);
    for (const { stream, event } of history()) await sealing.append(stream, [event]);
    const b = createEventBuilder().at('2026-01-08T00:00:00.000Z');
    b.add('partner-d', 'PartnerJoined', { ...partnerJoined('d', 'agency'), name: 'Delta plaintext' });
    for (const { stream, event } of b.events) await beneath.append(stream, [{ ...event, id: 'evt-d' }]);
  });

  const counted = (store: EventStore): EventStore & { reads: number } => {
    const wrapper = {
      ...store,
      reads: 0,
      readStream: (...args: Parameters<EventStore['readStream']>) => {
        wrapper.reads += 1;
        return store.readStream(...args);
      },
      readAll: (...args: Parameters<EventStore['readAll']>) => {
        wrapper.reads += 1;
        return store.readAll(...args);
      },
    };
    return wrapper;
  };

  const expectedOf = async (store: EventStore) => {
    const head = await store.headPosition();
    return partnerNamesOf(store, ids, { position: head });
  };

  it('keeps the sealed form only, opens it as the sealing store opens the event, and reads only the plaintext one', async () => {
    const outcome = await replay(beneath, { names: partnerNameEvents() });
    const saved = JSON.stringify(partnerNameEvents().save(new Map(Object.entries(outcome.results.names))));
    for (const plaintext of ['Alpha', 'Beta Ltd', 'Delta plaintext']) expect(saved).not.toContain(plaintext);
    expect(isSealedValue(outcome.results.names['a']![2])).toBe(true);
    expect(outcome.results.names['d']).toHaveLength(2);

    const reader = counted(sealing);
    const names = await namesAtRevisions(reader, ids, outcome.results.names, keys);
    expect(names).toEqual({ a: 'Alpha (old name)', b: 'Beta Ltd', c: 'c', d: 'Delta plaintext' });
    expect(names).toEqual(await expectedOf(sealing));
    // Only d's event is read: the sealed names are opened, not read again.
    expect(reader.reads).toBe(1);
    // Without the keys, every name is read through the store, with the same result.
    expect(await namesAtRevisions(sealing, ids, outcome.results.names)).toEqual(names);
  });

  it('shows an erasure made after the state was kept, exactly as a read of the events does', async () => {
    const kept = partnerNameEvents().save(
      new Map(Object.entries((await replay(beneath, { names: partnerNameEvents() })).results.names)),
    );
    await keys.destroy('partner:b', '2026-02-01T00:00:00.000Z');
    await keys.destroy('partner:d', '2026-02-01T00:00:00.000Z');
    const loaded = Object.fromEntries(partnerNameEvents().load(kept));
    const names = await namesAtRevisions(sealing, ids, loaded, keys);
    expect(names).toEqual({ a: 'Alpha (old name)', b: '[erased]', c: 'c', d: '[erased]' });
    expect(names).toEqual(await expectedOf(sealing));
    // A reader whose key store lacks the keys (an auditor's copy) sees [sealed], as it would reading.
    const elsewhere = createInMemoryKeyStore();
    const auditor = createSealingStore(beneath, elsewhere);
    const sealedNames = await namesAtRevisions(auditor, ids, loaded, elsewhere);
    expect(sealedNames).toEqual({ a: '[sealed]', b: '[sealed]', c: '[sealed]', d: 'Delta plaintext' });
    expect(sealedNames).toEqual(await expectedOf(auditor));
    // A key store holding another key under a partner's key id: no name, an error naming the key id.
    const wrong = createInMemoryKeyStore();
    await wrong.getOrCreate('partner:a');
    const misread = createSealingStore(beneath, wrong);
    await expect(namesAtRevisions(misread, ids, loaded, wrong)).rejects.toThrow(
      /key "partner:a" cannot be opened/,
    );
    await expect(expectedOf(misread)).rejects.toThrow(/key "partner:a" cannot be opened/);
  });

  it('keeps no name at all from a replay through the sealing store (its names are opened)', async () => {
    const outcome = await replay(sealing, { names: partnerNameEvents() });
    for (const id of ids) expect(outcome.results.names[id]).toHaveLength(2);
    expect(await namesAtRevisions(sealing, ids, outcome.results.names, keys)).toEqual(
      await expectedOf(sealing),
    );
  });
});
