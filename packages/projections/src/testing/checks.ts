import { decodeStoredEvent } from '@partner-ledger/events';
import type { LedgerEvent, NewLedgerEvent, RecordedEvent } from '@partner-ledger/events';
import type { EventStore } from '@partner-ledger/store';
import { builtInProjections } from '../builtins';
import type { BuiltInOptions } from '../builtins';
import { formatMinor, toMinor } from '../money';
import { periodOf } from '../period';
import type { Checkpoint } from '../runtime/runner';
import { parseCheckpoint, replay, serializeCheckpoint } from '../runtime/runner';
import { storeWith } from './arbitraries';
import type { SimulatedEvent } from './simulator';

/**
 * The properties of issue 5, as checks over any history (simulated, or recorded by the ledger from
 * generated commands). Each replays the history and compares with a second replay or with an oracle
 * computed straight from the events. They use jest's `expect`, so they run inside tests only.
 */

const text = (value: unknown): string => JSON.stringify(value);

/** A store's events in the form they were appended in, to build prefixes of the history. */
export const eventsOf = async (store: EventStore): Promise<SimulatedEvent[]> => {
  const out: SimulatedEvent[] = [];
  for await (const e of store.readAll()) {
    const { stream, revision: _r, position: _p, prevHash: _h, hash: _x, ...event } = e as RecordedEvent;
    out.push({ stream, event: event as NewLedgerEvent });
  }
  return out;
};

const decodedAll = async (store: EventStore): Promise<LedgerEvent[]> => {
  const out: LedgerEvent[] = [];
  for await (const event of store.readAll()) out.push(decodeStoredEvent(event));
  return out;
};

/** One pass equals catching up in chunks, each from the JSON of the previous chunk's checkpoint. */
export const checkChunkedCatchUp = async (
  store: EventStore,
  chunks: readonly number[],
  options: BuiltInOptions = {},
): Promise<void> => {
  const builtIns = () => builtInProjections(options);
  const once = await replay(store, builtIns());
  const head = await store.headPosition();
  let checkpoint: Checkpoint | undefined;
  let position = -1;
  for (let i = 0; position < head; i += 1) {
    position = Math.min(head, position + chunks[i % chunks.length]!);
    // A fresh projection set each time: everything carried over is in the checkpoint's JSON.
    const outcome = await replay(store, builtIns(), {
      asKnownAt: { position },
      ...(checkpoint === undefined ? {} : { from: checkpoint }),
    });
    expect(outcome.position).toBe(position);
    checkpoint = parseCheckpoint(serializeCheckpoint(outcome.checkpoint()));
  }
  const resumed = await replay(store, builtIns(), checkpoint ? { from: checkpoint } : {});
  expect(text(resumed.results)).toBe(text(once.results));
  expect(serializeCheckpoint(resumed.checkpoint())).toBe(serializeCheckpoint(once.checkpoint()));
};

/**
 * Effective at T equals a replay of exactly the events that occurred by T, and of the program's settings
 * (which are not a fact of the effective past: a report as of any date finds its reporting currency).
 */
export const checkEffectiveAt = async (events: readonly SimulatedEvent[], pick: number): Promise<void> => {
  const times = events.map((e) => e.event.occurredAt).sort();
  const effectiveAt = times[pick % times.length]!;
  const all = await replay(await storeWith(events), builtInProjections(), { effectiveAt });
  const occurred = events.filter((e) => e.event.occurredAt <= effectiveAt);
  const prefix = events.filter(
    (e) => e.event.occurredAt <= effectiveAt || e.event.type === 'ProgramConfigured',
  );
  const expected = await replay(await storeWith(prefix), builtInProjections(), { effectiveAt });
  expect(text(all.results)).toBe(text(expected.results));
  expect(all.eventsApplied).toBe(occurred.length);
};

/** As known at K (recordedAt, or a position) equals a replay of exactly the events recorded by then. */
export const checkKnownAt = async (
  events: readonly SimulatedEvent[],
  pick: number,
  byPosition: boolean,
): Promise<void> => {
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
};

/**
 * Attributed revenue summed over partners equals the revenue of attributed conversions (per currency, per
 * period in the reporting currency); sourced and influenced revenue per partner match an oracle. With a
 * window (stored-form instants), the oracle counts only the conversions and reversals that occurred in it.
 */
