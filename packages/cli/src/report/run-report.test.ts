import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { createInMemoryKeyStore } from '@partner-ledger/events';
import { createInMemoryShelf } from '@partner-ledger/projections';
import type { CheckpointShelf } from '@partner-ledger/projections';
import { historyArbitrary, simulate, storeWith } from '@partner-ledger/projections/testing';
import { createInMemoryStore, createSealingStore } from '@partner-ledger/store';
import type { AsKnownAt, EventStore } from '@partner-ledger/store';
import { runReport } from './run-report';
import type { ReportSealing } from './run-report';

/** A shelf that says which checkpoints a report loaded (read the body of). */
const recording = (shelf: CheckpointShelf): CheckpointShelf & { loaded: number[] } => {
  const loaded: number[] = [];
  return {
    where: shelf.where,
    positions: (set) => shelf.positions(set),
    header: (set, position) => shelf.header(set, position),
    body: (set, position) => {
      loaded.push(position);
      return shelf.body(set, position);
    },
    put: (set, position, header, body) => shelf.put(set, position, header, body),
    remove: (set, position) => shelf.remove(set, position),
    loaded,
  };
};

interface Bounds {
  readonly effectiveAt?: string;
  readonly knownAt?: AsKnownAt;
}

/** What `report balances --format json` prints, and the report's CSV and table rows. */
const printed = async (
  store: EventStore,
  bounds: Bounds,
  shelf?: CheckpointShelf,
  notices: string[] = [],
  sealing?: ReportSealing,
) => {
  const report = await runReport(store, 'balances', {
    ...bounds,
    ...(sealing === undefined ? {} : { sealing }),
    ...(shelf === undefined
      ? {}
      : { checkpoints: { shelf, every: 20, onNotice: (message: string) => notices.push(message) } }),
  });
  return JSON.stringify([report.json, report.rows, report.csv]);
};

describe('report balances from checkpoints', () => {
  let store: EventStore;
  let occurred: string[];
  let shelf: ReturnType<typeof createInMemoryShelf>;
  let written: number[];
  beforeAll(async () => {
    const events = simulate(fc.sample(historyArbitrary(120), { numRuns: 1, seed: 21 })[0]!);
    store = await storeWith(events);
    occurred = events.map((e) => e.event.occurredAt);
    shelf = createInMemoryShelf();
    // The report of the whole history writes the checkpoints (every 20 events).
    const plain = await printed(store, {});
    expect(await printed(store, {}, shelf)).toBe(plain);
    const [set] = shelf.sets();
    written = [...(await shelf.positions(set!))].sort((a, b) => a - b);
    expect(written.length).toBeGreaterThan(2);
  });

  it('as of a moment or known at a position in the past, resumes from the latest checkpoint at or before it, byte-identical', async () => {
    for (const checkpoint of written.slice(0, -1)) {
      // Known at a position: the latest checkpoint at or before it.
      const knownAt = { position: checkpoint + 3 };
      const known = recording(shelf);
      expect(await printed(store, { knownAt }, known)).toBe(await printed(store, { knownAt }));
      expect(known.loaded).toEqual([checkpoint]);
      // Effective at the latest occurredAt up to the checkpoint: it, or a later one whose events all occurred
      // by then (occurredAt is not in append order), never one with an event after it.
      const effectiveAt = occurred
        .slice(0, checkpoint + 1)
        .sort()
        .pop()!;
      const fits = written.filter((p) => occurred.slice(0, p + 1).every((at) => at <= effectiveAt));
      const effective = recording(shelf);
      expect(await printed(store, { effectiveAt }, effective)).toBe(await printed(store, { effectiveAt }));
      expect(effective.loaded).toEqual([Math.max(...fits)]);
    }
  });

  it('ignores checkpoints whose balances state is of the older format, and replays to the same bytes', async () => {
    const older = createInMemoryShelf();
    const plain = await printed(store, {});
    await printed(store, {}, older);
    const [set] = older.sets();
    for (const position of await older.positions(set!))
      older.tamper(set!, position, ({ header, body }) => {
        // As saved before commissionBalances@2: no format tag (the lines' form aside, this is what is checked).
        const document = JSON.parse(body) as { states: { balances: { state: Record<string, unknown> } } };
        delete document.states.balances.state['format'];
        const text = JSON.stringify(document);
        const h = JSON.parse(header) as Record<string, unknown>;
        h['bodyLength'] = text.length;
        h['bodyCrc32'] = crc32(text);
        return { header: JSON.stringify(h), body: text };
      });
    const notices: string[] = [];
    expect(await printed(store, {}, older, notices)).toBe(plain);
    expect(notices.length).toBeGreaterThan(0);
    for (const notice of notices)
      expect(notice).toMatch(
        /cannot be loaded \(The saved balances state is not of the format commissionBalances@4/,
      );
    // As of a moment in the past, with only checkpoints of the older format: the same bytes as a replay.
    const effectiveAt = [...occurred].sort()[Math.floor(occurred.length / 2)]!;
    const fresh = createInMemoryShelf();
    expect(await printed(store, { effectiveAt }, fresh)).toBe(await printed(store, { effectiveAt }));
  });
});

describe('report balances from checkpoints, on a ledger with keys', () => {
  it('at every position, and after erasures made since the checkpoints were written, prints what a read of every event through the sealing store prints', async () => {
    const events = simulate(fc.sample(historyArbitrary(120), { numRuns: 1, seed: 21 })[0]!);
    const beneath = createInMemoryStore();
    const keys = createInMemoryKeyStore();
    const store = createSealingStore(beneath, keys);
    for (const { stream, event } of events) await store.append(stream, [event]);
    const sealing = { beneath, keys };
    const shelf = createInMemoryShelf();
    // The reference: no checkpoint, and the replay and the names read through the sealing store.
    expect(await printed(store, {}, shelf, [], sealing)).toBe(await printed(store, {}));
    const [set] = shelf.sets();
    expect((await shelf.positions(set!)).length).toBeGreaterThan(2);
    const joined = events.filter((e) => e.event.type === 'PartnerJoined');
    expect(joined.length).toBeGreaterThan(1);
    for (let position = 0; position < events.length; position += 1) {
      const knownAt = { position };
      const notices: string[] = [];
      expect(await printed(store, { knownAt }, shelf, notices, sealing)).toBe(
        await printed(store, { knownAt }),
      );
      expect(notices).toEqual([]);
    }
    // Partners erased after the checkpoints were written: [erased] in a resumed report as in the reference.
    for (const { event } of joined.slice(0, 2))
      await keys.destroy(
        `partner:${(event.data as { partnerId: string }).partnerId}`,
        '2026-12-01T00:00:00.000Z',
      );
    const loading = recording(shelf);
    const resumed = await printed(store, {}, loading, [], sealing);
    expect(loading.loaded).toHaveLength(1);
    expect(resumed).toContain('[erased]');
    expect(resumed).toBe(await printed(store, {}));
    const knownAt = { position: events.length - 5 };
    expect(await printed(store, { knownAt }, shelf, [], sealing)).toBe(await printed(store, { knownAt }));
  });
});
