import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { RecordedEvent } from '@partner-ledger/events';
import { createInMemoryStore } from '@partner-ledger/store';
import type { AsKnownAt, EventStore } from '@partner-ledger/store';
import { builtInProjections } from '../builtins';
import { historyArbitrary, simulate } from '../testing/arbitraries';
import type { SimulatedEvent } from '../testing/simulator';
import { projectionCodeVersion } from './code-version';
import { crc32InJavaScript, crc32OfText, replayWithCheckpoints } from './resume';
import { replay } from './runner';
import { createDirectoryShelf, createInMemoryShelf } from './shelf';
import type { CheckpointShelf } from './shelf';

const RUNS = Number(process.env['PROJECTION_RUNS'] ?? 25);
const describeSet = 'built-ins';
const projections = () => builtInProjections();

/** Everything a report prints of a replay: the results, where it stopped, how many events it read. */
const printed = (outcome: {
  results: unknown;
  position: number;
  eventsRead: number;
  eventsApplied: number;
}): string => JSON.stringify([outcome.results, outcome.position, outcome.eventsRead, outcome.eventsApplied]);

const plain = async (store: EventStore, bounds: { effectiveAt?: string; asKnownAt?: AsKnownAt } = {}) =>
  printed(await replay(store, projections(), bounds));

const resumed = (
  store: EventStore,
  shelf: CheckpointShelf,
  every: number,
  bounds: { effectiveAt?: string; asKnownAt?: AsKnownAt } = {},
  notices: string[] = [],
) =>
  replayWithCheckpoints(store, projections(), {
    shelf,
    describe: describeSet,
    checkpointEvery: every,
    onNotice: (message) => notices.push(message),
    ...bounds,
  });

/**
 * The store with every position 1,000 higher, and no pages: a store whose first event is not at position 0
 * (as on EventStoreDB, whose positions are sparse), for the lookups of a checkpoint's events.
 */
const SHIFT = 1000;
const shifted = (inner: EventStore): EventStore => {
  const inward = (k: AsKnownAt | undefined) =>
    k === undefined
      ? {}
      : { asKnownAt: k.position === undefined ? k : { ...k, position: k.position - SHIFT } };
  async function* outward(events: AsyncIterable<RecordedEvent>) {
    for await (const event of events) yield { ...event, position: event.position + SHIFT };
  }
  return {
    ...inner,
    readAllPages: undefined,
    headPosition: async () => {
      const head = await inner.headPosition();
      return head < 0 ? head : head + SHIFT;
    },
    readAll: (o = {}) =>
      outward(
        inner.readAll({
          ...o,
          fromPosition: Math.max(0, (o.fromPosition ?? 0) - SHIFT),
          ...inward(o.asKnownAt),
        }),
      ),
    readStream: (stream, o = {}) => outward(inner.readStream(stream, { ...o, ...inward(o.asKnownAt) })),
  } as EventStore;
};

const append = async (store: EventStore, events: readonly SimulatedEvent[]): Promise<void> => {
  for (const { stream, event } of events) await store.append(stream, [event]);
};

