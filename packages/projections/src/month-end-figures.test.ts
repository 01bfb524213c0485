import fc from 'fast-check';
import Decimal from 'decimal.js';
import { commissionBalances } from './projections/balances';
import { addActivity, churnsOf, ecosystemHealth } from './projections/health';
import { partnerRevenue } from './projections/revenue';
import { daysAfter } from './period';
import { replay } from './runtime/runner';
import { historyArbitrary, simulate, storeWith } from './testing/arbitraries';
import {
  commissionLine,
  conversion,
  createEventBuilder,
  partnerJoined,
  programConfigured,
} from './testing/builder';

const AS_OF = '2026-03-31T23:59:59.999Z';

/**
 * The figures the month-end book shows beside the balances and health: five commission lines of four
 * partners over four months, a refund and a chargeback in March, a conversion no partner was credited with.
 */
const closeHistory = () =>
  createEventBuilder()
    .at('2025-11-01T00:00:00.000Z')
    .add('program', 'ProgramConfigured', programConfigured('USD'))
    .add('partner-a', 'PartnerJoined', partnerJoined('a', 'affiliate'))
    .add('partner-b', 'PartnerJoined', partnerJoined('b', 'reseller'))
    .add('partner-c', 'PartnerJoined', partnerJoined('c', 'technology'))
    .add('partner-d', 'PartnerJoined', partnerJoined('d', 'affiliate'))
    .at('2025-12-01T09:00:00.000Z')
    .add(
      'conversion-0',
      'ConversionAttributed',
      conversion({
        conversionId: '0',
        amount: '300.00',
        credits: [['a', '300.00']],
        commissions: [
          commissionLine('L0', 'a', {
            base: '300.00',
            rate: '0.1',
            amount: '30.00',
            payableAt: '2026-01-01T00:00:00.000Z',
            status: 'held',
          }),
        ],
      }),
    )
    .at('2026-01-05T09:00:00.000Z')
    .add(
      'conversion-1',
      'ConversionAttributed',
      conversion({
        conversionId: '1',
        amount: '100.00',
        credits: [['a', '100.00']],
        commissions: [
          commissionLine('L1', 'a', {
            base: '100.00',
            rate: '0.1',
            amount: '10.00',
            payableAt: '2026-04-15T00:00:00.000Z',
          }),
        ],
      }),
    )
    .at('2026-02-10T09:00:00.000Z')
    .add(
      'conversion-2',
      'ConversionAttributed',
      conversion({
        conversionId: '2',
        amount: '200.00',
        credits: [['b', '200.00']],
        commissions: [
          commissionLine('L2', 'b', {
            base: '200.00',
            rate: '0.1',
            amount: '20.00',
            payableAt: '2026-02-10T09:00:00.000Z',
            status: 'held',
          }),
        ],
      }),
    )
    .at('2026-03-10T09:00:00.000Z')
    .add(
      'conversion-5',
      'ConversionAttributed',
      conversion({
        conversionId: '5',
        amount: '60.00',
        credits: [['d', '60.00']],
        commissions: [
          commissionLine('L5', 'd', {
            base: '60.00',
            rate: '0.1',
            amount: '6.00',
            payableAt: '2026-03-15T00:00:00.000Z',
          }),
        ],
      }),
    )
    .at('2026-03-20T09:00:00.000Z')
    .add(
      'conversion-3',
      'ConversionAttributed',
      conversion({
        conversionId: '3',
        amount: '80.00',
        credits: [['a', '80.00']],
        commissions: [
          commissionLine('L3', 'a', {
            base: '80.00',
            rate: '0.1',
            amount: '8.00',
            payableAt: '2026-05-01T00:00:00.000Z',
          }),
        ],
      }),
    )
    .at('2026-03-25T09:00:00.000Z')
    .add(
      'conversion-4',
      'ConversionAttributed',
      conversion({ conversionId: '4', amount: '40.00', influencers: ['c'] }),
    )
    .at('2026-03-28T09:00:00.000Z')
    .add('conversion-1', 'ConversionReversed', {
      reversalId: 'r1',
      conversionId: '1',
      customerId: 'customer-of-1',
      kind: 'refund',
      amount: '50.00',
      currency: 'USD',
      credits: [{ partnerId: 'a', revenueCredit: '50.00' }],
      lines: [{ lineId: 'L1', partnerId: 'a', amount: '5.00', currency: 'USD' }],
      reason: null,
    })
    .at('2026-03-29T09:00:00.000Z')
    .add('conversion-2', 'ConversionReversed', {
      reversalId: 'r2',
      conversionId: '2',
      customerId: 'customer-of-2',
      kind: 'chargeback',
      amount: '100.00',
      currency: 'USD',
      credits: [{ partnerId: 'b', revenueCredit: '100.00' }],
      lines: [{ lineId: 'L2', partnerId: 'b', amount: '10.00', currency: 'USD' }],
      reason: 'disputed',
    }).events;