export const checkRevenue = async (
  store: EventStore,
  reportingCurrency = 'USD',
  window: { readonly from?: string; readonly to?: string } = {},
): Promise<void> => {
  const { results } = await replay(store, builtInProjections({ revenue: window }));
  const inWindow = (at: string): boolean =>
    (window.from === undefined || at >= window.from) && (window.to === undefined || at <= window.to);
  const revenue = results.revenue;
  const attributed = new Set<string>();
  const expected = new Map<string, bigint>();
  const add = (currency: string, amount: bigint): void => {
    expected.set(currency, (expected.get(currency) ?? 0n) + amount);
  };
  const touchedBy = new Map<string, { sourcedBy: string | null; partners: Set<string> }>();
  // The periods the window holds events of: the result has exactly these.
  const periods = new Set<string>();
  const perPartner = new Map<string, Map<string, { sourced: bigint; influenced: bigint }>>();
  const partnerFigures = (id: string, currency: string) => {
    let byCurrency = perPartner.get(id);
    if (!byCurrency) perPartner.set(id, (byCurrency = new Map()));
    let f = byCurrency.get(currency);
    if (!f) byCurrency.set(currency, (f = { sourced: 0n, influenced: 0n }));
    return f;
  };
  const credit = (conversionId: string, currency: string, amount: bigint): void => {
    const touched = touchedBy.get(conversionId)!;
    if (touched.sourcedBy !== null) partnerFigures(touched.sourcedBy, currency).sourced += amount;
    for (const p of touched.partners) partnerFigures(p, currency).influenced += amount;
  };
  for (const event of await decodedAll(store)) {
    if (event.type === 'ConversionAttributed') {
      const d = event.data;
      touchedBy.set(d.conversionId, {
        sourcedBy: d.credits.find((c) => c.role === 'sourced')?.partnerId ?? null,
        partners: new Set([...d.credits, ...d.influencers].map((c) => c.partnerId)),
      });
      if (d.credits.length > 0) attributed.add(d.conversionId);
      if (inWindow(event.occurredAt)) {
        periods.add(periodOf(event.occurredAt, 'month'));
        credit(d.conversionId, d.currency, toMinor(d.amount, d.currency));
        if (d.credits.length > 0) add(d.currency, toMinor(d.amount, d.currency));
      }
    }
    if (event.type === 'ConversionReversed' && inWindow(event.occurredAt)) {
      periods.add(periodOf(event.occurredAt, 'month'));
      const amount = toMinor(event.data.amount, event.data.currency);
      credit(event.data.conversionId, event.data.currency, -amount);
      if (attributed.has(event.data.conversionId)) add(event.data.currency, -amount);
    }
  }
  expect(Object.keys(revenue.program.periods)).toEqual([...periods].sort());
  for (const [currency, amount] of expected) {
    const overPartners = Object.values(revenue.partners).reduce(
      (sum, p) => sum + toMinor(p.total.byCurrency[currency]?.attributed ?? '0', currency),
      0n,
    );
    expect(formatMinor(overPartners, currency)).toBe(formatMinor(amount, currency));
    expect(revenue.program.total.byCurrency[currency]?.attributed).toBe(formatMinor(amount, currency));
  }
  for (const [period, block] of Object.entries(revenue.program.periods)) {
    const reporting = Object.values(revenue.partners).reduce(
      (sum, p) => sum + toMinor(p.periods[period]?.reporting?.attributed ?? '0', reportingCurrency),
      0n,
    );
    expect(formatMinor(reporting, reportingCurrency)).toBe(
      block.reporting?.attributed ?? formatMinor(0n, reportingCurrency),
    );
  }
  for (const [partnerId, byCurrency] of perPartner)
    for (const [currency, f] of byCurrency) {
      const shown = revenue.partners[partnerId]?.total.byCurrency[currency];
      expect(shown?.sourced ?? formatMinor(0n, currency)).toBe(formatMinor(f.sourced, currency));
      expect(shown?.influenced ?? formatMinor(0n, currency)).toBe(formatMinor(f.influenced, currency));
    }
};

/**
 * Each partner's accrued - reversed - paid + adjustments equals its balance, each figure equals an oracle
 * that counts lines as the ledger does (outstanding = amount - reversed - settled; a rejected line owes
 * nothing), balance = pending + held + payable, and the trial balance is zero in every currency.
 */