describe('replayWithCheckpoints', () => {
  it('prints byte-identical reports with and without checkpoints at every position, as of any moment', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary(40),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        fc.nat(),
        async (actions, every, pickOccurred, pickRecorded) => {
          const events = simulate(actions);
          const store = createInMemoryStore();
          const shelf = createInMemoryShelf();
          const notices: string[] = [];
          const occurred = events.map((e) => e.event.occurredAt).sort();
          for (let n = 0; n < events.length; n += 1) {
            // The ledger grows by one event; the report is run again, resuming from what the last one wrote.
            await append(store, events.slice(n, n + 1));
            const outcome = await resumed(store, shelf, every, {}, notices);
            expect(printed(outcome)).toBe(await plain(store));
            // In the past: effective at a moment, known at a moment, known at a position.
            const effectiveAt = occurred[(pickOccurred + n) % occurred.length]!;
            const recordedAt = events[(pickRecorded + n) % (n + 1)]!.event.recordedAt;
            const position = (pickRecorded + n) % (n + 1);
            for (const bounds of [
              { effectiveAt },
              { asKnownAt: { recordedAt } },
              { asKnownAt: { position } },
              { effectiveAt, asKnownAt: { position } },
            ]) {
              const past = await resumed(store, shelf, every, bounds, notices);
              expect(printed(past)).toBe(await plain(store, bounds));
              expect(past.checkpointsWritten).toEqual([]);
            }
          }
          expect(notices).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('resumes from the latest checkpoint at or before an as-of or known-at, and reads only what follows', async () => {
    const events = fc
      .sample(historyArbitrary(120), { numRuns: 10, seed: 7 })
      .map(simulate)
      .sort((a, b) => b.length - a.length)[0]!;
    expect(events.length).toBeGreaterThan(30);
    const store = createInMemoryStore();
    await append(store, events);
    const shelf = createInMemoryShelf();
    const every = Math.floor(events.length / 5);
    const first = await resumed(store, shelf, every);
    const written = first.checkpointsWritten;
    expect(written.length).toBe(Math.floor(events.length / every));
    expect(first.resumedFrom).toBeNull();
    // Again, unchanged: from the latest checkpoint, reading only the events after it.
    const again = await resumed(store, shelf, every);
    expect(again.resumedFrom).toBe(written[written.length - 1]);
    expect(again.checkpointsWritten).toEqual([]);
    // Known at a position: the latest checkpoint at or before it.
    const position = written[1]! + 1;
    const known = await resumed(store, shelf, every, { asKnownAt: { position } });
    expect(known.resumedFrom).toBe(written[1]);
    expect(printed(known)).toBe(await plain(store, { asKnownAt: { position } }));
    // Effective at a moment: the latest checkpoint whose events all occurred by then.
    const prefixMax = (p: number) =>
      events
        .slice(0, p + 1)
        .map((e) => e.event.occurredAt)
        .sort()
        .pop()!;
    const effectiveAt = prefixMax(written[2]!);
    const effective = await resumed(store, shelf, every, { effectiveAt });
    expect(effective.resumedFrom).toBe(Math.max(...written.filter((p) => prefixMax(p) <= effectiveAt)));
    expect(printed(effective)).toBe(await plain(store, { effectiveAt }));
  });

  it('ignores, with a notice, a corrupt checkpoint and one taken on another ledger', async () => {
    const events = simulate(fc.sample(historyArbitrary(60), { numRuns: 1, seed: 11 })[0]!);
    const store = createInMemoryStore();
    await append(store, events);
    const shelf = createInMemoryShelf();
    const every = Math.floor(events.length / 4);
    const first = await resumed(store, shelf, every);
    const [set] = shelf.sets();
    const latest = first.checkpointsWritten[first.checkpointsWritten.length - 1]!;
    const before = first.checkpointsWritten[first.checkpointsWritten.length - 2]!;
    // A flipped digit in the state: the checksum does not match.
    shelf.tamper(set!, latest, ({ header, body }) => ({
      header,
      body: body.replace(/[0-9]/, (d) => String((Number(d) + 1) % 10)),
    }));
    const notices: string[] = [];
    const outcome = await resumed(store, shelf, every, {}, notices);
    expect(printed(outcome)).toBe(await plain(store));
    expect(outcome.resumedFrom).toBe(before);
    expect(notices).toEqual([expect.stringMatching(`checkpoint at position ${latest} .* is corrupt`)]);

    // Another ledger, with the same shelf: its first event differs, so nothing of the shelf is used.
    const other = createInMemoryStore();
    await append(other, simulate(fc.sample(historyArbitrary(60), { numRuns: 1, seed: 12 })[0]!));
    const foreign: string[] = [];
    const elsewhere = await replayWithCheckpoints(other, projections(), {
      shelf,
      describe: describeSet,
      checkpointEvery: 1,
      write: false,
      onNotice: (message) => foreign.push(message),
    });
    expect(elsewhere.resumedFrom).toBeNull();
    expect(printed(elsewhere)).toBe(await plain(other));
    expect(foreign.length).toBeGreaterThan(0);
    // The simulator starts every ledger alike: its first events may match, the event at the position does not.
    expect(foreign[0]).toMatch(/another ledger|does not match this ledger/);

    // A header claiming another event at its position (a history rewritten after it was taken). The corrupt
    // checkpoint was written again by the report above, whole: it is the one tampered with now.
    shelf.tamper(set!, latest, ({ header, body }) => ({
      header: header.replace(/"hash":"[0-9a-f]{64}"/, `"hash":"${'0'.repeat(64)}"`),
      body,
    }));
    const rewritten: string[] = [];
    const again = await resumed(store, shelf, every, {}, rewritten);
    expect(printed(again)).toBe(await plain(store));
    expect(again.resumedFrom).toBe(before);
    expect(rewritten).toEqual([expect.stringMatching(`position ${latest} .* does not match`)]);
  });

  it("checks a body's CRC-32 in JavaScript as zlib does, where zlib has none", () => {
    for (const text of ['', 'a', '{"name":"Zoë ☃ 😀"}', 'x'.repeat(10_000)])
      expect(crc32InJavaScript(text)).toBe(crc32(text));
    expect(crc32OfText('123456789')).toBe(0xcbf43926);
  });

  it('ignores, with a notice, a checkpoint of the older shelved format (a SHA-256 of its body)', async () => {
    const events = simulate(fc.sample(historyArbitrary(60), { numRuns: 1, seed: 14 })[0]!);
    const store = createInMemoryStore();
    await append(store, events);
    const shelf = createInMemoryShelf();
    const every = Math.floor(events.length / 4);
    const first = await resumed(store, shelf, every);
    const [set] = shelf.sets();
    const written = first.checkpointsWritten;
    const latest = written[written.length - 1]!;
    const before = written[written.length - 2]!;
    // Its header as partner-ledger/shelved-checkpoint@1 wrote it, the body's checksum a SHA-256 (right).
    const older = ({ header, body }: { header: string; body: string }) => {
      const { bodyCrc32, ...h } = JSON.parse(header) as Record<string, unknown>;
      expect(bodyCrc32).toBe(crc32OfText(body));
      return {
        header: JSON.stringify({
          ...h,
          format: 'partner-ledger/shelved-checkpoint@1',
          bodySha256: createHash('sha256').update(body).digest('hex'),
        }),
        body,
      };
    };
    shelf.tamper(set!, latest, older);
    const notices: string[] = [];
    const outcome = await resumed(store, shelf, every, {}, notices);
    expect(outcome.resumedFrom).toBe(before);
    expect(printed(outcome)).toBe(await plain(store));
    expect(notices).toEqual([expect.stringMatching(`checkpoint at position ${latest} .* is not readable`)]);
    // The current header with its CRC-32 off by one bit: corrupt.
    shelf.tamper(set!, latest, ({ header, body }) => {
      const h = JSON.parse(header) as { bodyCrc32: number };
      return { header: JSON.stringify({ ...h, bodyCrc32: (h.bodyCrc32 ^ 1) >>> 0 }), body };
    });
    const corrupt: string[] = [];
    const again = await resumed(store, shelf, every, {}, corrupt);
    expect(again.resumedFrom).toBe(before);
    expect(printed(again)).toBe(await plain(store));
    expect(corrupt).toEqual([expect.stringMatching(`checkpoint at position ${latest} .* is corrupt`)]);
  });

  it('ignores, with a notice, a checkpoint whose balances state is of the older format (lines unpacked)', async () => {
    const events = simulate(fc.sample(historyArbitrary(60), { numRuns: 1, seed: 13 })[0]!);
    const store = createInMemoryStore();
    await append(store, events);
    const shelf = createInMemoryShelf();
    const every = Math.floor(events.length / 4);
    const first = await resumed(store, shelf, every);
    const [set] = shelf.sets();
    const written = first.checkpointsWritten;
    const latest = written[written.length - 1]!;
    const before = written[written.length - 2]!;
    // The balances state as the format before commissionBalances@2 saved it: one array per line, unpacked,
    // and no format tag. Its header is made to match, so that only the state's form is wrong.
    const older = ({ header, body }: { header: string; body: string }) => {
      const document = JSON.parse(body) as { states: { balances: { state: Record<string, unknown> } } };
      const state = document.states.balances.state;
      const packed = state['lines'] as string[];
      const lines: unknown[] = [];
      for (let i = 0; i < packed.length; i += 2) {
        const [remaining, held, inPayouts, payableAt, partnerId, currency, earnedAt] =
          packed[i + 1]!.split('\t');
        lines.push([
          packed[i],
          partnerId,
          currency,
          remaining,
          payableAt,
          held === '1',
          Number(inPayouts),
          earnedAt,
        ]);
      }
      delete state['format'];
      state['lines'] = lines;
      const text = JSON.stringify(document);
      const h = JSON.parse(header) as Record<string, unknown>;
      h['bodyLength'] = text.length;
      h['bodyCrc32'] = crc32OfText(text);
      return { header: JSON.stringify(h), body: text };
    };
    shelf.tamper(set!, latest, older);
    const notices: string[] = [];
    const outcome = await resumed(store, shelf, every, {}, notices);
    expect(outcome.resumedFrom).toBe(before);
    expect(printed(outcome)).toBe(await plain(store));
    expect(notices).toEqual([
      expect.stringMatching(
        `checkpoint at position ${latest} .* cannot be loaded \\(The saved balances state is not of the format`,
      ),
    ]);
    // Every checkpoint of the older format: the report replays from the start, and prints the same.
    for (const position of written) shelf.tamper(set!, position, older);
    const all: string[] = [];
    const replayed = await resumed(store, shelf, every, {}, all);
    expect(replayed.resumedFrom).toBeNull();
    expect(printed(replayed)).toBe(await plain(store));
    expect(all.length).toBe(written.length);
    // As of a moment in the past too.
    const effectiveAt = events[Math.floor(events.length / 2)]!.event.occurredAt;
    for (const position of written) shelf.tamper(set!, position, older);
    const past = await resumed(store, shelf, every, { effectiveAt });
    expect(printed(past)).toBe(await plain(store, { effectiveAt }));
  });

  it('never resumes a checkpoint of another projection code version or another set', async () => {
    const events = simulate(fc.sample(historyArbitrary(40), { numRuns: 1, seed: 3 })[0]!);
    const store = createInMemoryStore();
    await append(store, events);
    const shelf = createInMemoryShelf();
    await resumed(store, shelf, 5);
    const options = { shelf, checkpointEvery: 5 };
    const otherCode = await replayWithCheckpoints(store, projections(), {
      ...options,
      describe: describeSet,
      codeVersion: 'another version',
    });
    expect(otherCode.resumedFrom).toBeNull();
    const otherSet = await replayWithCheckpoints(store, projections(), {
      ...options,
      describe: 'another set',
    });
    expect(otherSet.resumedFrom).toBeNull();
    expect(projectionCodeVersion()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('resumes on a store whose first position is not 0, finding the events a checkpoint names', async () => {
    const events = fc
      .sample(historyArbitrary(120), { numRuns: 10, seed: 7 })
      .map(simulate)
      .sort((a, b) => b.length - a.length)[0]!;
    expect(events.length).toBeGreaterThan(30);
    const inner = createInMemoryStore();
    await append(inner, events);
    const store = shifted(inner);
    const shelf = createInMemoryShelf();
    const notices: string[] = [];
    const first = await resumed(store, shelf, 5, {}, notices);
    expect(first.checkpointsWritten.length).toBeGreaterThan(1);
    expect(first.checkpointsWritten[0]).toBeGreaterThanOrEqual(SHIFT);
    const again = await resumed(store, shelf, 5, {}, notices);
    expect(notices).toEqual([]);
    expect(again.resumedFrom).toBe(first.checkpointsWritten.at(-1));
    expect(printed(again)).toBe(await plain(store));
    // As known at a position between two checkpoints: the earlier one, found though no event is at 0.
    const [before, latest] = first.checkpointsWritten.slice(-2);
    const asKnownAt = { position: latest! - 1 };
    const bounded = await resumed(store, shelf, 5, { asKnownAt }, notices);
    expect(bounded.resumedFrom).toBe(before);
    expect(printed(bounded)).toBe(await plain(store, { asKnownAt }));
  });

  it('leaves the shelf alone for a ledger smaller than the interval', async () => {
    const events = simulate(fc.sample(historyArbitrary(20), { numRuns: 1, seed: 5 })[0]!);
    const store = createInMemoryStore();
    await append(store, events);
    const shelf = createInMemoryShelf();
    const outcome = await resumed(store, shelf, events.length + 1);
    expect(outcome.checkpointsWritten).toEqual([]);
    expect(printed(outcome)).toBe(await plain(store));
  });

  it('keeps checkpoints in a directory, and survives one cut short', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'partner-ledger-shelf-'));
    try {
      const events = simulate(fc.sample(historyArbitrary(40), { numRuns: 1, seed: 9 })[0]!);
      const store = createInMemoryStore();
      await append(store, events);
      const shelf = createDirectoryShelf(directory);
      const first = await resumed(store, shelf, 7);
      expect(first.checkpointsWritten.length).toBeGreaterThan(1);
      const [set] = await readdir(directory);
      const files = (await readdir(join(directory, set!))).sort();
      expect(files.length).toBe(first.checkpointsWritten.length);
      // The latest one cut short, as a crash during its write could leave it.
      const latest = join(directory, set!, files[files.length - 1]!);
      const text = await readFile(latest, 'utf8');
      await writeFile(latest, text.slice(0, Math.floor(text.length * 0.8)));
      const notices: string[] = [];
      const outcome = await resumed(store, shelf, 7, {}, notices);
      expect(printed(outcome)).toBe(await plain(store));
      expect(outcome.resumedFrom).toBe(first.checkpointsWritten[first.checkpointsWritten.length - 2]);
      expect(notices).toEqual([expect.stringMatching(/is corrupt/)]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