const replayClose = async () =>
  (
    await replay(
      await storeWith(closeHistory()),
      {
        revenue: partnerRevenue(),
        balances: commissionBalances(),
        health: ecosystemHealth({ activeWindowDays: 30 }),
      },
      { effectiveAt: AS_OF },
    )
  ).results;

describe('month-end figures (worked example)', () => {
  it('reports unattributed revenue: total - attributed, by month, per currency and in the reporting currency', async () => {
    const { revenue } = await replayClose();
    // March: 80 + 40 + 60 - 50 - 100 = 30 in all; attributed 80 + 60 - 50 - 100 = -10; conversion 4 credited
    // no partner (c only influenced it): 40 unattributed.
    expect(revenue.program.periods['2026-03']!.byCurrency['USD']).toMatchObject({
      total: '30.00',
      attributed: '-10.00',
      sourced: '-10.00',
      influenced: '30.00',
      unattributed: '40.00',
    });
    expect(revenue.program.periods['2026-03']!.reporting).toMatchObject({ unattributed: '40.00' });
    expect(revenue.program.periods['2026-01']!.byCurrency['USD']).toMatchObject({ unattributed: '0.00' });
    expect(revenue.program.total.byCurrency['USD']).toMatchObject({ total: '630.00', unattributed: '40.00' });
  });

  it('counts a churn each time a partner stops being active, in the month it stops', async () => {
    const { health } = await replayClose();
    // a: active 1 Dec (churns 31 Dec, 30 days on), again 5 Jan (churns 4 Feb), again 20 Mar (active at asOf).
    // b: 10 Feb, churns 12 Mar. c: 25 Mar, d: 10 Mar, both active at asOf.
    expect(health.churnedPartners).toEqual({
      '2025-12': { total: 1, byType: { affiliate: 1, reseller: 0, technology: 0, agency: 0, referral: 0 } },
      '2026-02': { total: 1, byType: { affiliate: 1, reseller: 0, technology: 0, agency: 0, referral: 0 } },
      '2026-03': { total: 1, byType: { affiliate: 0, reseller: 1, technology: 0, agency: 0, referral: 0 } },
    });
    expect(health.activePartners.total).toBe(3);
  });

  it('ages held and pending lines by whole days from their conversion to asOf', async () => {
    const { balances } = await replayClose();
    // L0 (held 30.00) is 120 days old; L2 (held, 20.00 - 10.00 charged back) 49; L1 (pending, 10.00 - 5.00
    // refunded) 85; L3 (pending 8.00) 11. L5 is payable since 15 Mar: not aged.
    expect(balances.aging).toEqual({
      USD: {
        '0-30': { pending: '8.00', pendingLines: 1, held: '0.00', heldLines: 0 },
        '31-60': { pending: '0.00', pendingLines: 0, held: '10.00', heldLines: 1 },
        '61-90': { pending: '5.00', pendingLines: 1, held: '0.00', heldLines: 0 },
        '>90': { pending: '0.00', pendingLines: 0, held: '30.00', heldLines: 1 },
      },
    });
    expect(balances.totals['USD']).toMatchObject({ pending: '13.00', held: '40.00' });
  });

  it("reports each month's reversals by kind, with the commission they clawed back", async () => {
    const { balances } = await replayClose();
    expect(balances.reversalsByMonth).toEqual({
      '2026-03': {
        chargeback: { USD: { reversals: 1, amount: '100.00', clawedBack: '10.00' } },
        refund: { USD: { reversals: 1, amount: '50.00', clawedBack: '5.00' } },
      },
    });
  });

  it('adds the balances up by partner type', async () => {
    const { balances } = await replayClose();
    // affiliate: a (30 + 10 + 8 accrued, 5 refunded) and d (6, payable since 15 Mar).
    expect(balances.byPartnerType).toEqual({
      affiliate: {
        USD: {
          accrued: '54.00',
          reversed: '5.00',
          rejected: '0.00',
          paid: '0.00',
          payoutsFailed: '0.00',
          adjustments: '0.00',
          balance: '49.00',
          pending: '13.00',
          held: '30.00',
          payable: '6.00',
          negative: false,
          partners: 2,
        },
      },
      reseller: {
        USD: {
          accrued: '20.00',
          reversed: '10.00',
          rejected: '0.00',
          paid: '0.00',
          payoutsFailed: '0.00',
          adjustments: '0.00',
          balance: '10.00',
          pending: '0.00',
          held: '10.00',
          payable: '0.00',
          negative: false,
          partners: 1,
        },
      },
    });
  });
});

