import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeStoredEvent } from '@partner-ledger/events';
import type { RecordedEvent } from '@partner-ledger/events';
import type { EventStore } from '@partner-ledger/store';
import { builtInProjections } from '../builtins';
import { commissionBalances } from '../projections/balances';
import { partnerRevenue } from '../projections/revenue';
import { historyArbitrary, simulate, storeWith } from '../testing/arbitraries';
import { conversion, createEventBuilder, programConfigured } from '../testing/builder';
import type { SimulatedEvent } from '../testing/simulator';
import { createInMemoryCheckpointStore, createJsonFileCheckpointStore } from './checkpoints';
import { followLive } from './live';
import { defineProjection } from './projection';
import {
  CheckpointMismatchError,
  createSession,
  parseCheckpoint,
  replay,
  serializeCheckpoint,
} from './runner';
import type { ReplayProgress } from './runner';

const text = (value: unknown): string => JSON.stringify(value);

const appendAll = async (store: EventStore, events: readonly SimulatedEvent[]): Promise<void> => {
  for (const { stream, event } of events) await store.append(stream, [event]);
};

const waitFor = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
};

const history = (seed: number) => simulate(fc.sample(historyArbitrary(60), { seed, numRuns: 1 })[0]!);

describe('replay', () => {
  it('reports progress as events done out of the events to read', async () => {
    const events = history(1);
    const store = await storeWith(events);
    const seen: ReplayProgress[] = [];
    await replay(store, builtInProjections(), { onProgress: (p) => seen.push(p), progressEvery: 10 });
    expect(seen[0]).toEqual({ done: 0, total: events.length, position: -1, head: events.length - 1 });
    expect(seen.at(-1)).toEqual({
      done: events.length,
      total: events.length,
      position: events.length - 1,
      head: events.length - 1,
    });
    expect(seen.length).toBe(2 + Math.floor(events.length / 10));
  });

  /** A session of the built-ins fed every event of the store by `feed`, beside a replay of the same store. */
  const sessionBesideReplay = async (
    seed: number,
    feed: (session: ReturnType<typeof createSession>, event: RecordedEvent) => Promise<void>,
  ) => {
    const store = await storeWith(history(seed));
    const once = await replay(store, builtInProjections());
    const session = createSession(builtInProjections(), { store });
    for await (const event of store.readAll()) await feed(session, event);
    expect(text(session.results())).toBe(text(once.results));
    return { session, once };
  };

  it('ignores an event at or before the position reached, so a redelivery is not counted twice', async () => {
    const { session, once } = await sessionBesideReplay(2, async (s, event) => {
      await s.prepare(event);
      s.handle(event);
      await s.prepare(event);
      s.handle(event);
    });
    expect(session.eventsRead).toBe(once.eventsRead);
  });

  it('applies an event its caller decoded already exactly as one it decodes itself', async () => {
    const { session, once } = await sessionBesideReplay(3, async (s, event) => {
      await s.prepare(event);
      s.handle(event, decodeStoredEvent(event));
    });
    expect(session.eventsApplied).toBe(once.eventsApplied);
  });

  it('reads the conversion a reversal reverses from the store, and says so when it has none to read', async () => {
    const store = await storeWith(history(2));
    const all = [];
    for await (const event of store.readAll()) all.push(event);
    const reversal = all.find((e) => e.type === 'ConversionReversed');
    expect(reversal).toBeDefined();
    // Balances never ask for the reversed conversion: no store needed.
    const balancesOnly = createSession({ balances: commissionBalances() });
    for await (const event of store.readAll()) balancesOnly.handle(event);
    const withBalances = await replay(store, { balances: commissionBalances() });
    expect(text(balancesOnly.results())).toBe(text(withBalances.results));
    // Revenue does: without a store, the reversal cannot be applied, and nothing is guessed.
    const revenueOnly = createSession({ revenue: partnerRevenue() });
    await expect(revenueOnly.prepare(reversal!)).rejects.toThrow(/without a store/);
    const unprepared = createSession({ revenue: partnerRevenue() });
    await expect(
      (async () => {
        for await (const event of store.readAll()) unprepared.handle(event);
      })(),
    ).rejects.toThrow(/read from the store/);
  });

  it('reads a reversed conversion only if the replay as known at K has it, even if recorded out of order', async () => {
    // The conversion was recorded after its reversal (a store that took recordedAt from the writer): as
    // known at K between the two, the reversal is known and its conversion is not.
    const events = createEventBuilder()
      .add('program', 'ProgramConfigured', programConfigured('USD'))
      .at('2026-02-05T09:00:00.000Z')
      .add(
        'conversion-2',
        'ConversionAttributed',
        conversion({
          conversionId: '2',
          amount: '200.00',
          currency: 'EUR',
          credits: [['a', '200.00']],
          fx: [{ from: 'EUR', to: 'USD', rate: '1.1', source: 'ECB', date: '2026-02-05T00:00:00.000Z' }],
        }),
        { recordedAt: '2026-03-01T00:00:00.000Z' },
      )
      .at('2026-02-20T09:00:00.000Z')
      .add('conversion-2', 'ConversionReversed', {
        reversalId: 'r1',
        conversionId: '2',
        customerId: 'customer-of-2',
        kind: 'refund',
        amount: '50.00',
        currency: 'EUR',
        credits: [{ partnerId: 'a', revenueCredit: '50.00' }],
        lines: [],
        reason: null,
      }).events;
    const store = await storeWith(events);
    // Bounds in other ISO 8601 forms than the events': compared as instants, as the store does. The second
    // is after the conversion was recorded, though its text sorts before the conversion's recordedAt.
    for (const [knownAt, known] of [
      ['2026-02-25T01:00:00+01:00', 2],
      ['2026-02-28T23:00:00-02:00', 3],
    ] as const) {
      const asKnown = await replay(store, builtInProjections(), { asKnownAt: { recordedAt: knownAt } });
      const prefix = events.filter((e) => Date.parse(e.event.recordedAt) <= Date.parse(knownAt));
      expect(prefix).toHaveLength(known);
      const expected = await replay(await storeWith(prefix), builtInProjections());
      expect(text(asKnown.results)).toBe(text(expected.results));
      // Without its conversion, the reversal has no rate into USD; with it, it is converted at 1.1.
      expect(asKnown.results.revenue.program.periods['2026-02']!.unconverted).toEqual(
        known === 2 ? { EUR: '-50.00' } : {},
      );
    }
  });

  it('refuses a checkpoint taken with other projections or options', async () => {
    const store = await storeWith(history(3));
    const outcome = await replay(
      store,
      { revenue: partnerRevenue() },
      { effectiveAt: '2026-02-01T00:00:00.000Z' },
    );
    const checkpoint = outcome.checkpoint();
    await expect(replay(store, { balances: commissionBalances() }, { from: checkpoint })).rejects.toThrow(
      CheckpointMismatchError,
    );
    await expect(replay(store, { revenue: commissionBalances() }, { from: checkpoint })).rejects.toThrow(
      /is a partnerRevenue projection, not commissionBalances/,
    );
    await expect(replay(store, { revenue: partnerRevenue() }, { from: checkpoint })).rejects.toThrow(
      /effective at 2026-02-01T00:00:00.000Z, not null/,
    );
    expect(() => parseCheckpoint('{"format":"something else"}')).toThrow(CheckpointMismatchError);
  });

  it('serialises a checkpoint canonically: the same state gives the same bytes', async () => {
    const store = await storeWith(history(4));
    const a = serializeCheckpoint((await replay(store, builtInProjections())).checkpoint());
    const b = serializeCheckpoint((await replay(store, builtInProjections())).checkpoint());
    expect(a).toBe(b);
    expect(serializeCheckpoint(parseCheckpoint(a))).toBe(a);
  });

  it('runs a projection written with defineProjection over a plain JSON state', async () => {
    const clicksByPartner = defineProjection({
      name: 'clicksByPartner',
      initialState: (): Record<string, number> => ({}),
      apply: (state, event) => {
        if (event.type === 'ClickTracked')
          state[event.data.partnerId] = (state[event.data.partnerId] ?? 0) + 1;
        return state;
      },
      result: (state) => ({ ...state }),
    });
    const events = history(5);
    const store = await storeWith(events);
    const half = await replay(store, { clicks: clicksByPartner }, { asKnownAt: { position: 20 } });
    const rest = await replay(
      store,
      { clicks: clicksByPartner },
      { from: parseCheckpoint(serializeCheckpoint(half.checkpoint())) },
    );
    const expected: Record<string, number> = {};
    for (const { event } of events)
      if (event.type === 'ClickTracked')
        expected[event.data.partnerId] = (expected[event.data.partnerId] ?? 0) + 1;
    expect(rest.results.clicks).toEqual(expected);
  });
});

