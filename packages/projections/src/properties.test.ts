import fc from 'fast-check';
import type { LedgerEvent } from '@partner-ledger/events';
import { decodeStoredEvent } from '@partner-ledger/events';
import { builtInProjections } from './builtins';
import { formatMinor, toMinor } from './money';
import type { Checkpoint } from './runtime/runner';
import { parseCheckpoint, replay, serializeCheckpoint } from './runtime/runner';
import { historyArbitrary, simulate, storeWith } from './testing/arbitraries';
import type { SimulatedEvent } from './testing/simulator';

// PROJECTION_RUNS=500 for a deeper search than CI's.
const RUNS = Number(process.env['PROJECTION_RUNS'] ?? 60);
const text = (value: unknown): string => JSON.stringify(value);

/** The events as a replay sees them (decoded), for the oracles below. */
const decoded = async (events: readonly SimulatedEvent[]): Promise<LedgerEvent[]> => {
  const store = await storeWith(events);
  const out: LedgerEvent[] = [];
  for await (const event of store.readAll()) out.push(decodeStoredEvent(event));
  return out;
};

describe('projections over generated histories', () => {
  it('replaying in one pass equals catching up in random chunks, restarting from saved checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary(),
        fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 8 }),
        async (actions, chunks) => {
          const store = await storeWith(simulate(actions));
          const once = await replay(store, builtInProjections());
          const head = await store.headPosition();
          let checkpoint: Checkpoint | undefined;
          let position = -1;
          for (let i = 0; position < head; i += 1) {
            position = Math.min(head, position + chunks[i % chunks.length]!);
            // A fresh projection set each time: everything carried over is in the checkpoint's JSON.
            const outcome = await replay(store, builtInProjections(), {
              asKnownAt: { position },
              ...(checkpoint === undefined ? {} : { from: checkpoint }),
            });
            expect(outcome.position).toBe(position);
            checkpoint = parseCheckpoint(serializeCheckpoint(outcome.checkpoint()));
          }
          const resumed = await replay(store, builtInProjections(), checkpoint ? { from: checkpoint } : {});
          expect(text(resumed.results)).toBe(text(once.results));
          expect(serializeCheckpoint(resumed.checkpoint())).toBe(serializeCheckpoint(once.checkpoint()));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('effective at T equals a replay of exactly the events that occurred by T', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), fc.nat(), async (actions, pick) => {
        const events = simulate(actions);
        const times = events.map((e) => e.event.occurredAt).sort();
        const effectiveAt = times[pick % times.length]!;
        const all = await replay(await storeWith(events), builtInProjections(), { effectiveAt });
        const prefix = events.filter((e) => e.event.occurredAt <= effectiveAt);
        const expected = await replay(await storeWith(prefix), builtInProjections(), { effectiveAt });
        expect(text(all.results)).toBe(text(expected.results));
        expect(all.eventsApplied).toBe(prefix.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('as known at K (recordedAt or position) equals a replay of exactly the events recorded by then', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), fc.nat(), fc.boolean(), async (actions, pick, byPosition) => {
        const events = simulate(actions);
        const store = await storeWith(events);
        const cut = pick % events.length;
        const recordedAt = events[cut]!.event.recordedAt;
        const all = await replay(
          store,
          builtInProjections(),
          byPosition ? { asKnownAt: { position: cut } } : { asKnownAt: { recordedAt } },
        );
        const prefix = byPosition
          ? events.slice(0, cut + 1)
          : events.filter((e) => e.event.recordedAt <= recordedAt);
        const expected = await replay(await storeWith(prefix), builtInProjections());
        expect(text(all.results)).toBe(text(expected.results));
      }),
      { numRuns: RUNS },
    );
  });

  it('attributed revenue summed over partners equals the revenue of attributed conversions', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), async (actions) => {
        const events = simulate(actions);
        const { results } = await replay(await storeWith(events), builtInProjections());
        const revenue = results.revenue;
        // The oracle, straight from the events: attributed conversions, less what was reversed of them.
        const attributed = new Set<string>();
        const expected = new Map<string, bigint>();
        const add = (currency: string, amount: bigint): void => {
          expected.set(currency, (expected.get(currency) ?? 0n) + amount);
        };
        // And sourced (whole conversion to its sourcing partner) and influenced (to every partner touching it).
        const touchedBy = new Map<string, { sourcedBy: string | null; partners: Set<string> }>();
        const perPartner = new Map<string, { sourced: bigint; influenced: bigint }>();
        const partnerFigures = (id: string) => {
          let f = perPartner.get(id);
          if (!f) perPartner.set(id, (f = { sourced: 0n, influenced: 0n }));
          return f;
        };
        const credit = (conversionId: string, currency: string, amount: bigint): void => {
          const touched = touchedBy.get(conversionId)!;
          const inUsd = currency === 'USD' ? amount : 0n;
          if (touched.sourcedBy !== null) partnerFigures(touched.sourcedBy).sourced += inUsd;
          for (const p of touched.partners) partnerFigures(p).influenced += inUsd;
        };
        for (const event of await decoded(events)) {
          if (event.type === 'ConversionAttributed') {
            const d = event.data;
            touchedBy.set(d.conversionId, {
              sourcedBy: d.credits.find((c) => c.role === 'sourced')?.partnerId ?? null,
              partners: new Set([...d.credits, ...d.influencers].map((c) => c.partnerId)),
            });
            credit(d.conversionId, d.currency, toMinor(d.amount, d.currency));
            if (d.credits.length > 0) {
              attributed.add(d.conversionId);
              add(d.currency, toMinor(d.amount, d.currency));
            }
          }
          if (event.type === 'ConversionReversed') {
            credit(
              event.data.conversionId,
              event.data.currency,
              -toMinor(event.data.amount, event.data.currency),
            );
            if (attributed.has(event.data.conversionId))
              add(event.data.currency, -toMinor(event.data.amount, event.data.currency));
          }
        }
        for (const [partnerId, f] of perPartner) {
          const usd = revenue.partners[partnerId]?.total.byCurrency['USD'];
          expect(usd?.sourced ?? '0.00').toBe(formatMinor(f.sourced, 'USD'));
          expect(usd?.influenced ?? '0.00').toBe(formatMinor(f.influenced, 'USD'));
        }
        for (const [currency, amount] of expected) {
          const overPartners = Object.values(revenue.partners).reduce(
            (sum, p) => sum + toMinor(p.total.byCurrency[currency]?.attributed ?? '0', currency),
            0n,
          );
          expect(formatMinor(overPartners, currency)).toBe(formatMinor(amount, currency));
          expect(revenue.program.total.byCurrency[currency]?.attributed).toBe(formatMinor(amount, currency));
        }
        // Per period, and in the reporting currency too.
        for (const [period, block] of Object.entries(revenue.program.periods)) {
          const reporting = Object.values(revenue.partners).reduce(
            (sum, p) => sum + toMinor(p.periods[period]?.reporting?.attributed ?? '0', 'USD'),
            0n,
          );
          expect(formatMinor(reporting, 'USD')).toBe(block.reporting?.attributed ?? '0.00');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("each partner's accrued - reversed - paid + adjustments is its balance, and the trial balance is zero", async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), async (actions) => {
        const events = simulate(actions);
        const { results } = await replay(await storeWith(events), builtInProjections());
        const balances = results.balances;
        // The oracle, straight from the events.
        const lineAmounts = new Map<string, bigint>();
        const expected = new Map<
          string,
          { accrued: bigint; reversed: bigint; paid: bigint; adjustments: bigint }
        >();
        const of = (partnerId: string) => {
          let figures = expected.get(partnerId);
          if (!figures)
            expected.set(partnerId, (figures = { accrued: 0n, reversed: 0n, paid: 0n, adjustments: 0n }));
          return figures;
        };
        for (const event of await decoded(events)) {
          switch (event.type) {
            case 'ConversionAttributed':
              for (const line of event.data.commissions) {
                of(line.partnerId).accrued += toMinor(line.amount, 'USD');
                lineAmounts.set(line.lineId, toMinor(line.amount, 'USD'));
              }
              break;
            case 'ConversionReversed':
              for (const line of event.data.lines) of(line.partnerId).reversed += toMinor(line.amount, 'USD');
              break;
            case 'CommissionRejected':
              // The simulator rejects only lines never paid nor reversed: the whole line comes back.
              of(event.data.partnerId).reversed += lineAmounts.get(event.data.lineId) ?? 0n;
              break;
            case 'PayoutIssued':
              of(event.data.partnerId).paid += toMinor(event.data.amount, 'USD');
              break;
            case 'PayoutFailed':
              of(event.data.partnerId).paid -= toMinor(event.data.amount, 'USD');
              break;
            case 'ManualAdjustmentRecorded':
              of(event.data.partnerId).adjustments += toMinor(event.data.amount, 'USD');
              break;
            default:
              break;
          }
        }
        for (const [partnerId, figures] of expected) {
          const shown = balances.partners[partnerId]?.['USD'];
          expect(shown).toBeDefined();
          expect(shown!.accrued).toBe(formatMinor(figures.accrued, 'USD'));
          expect(shown!.reversed).toBe(formatMinor(figures.reversed, 'USD'));
          expect(shown!.paid).toBe(formatMinor(figures.paid, 'USD'));
          expect(shown!.adjustments).toBe(formatMinor(figures.adjustments, 'USD'));
          const balance = figures.accrued - figures.reversed - figures.paid + figures.adjustments;
          expect(shown!.balance).toBe(formatMinor(balance, 'USD'));
          expect(shown!.negative).toBe(balance < 0n);
          const parts =
            toMinor(shown!.pending, 'USD') + toMinor(shown!.held, 'USD') + toMinor(shown!.payable, 'USD');
          expect(formatMinor(parts, 'USD')).toBe(shown!.balance);
          expect(toMinor(shown!.pending, 'USD') >= 0n && toMinor(shown!.held, 'USD') >= 0n).toBe(true);
        }
        for (const [currency, trial] of Object.entries(balances.trialBalance)) {
          expect(trial.difference).toBe(formatMinor(0n, currency));
          expect(trial.debits).toBe(trial.credits);
          // The partner-payable account is the sum of the partners' balances.
          expect(balances.accounts[currency]!.partnerPayable.balance).toBe(
            formatMinor(-toMinor(balances.totals[currency]!.balance, currency), currency),
          );
        }
      }),
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
      fc.asyncProperty(historyArbitrary(), async (actions) => {
        const events = simulate(actions);
        const first = await replay(await storeWith(events), builtInProjections());
        const second = await replay(await storeWith(events), builtInProjections());
        expect(text(second.results)).toBe(text(first.results));
        expect(serializeCheckpoint(second.checkpoint())).toBe(serializeCheckpoint(first.checkpoint()));
      }),
      { numRuns: 20 },
    );
  });
});