describe('spells of activity', () => {
  it('joins activities no more than the window apart, whatever their order', () => {
    const spells: Array<[string, string]> = [];
    addActivity(spells, '2026-01-01T00:00:00.000Z', 30);
    addActivity(spells, '2026-03-02T00:00:00.000Z', 30);
    expect(spells).toHaveLength(2);
    // 1 Feb is more than 30 days after 1 Jan, and 29 before 2 Mar: it joins the second spell.
    addActivity(spells, '2026-02-01T00:00:00.000Z', 30);
    expect(spells).toEqual([
      ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
      ['2026-02-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z'],
    ]);
    // 31 Jan is exactly 30 days after 1 Jan (still active then): it bridges the two.
    addActivity(spells, '2026-01-31T00:00:00.000Z', 30);
    expect(spells).toEqual([['2026-01-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z']]);
    expect(churnsOf(spells, 30, '2026-04-01T00:00:00.000Z')).toEqual(['2026-04-01T00:00:00.000Z']);
    expect(churnsOf(spells, 30, '2026-03-31T23:59:59.999Z')).toEqual([]);
  });

  it('equal the gaps of the sorted activities, for activities in any order', () => {
    const day = 86_400_000;
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 400 * 24 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 90 }),
        (hours, window) => {
          const times = hours.map((h) => new Date(start + h * 3_600_000).toISOString());
          const spells: Array<[string, string]> = [];
          for (const t of times) addActivity(spells, t, window);
          const sorted = [...new Set(times)].sort();
          const expected: Array<[string, string]> = [];
          for (const t of sorted) {
            const last = expected[expected.length - 1];
            if (last !== undefined && Date.parse(t) - Date.parse(last[1]) <= window * day) last[1] = t;
            else expected.push([t, t]);
          }
          expect(spells).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});

const RUNS = Number(process.env['PROJECTION_RUNS'] ?? 40);

describe('month-end figures over simulated histories', () => {
  it('aging, partner types and reversals add up to the balance totals; churns to the partners no longer active', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), fc.nat(), async (actions, pick) => {
        const events = simulate(actions);
        const effectiveAt = events[pick % events.length]!.event.occurredAt;
        const { results } = await replay(
          await storeWith(events),
          { balances: commissionBalances(), health: ecosystemHealth() },
          { effectiveAt },
        );
        const { balances, health } = results;
        const sum = (values: Iterable<string>): string =>
          [...values].reduce((a, b) => a.plus(b), new Decimal(0)).toFixed(2);
        for (const [currency, totals] of Object.entries(balances.totals)) {
          const buckets = Object.values(balances.aging[currency] ?? {});
          expect(sum(buckets.map((b) => b.pending))).toBe(new Decimal(totals.pending).toFixed(2));
          expect(sum(buckets.map((b) => b.held))).toBe(new Decimal(totals.held).toFixed(2));
          const types = Object.values(balances.byPartnerType).flatMap((c) => c[currency] ?? []);
          for (const field of ['accrued', 'reversed', 'balance', 'pending', 'held', 'payable'] as const)
            expect(sum(types.map((t) => t[field]))).toBe(new Decimal(totals[field]).toFixed(2));
          const clawedBack = Object.values(balances.reversalsByMonth).flatMap((kinds) =>
            Object.values(kinds).flatMap((c) => (c[currency] === undefined ? [] : [c[currency].clawedBack])),
          );
          // What reversals took back is `reversed` less what rejections of held lines took.
          expect(sum(clawedBack)).toBe(new Decimal(totals.reversed).minus(totals.rejected).toFixed(2));
        }
        // Every partner with activity that is not active has churned (its last spell ended by asOf), and a
        // partner churns at most once per spell.
        const partners = Object.values(health.partners);
        const inactive = partners.filter((p) => p.lastActivityAt !== null && !p.active);
        const churns = Object.values(health.churnedPartners).reduce((n, c) => n + c.total, 0);
        expect(churns).toBeGreaterThanOrEqual(inactive.length);
        for (const p of inactive)
          expect(
            health.churnedPartners[daysAfter(p.lastActivityAt!, health.activeWindowDays).slice(0, 7)],
          ).toBeDefined();
      }),
      { numRuns: RUNS },
    );
  });
});

describe('checkpoints saved before the month-end figures', () => {
  it('are refused with a message, not loaded with past churns, aging or reversals missing', async () => {
    const { checkpoint } = await replay(
      await storeWith(closeHistory()),
      { balances: commissionBalances(), health: ecosystemHealth() },
      { effectiveAt: AS_OF },
    );
    const saved = JSON.parse(JSON.stringify(checkpoint().states)) as Record<string, { state: unknown }>;
    const balancesState = saved['balances']!.state as { format?: unknown; reversalsByMonth?: unknown };
    const healthState = saved['health']!.state as { partners: unknown[][] };
    // As they load today.
    expect(() => commissionBalances().load(balancesState as never)).not.toThrow();
    expect(() => ecosystemHealth().load(healthState as never)).not.toThrow();
    // As they were saved before: no reversals by month, lines without their conversion's date (saved without
    // the format tag, as every balances state before commissionBalances@2), no spells.
    delete balancesState.reversalsByMonth;
    delete balancesState.format;
    expect(() => commissionBalances().load(balancesState as never)).toThrow(
      'The saved balances state is not of the format commissionBalances@4: replay from the start',
    );
    expect(() =>
      ecosystemHealth().load({ partners: healthState.partners.map((p) => p.slice(0, 9)) } as never),
    ).toThrow('The saved health state predates churned partners: replay from the start');
  });
});
