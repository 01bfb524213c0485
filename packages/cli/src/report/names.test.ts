import { replay } from '@partner-ledger/projections';
import {
  createEventBuilder,
  partnerJoined,
  programConfigured,
  storeWith,
} from '@partner-ledger/projections/testing';
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
    const state = new Map<string, readonly [number, number]>([
      ['b', [3, 40]],
      ['a', [0, 7]],
    ]);
    expect(projection.save(state)).toEqual({
      format: 'partnerNameEvents@2',
      events: { a: [0, 7], b: [3, 40] },
    });
    expect([...projection.load(projection.save(state))].sort()).toEqual([...state].sort());
    expect(() => projection.load({ format: 'partnerNameEvents@2', events: { a: [-1, 3] } })).toThrow(
      /not of the format partnerNameEvents@2/,
    );
    expect(() => projection.load({ format: 'partnerNameEvents@1', revisions: { a: 0 } })).toThrow(
      /not of the format/,
    );
  });
});