export const checkBalances = async (store: EventStore): Promise<void> => {
  const { results } = await replay(store, builtInProjections());
  const balances = results.balances;
  type Line = {
    partnerId: string;
    currency: string;
    amount: bigint;
    reversed: bigint;
    settled: bigint;
    rejected: boolean;
  };
  const lines = new Map<string, Line>();
  const payouts = new Map<string, { currency: string; settles: Array<[string, bigint]> }>();
  const expected = new Map<
    string,
    { accrued: bigint; reversed: bigint; paid: bigint; adjustments: bigint }
  >();
  const of = (partnerId: string, currency: string) => {
    const key = `${partnerId} ${currency}`;
    let figures = expected.get(key);
    if (!figures) expected.set(key, (figures = { accrued: 0n, reversed: 0n, paid: 0n, adjustments: 0n }));
    return figures;
  };
  for (const event of await decodedAll(store)) {
    switch (event.type) {
      case 'ConversionAttributed':
        for (const l of event.data.commissions) {
          const amount = toMinor(l.amount, l.currency);
          of(l.partnerId, l.currency).accrued += amount;
          lines.set(l.lineId, {
            partnerId: l.partnerId,
            currency: l.currency,
            amount,
            reversed: 0n,
            settled: 0n,
            rejected: false,
          });
        }
        break;
      case 'ConversionReversed':
        for (const l of event.data.lines) {
          const line = lines.get(l.lineId)!;
          const amount = toMinor(l.amount, l.currency);
          line.reversed += amount;
          if (!line.rejected) of(l.partnerId, l.currency).reversed += amount;
        }
        break;
      case 'CommissionRejected': {
        const line = lines.get(event.data.lineId)!;
        if (!line.rejected)
          of(line.partnerId, line.currency).reversed += line.amount - line.reversed - line.settled;
        line.rejected = true;
        break;
      }
      case 'PayoutIssued': {
        const d = event.data;
        of(d.partnerId, d.currency).paid += toMinor(d.amount, d.currency);
        const settles: Array<[string, bigint]> = [];
        for (const item of d.settles)
          if (item.kind !== 'adjustment') {
            const amount = toMinor(item.amount, d.currency);
            lines.get(item.id)!.settled += amount;
            settles.push([item.id, amount]);
          }
        payouts.set(d.payoutId, { currency: d.currency, settles });
        break;
      }
      case 'PayoutFailed': {
        of(event.data.partnerId, event.data.currency).paid -= toMinor(event.data.amount, event.data.currency);
        for (const [lineId, amount] of payouts.get(event.data.payoutId)!.settles)
          lines.get(lineId)!.settled -= amount;
        break;
      }
      case 'ManualAdjustmentRecorded':
        of(event.data.partnerId, event.data.currency).adjustments += toMinor(
          event.data.amount,
          event.data.currency,
        );
        break;
      default:
        break;
    }
  }
  for (const [key, figures] of expected) {
    const [partnerId, currency] = key.split(' ') as [string, string];
    const shown = balances.partners[partnerId]?.[currency];
    expect(shown).toBeDefined();
    const m = (value: bigint) => formatMinor(value, currency);
    expect(shown!.accrued).toBe(m(figures.accrued));
    expect(shown!.reversed).toBe(m(figures.reversed));
    expect(shown!.paid).toBe(m(figures.paid));
    expect(shown!.adjustments).toBe(m(figures.adjustments));
    const balance = figures.accrued - figures.reversed - figures.paid + figures.adjustments;
    expect(shown!.balance).toBe(m(balance));
    expect(shown!.negative).toBe(balance < 0n);
    const parts =
      toMinor(shown!.pending, currency) + toMinor(shown!.held, currency) + toMinor(shown!.payable, currency);
    expect(m(parts)).toBe(shown!.balance);
  }
  for (const [currency, trial] of Object.entries(balances.trialBalance)) {
    expect(trial.difference).toBe(formatMinor(0n, currency));
    expect(trial.debits).toBe(trial.credits);
    // The partner-payable account is the sum of the partners' balances.
    expect(balances.accounts[currency]!.partnerPayable.balance).toBe(
      formatMinor(-toMinor(balances.totals[currency]!.balance, currency), currency),
    );
  }
};

/** Two replays give the same bytes, results and checkpoint. */
export const checkIdentical = async (events: readonly SimulatedEvent[]): Promise<void> => {
  const first = await replay(await storeWith(events), builtInProjections());
  const second = await replay(await storeWith(events), builtInProjections());
  expect(text(second.results)).toBe(text(first.results));
  expect(serializeCheckpoint(second.checkpoint())).toBe(serializeCheckpoint(first.checkpoint()));
};