describe('checkpoint stores', () => {
  it('keeps checkpoints in JSON files, replaced whole', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'projections-'));
    try {
      const checkpoints = createJsonFileCheckpointStore(join(directory, 'nested'));
      expect(await checkpoints.load('main')).toBeUndefined();
      const store = await storeWith(history(6));
      const checkpoint = (await replay(store, builtInProjections())).checkpoint();
      await checkpoints.save('main', checkpoint);
      const text = await readFile(join(directory, 'nested', 'main.checkpoint.json'), 'utf8');
      expect(text).toBe(serializeCheckpoint(checkpoint));
      expect(serializeCheckpoint((await checkpoints.load('main'))!)).toBe(text);
      await expect(checkpoints.save('../escape', checkpoint)).rejects.toThrow(/checkpoint id/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('followLive', () => {
  it('catches up, follows new events, and resumes after a restart with no gap and no double count', async () => {
    const events = history(7);
    const third = Math.floor(events.length / 3);
    const store = await storeWith(events.slice(0, third));
    const checkpoints = createInMemoryCheckpointStore();
    const options = { checkpoints, checkpointId: 'builtins', checkpointEvery: 7 };

    const first = new AbortController();
    const live = await followLive(store, builtInProjections(), { ...options, signal: first.signal });
    expect(await live.caughtUp).toBe(third - 1);
    expect(text(live.results())).toBe(text((await replay(store, builtInProjections())).results));
    await appendAll(store, events.slice(third, 2 * third));
    await waitFor(() => live.position() === 2 * third - 1);
    expect(text(live.results())).toBe(text((await replay(store, builtInProjections())).results));
    first.abort();
    await live.stopped;
    expect((await checkpoints.load('builtins'))!.position).toBe(2 * third - 1);

    // Events appended while nothing follows, then a restart from the saved checkpoint.
    await appendAll(store, events.slice(2 * third, 2 * third + 5));
    const second = new AbortController();
    const resumed = await followLive(store, builtInProjections(), { ...options, signal: second.signal });
    await resumed.caughtUp;
    await appendAll(store, events.slice(2 * third + 5));
    await waitFor(() => resumed.position() === events.length - 1);
    const full = await replay(store, builtInProjections());
    expect(text(resumed.results())).toBe(text(full.results));
    second.abort();
    await resumed.stopped;
    expect(serializeCheckpoint((await checkpoints.load('builtins'))!)).toBe(
      serializeCheckpoint(full.checkpoint()),
    );
  });
});
