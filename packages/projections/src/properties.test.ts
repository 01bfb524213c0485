import fc from 'fast-check';
import { builtInProjections } from './builtins';
import { replay } from './runtime/runner';
import { historyArbitrary, simulate, storeWith } from './testing/arbitraries';
import {
  checkBalances,
  checkChunkedCatchUp,
  checkEffectiveAt,
  checkIdentical,
  checkKnownAt,
  checkRevenue,
} from './testing/checks';

// PROJECTION_RUNS=500 for a deeper search than CI's.
const RUNS = Number(process.env['PROJECTION_RUNS'] ?? 60);
const text = (value: unknown): string => JSON.stringify(value);

describe('projections over simulated histories', () => {
  it('replaying in one pass equals catching up in random chunks, restarting from saved checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary(),
        fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 8 }),
        async (actions, chunks) => checkChunkedCatchUp(await storeWith(simulate(actions)), chunks),
      ),
      { numRuns: RUNS },
    );
  });

  it('effective at T equals a replay of exactly the events that occurred by T', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), fc.nat(), async (actions, pick) =>
        checkEffectiveAt(simulate(actions), pick),
      ),
      { numRuns: RUNS },
    );
  });

  it('as known at K (recordedAt or position) equals a replay of exactly the events recorded by then', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), fc.nat(), fc.boolean(), async (actions, pick, byPosition) =>
        checkKnownAt(simulate(actions), pick, byPosition),
      ),
      { numRuns: RUNS },
    );
  });

  it('attributed revenue summed over partners equals the revenue of attributed conversions', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), async (actions) =>
        checkRevenue(await storeWith(simulate(actions))),
      ),
      { numRuns: RUNS },
    );
  });

  it('revenue over a window counts exactly the conversions and reversals in it, and resumes from checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary(),
        fc.nat(),
        fc.nat(),
        fc.constantFrom('from', 'to', 'both'),
        fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 4 }),
        async (actions, a, b, sides, chunks) => {
          const events = simulate(actions);
          const times = events.map((e) => e.event.occurredAt).sort();
          const [from, to] = [times[a % times.length]!, times[b % times.length]!].sort();
          const window = {
            ...(sides === 'to' ? {} : { from: from! }),
            ...(sides === 'from' ? {} : { to: to! }),
          };
          const store = await storeWith(events);
          await checkRevenue(store, 'USD', window);
          await checkChunkedCatchUp(store, chunks, { revenue: window });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("each partner's accrued - reversed - paid + adjustments is its balance, and the trial balance is zero", async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), async (actions) =>
        checkBalances(await storeWith(simulate(actions))),
      ),
      { numRuns: RUNS },
    );
  });

  it('gives each projection the same result alone as in the set (events it skips are not needed)', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), fc.option(fc.nat(), { nil: undefined }), async (actions, pick) => {
        const events = simulate(actions);
        const store = await storeWith(events);
        const effectiveAt = pick === undefined ? undefined : events[pick % events.length]!.event.occurredAt;
        const options = effectiveAt === undefined ? {} : { effectiveAt };
        const together = await replay(store, builtInProjections(), options);
        for (const [name, projection] of Object.entries(builtInProjections())) {
          const alone = await replay(store, { [name]: projection }, options);
          expect(text(alone.results[name])).toBe(text((together.results as Record<string, unknown>)[name]));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('gives byte-identical reports on two replays', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), async (actions) => checkIdentical(simulate(actions))),
      { numRuns: 20 },
    );
  });
});
