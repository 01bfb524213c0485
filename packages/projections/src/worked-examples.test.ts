import { builtInProjections } from './builtins';
import { commissionBalances } from './projections/balances';
import { ecosystemHealth } from './projections/health';
import { partnerRevenue } from './projections/revenue';
import { payoutStatements } from './projections/statements';
import type { JsonValue } from './runtime/json';
import { createReference } from './runtime/reference';
import { replay } from './runtime/runner';
import { storeWith } from './testing/arbitraries';
import {
  commissionLine,
  conversion,
  createEventBuilder,
  partnerJoined,
  programConfigured,
} from './testing/builder';

/** The history of docs/projections.md's revenue example. */
const revenueHistory = () =>
  createEventBuilder()
    .at('2026-01-01T00:00:00.000Z')
    .add('program', 'ProgramConfigured', programConfigured('USD'))
    .add('partner-a', 'PartnerJoined', partnerJoined('a', 'affiliate'))
    .add('partner-b', 'PartnerJoined', partnerJoined('b', 'technology'))
    .add('partner-c', 'PartnerJoined', partnerJoined('c', 'reseller'))
    .at('2026-01-10T09:00:00.000Z')
    .add(
      'conversion-1',
      'ConversionAttributed',
      conversion({
        conversionId: '1',
        amount: '100.00',
        credits: [
          ['a', '60.00'],
          ['b', '40.00'],
        ],
        influencers: ['c'],
      }),
    )
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
    )
    .at('2026-02-07T09:00:00.000Z')
    .add('conversion-3', 'ConversionAttributed', conversion({ conversionId: '3', amount: '50.00' }))
    .at('2026-02-20T09:00:00.000Z')
    .add('conversion-1', 'ConversionReversed', {
      reversalId: 'r1',
      conversionId: '1',
      customerId: 'customer-of-1',
      kind: 'refund',
      amount: '30.00',
      currency: 'USD',
      credits: [
        { partnerId: 'a', revenueCredit: '18.00' },
        { partnerId: 'b', revenueCredit: '12.00' },
      ],
      lines: [],
      reason: null,
    }).events;

describe('partner revenue (worked example)', () => {
  it('credits attributed, sourced and influenced revenue per partner, type and program, by month', async () => {
    const { results } = await replay(await storeWith(revenueHistory()), { revenue: partnerRevenue() });
    const r = results.revenue;
    expect(r.reportingCurrency).toBe('USD');
    expect(r.partners['a']!.periods['2026-01']!.byCurrency['USD']).toEqual({
      attributed: '60.00',
      sourced: '100.00',
      influenced: '100.00',
      conversions: 1,
      sourcedShare: '1.0000',
    });
    expect(r.partners['b']!.periods['2026-01']!.byCurrency['USD']).toMatchObject({
      attributed: '40.00',
      sourced: '0.00',
      influenced: '100.00',
    });
    // Influence only: no credit, but the whole conversion as influenced revenue.
    expect(r.partners['c']!.periods['2026-01']!.byCurrency['USD']).toMatchObject({
      attributed: '0.00',
      influenced: '100.00',
      conversions: 0,
    });
    // The refund lands in February, in the proportions of the original credits.
    expect(r.partners['a']!.periods['2026-02']!.byCurrency['USD']).toMatchObject({
      attributed: '-18.00',
      sourced: '-30.00',
      influenced: '-30.00',
    });
    expect(r.program.periods['2026-02']!.byCurrency['USD']).toMatchObject({
      total: '20.00',
      attributed: '-30.00',
      sourced: '-30.00',
    });
    // EUR 200 at the recorded 1.1 is USD 220; with USD 20 that is 240 in February.
    expect(r.program.periods['2026-02']!.reporting).toMatchObject({
      total: '240.00',
      attributed: '190.00',
      sourced: '190.00',
      influenced: '190.00',
    });
    expect(r.program.total.reporting).toEqual({
      total: '340.00',
      attributed: '290.00',
      sourced: '290.00',
      influenced: '290.00',
      conversions: 3,
      sourcedShare: '0.8529',
      // Conversion 3 credited no partner: 50.00 of the 340.00.
      unattributed: '50.00',
    });
    expect(r.partnerTypes['technology']!.total.reporting).toMatchObject({
      attributed: '28.00',
      sourced: '0.00',
      influenced: '70.00',
    });
    expect(r.program.total.unconverted).toEqual({});
  });

  it('counts only the window asked for: from and to bound periods and totals alike', async () => {
    const store = await storeWith(revenueHistory());
    const { results } = await replay(store, {
      all: partnerRevenue(),
      february: partnerRevenue({ from: '2026-02-01T00:00:00Z', to: '2026-02-28T23:59:59.999Z' }),
      january: partnerRevenue({ to: '2026-01-31T23:59:59.999Z' }),
    });
    const february = results.february;
    expect([february.from, february.to]).toEqual(['2026-02-01T00:00:00.000Z', '2026-02-28T23:59:59.999Z']);
    expect([results.all.from, results.all.to]).toEqual([null, null]);
    expect(Object.keys(february.program.periods)).toEqual(['2026-02']);
    expect(february.program.periods['2026-02']).toEqual(results.all.program.periods['2026-02']);
    // The totals are February's: the January conversion (USD 100) is outside the window.
    expect(february.program.total.reporting).toMatchObject({ total: '240.00', attributed: '190.00' });
    expect(february.partners['a']!.total.byCurrency['USD']).toMatchObject({ attributed: '-18.00' });
    // Partner c influenced the January conversion: in February it has only the refund's share of it.
    expect(february.partners['c']!.total.byCurrency['USD']).toMatchObject({
      attributed: '0.00',
      influenced: '-30.00',
      conversions: 0,
    });
    expect(Object.keys(results.january.program.periods)).toEqual(['2026-01']);
    expect(results.january.program.total.reporting?.total).toBe('100.00');
  });

  it('refuses a window that is not an instant, and a checkpoint saved with another window', async () => {
    expect(() => partnerRevenue({ from: 'last spring' })).toThrow(RangeError);
    const store = await storeWith(revenueHistory());
    const window = { from: '2026-02-01T00:00:00.000Z' };
    const outcome = await replay(store, { revenue: partnerRevenue(window) }, { asKnownAt: { position: 3 } });
    const checkpoint = outcome.checkpoint();
    await expect(replay(store, { revenue: partnerRevenue() }, { from: checkpoint })).rejects.toThrow(
      /covers 2026-02-01T00:00:00.000Z to the end, not the beginning to the end/,
    );
    const resumed = await replay(store, { revenue: partnerRevenue(window) }, { from: checkpoint });
    const once = await replay(store, { revenue: partnerRevenue(window) });
    expect(JSON.stringify(resumed.results)).toBe(JSON.stringify(once.results));
  });

  it('keeps figures beyond 64-bit minor units exact (the state holds 64-bit integers until one overflows)', () => {
    const projection = partnerRevenue();
    const huge = (2n ** 63n + 5n).toString();
    const saved = {
      granularity: 'month',
      native: [
        ['G\u00012026-01\u0001USD', [huge, '-' + huge, '1', '0', 2]],
        ['Pa\u00012026-01\u0001USD', ['0', huge, '0', '0', 1]],
      ],
      reporting: [],
      unconverted: [],
    };
    const state = projection.load(saved as unknown as JsonValue);
    expect(projection.save(state)).toEqual(saved);
    const context = { asOf: null, position: -1, reference: createReference(null) };
    const result = projection.result(state, context);
    expect(result.program.periods['2026-01']!.byCurrency['USD']).toMatchObject({
      total: '92233720368547758.13',
      attributed: '-92233720368547758.13',
      sourced: '0.01',
    });
    expect(result.partners['a']!.total.byCurrency['USD']!.attributed).toBe('92233720368547758.13');
  });

  it('groups by quarter and by day', async () => {
    const events = revenueHistory();
    const { results } = await replay(await storeWith(events), {
      quarter: partnerRevenue({ granularity: 'quarter' }),
      day: partnerRevenue({ granularity: 'day' }),
    });
    expect(Object.keys(results.quarter.program.periods)).toEqual(['2026-Q1']);
    expect(results.quarter.program.periods['2026-Q1']!.reporting?.total).toBe('340.00');
    expect(Object.keys(results.day.program.periods)).toEqual([
      '2026-01-10',
      '2026-02-05',
      '2026-02-07',
      '2026-02-20',
    ]);
  });

  it('keeps revenue with no rate into the reporting currency apart, as unconverted', async () => {
    const events = createEventBuilder()
      .add('program', 'ProgramConfigured', programConfigured('USD'))
      .add('partner-a', 'PartnerJoined', partnerJoined('a', 'affiliate'))
      .add(
        'c',
        'ConversionAttributed',
        conversion({ conversionId: 'c', amount: '1000', currency: 'JPY', credits: [['a', '1000']] }),
      ).events;
    const { results } = await replay(await storeWith(events), { revenue: partnerRevenue() });
    expect(results.revenue.program.total.unconverted).toEqual({ JPY: '1000' });
    expect(results.revenue.program.total.byCurrency['JPY']?.attributed).toBe('1000');
    expect(results.revenue.program.total.reporting).toBeNull();
  });
});

/** One conversion with a pending line and a held line, a payout, a refund after payment, an adjustment. */
const balanceHistory = () =>
  createEventBuilder()
    .at('2026-01-01T00:00:00.000Z')
    .add('program', 'ProgramConfigured', programConfigured('USD'))
    .add('partner-a', 'PartnerJoined', partnerJoined('a', 'affiliate'))
    .add(
      'conversion-1',
      'ConversionAttributed',
      conversion({
        conversionId: '1',
        amount: '1200.00',
        credits: [['a', '1200.00']],
        commissions: [
          commissionLine('L1', 'a', {
            base: '1000.00',
            rate: '0.1',
            amount: '100.00',
            payableAt: '2026-01-31T00:00:00.000Z',
          }),
          commissionLine('L2', 'a', {
            base: '200.00',
            rate: '0.1',
            amount: '20.00',
            payableAt: '2026-01-31T00:00:00.000Z',
            status: 'held',
          }),
        ],
      }),
    )
    .at('2026-02-02T00:00:00.000Z')
    .add('balance-a', 'PayoutIssued', {
      payoutId: 'P1',
      partnerId: 'a',
      amount: '100.00',
      currency: 'USD',
      method: 'bankTransfer',
      externalReference: 'bank-123',
      settles: [{ kind: 'commission', id: 'L1', amount: '100.00' }],
    })
    .at('2026-02-10T00:00:00.000Z')
    .add('conversion-1', 'ConversionReversed', {
      reversalId: 'R1',
      conversionId: '1',
      customerId: 'customer-of-1',
      kind: 'chargeback',
      amount: '1200.00',
      currency: 'USD',
      credits: [{ partnerId: 'a', revenueCredit: '1200.00' }],
      lines: [
        { lineId: 'L1', partnerId: 'a', amount: '100.00', currency: 'USD' },
        { lineId: 'L2', partnerId: 'a', amount: '20.00', currency: 'USD' },
      ],
      reason: null,
    })
    .at('2026-02-11T00:00:00.000Z')
    .add('balance-a', 'ManualAdjustmentRecorded', {
      adjustmentId: 'A1',
      partnerId: 'a',
      amount: '30.00',
      currency: 'USD',
      reason: 'goodwill',
    }).events;

describe('commission balances (worked example)', () => {
  const balancesAt = async (effectiveAt: string) =>
    (await replay(await storeWith(balanceHistory()), { balances: commissionBalances() }, { effectiveAt }))
      .results.balances;

  it('holds a line as pending until payableAt, and a held line until released', async () => {
    expect((await balancesAt('2026-01-15T00:00:00.000Z')).partners['a']!['USD']).toMatchObject({
      accrued: '120.00',
      balance: '120.00',
      pending: '100.00',
      held: '20.00',
      payable: '0.00',
    });
    expect((await balancesAt('2026-02-01T00:00:00.000Z')).partners['a']!['USD']).toMatchObject({
      pending: '0.00',
      held: '20.00',
      payable: '100.00',
    });
  });

  it('pays, then carries the negative balance a reversal after payment leaves', async () => {
    expect((await balancesAt('2026-02-05T00:00:00.000Z')).partners['a']!['USD']).toMatchObject({
      paid: '100.00',
      balance: '20.00',
      payable: '0.00',
      held: '20.00',
    });
    const after = await balancesAt('2026-02-12T00:00:00.000Z');
    expect(after.partners['a']!['USD']).toEqual({
      accrued: '120.00',
      reversed: '120.00',
      rejected: '0.00',
      paid: '100.00',
      payoutsFailed: '0.00',
      adjustments: '30.00',
      balance: '-70.00',
      pending: '0.00',
      held: '0.00',
      payable: '-70.00',
      negative: true,
    });
    expect(after.totals['USD']!.partnersWithNegativeBalance).toBe(1);
    expect(after.accounts['USD']).toEqual({
      commissionExpense: { debit: '150.00', credit: '120.00', balance: '30.00' },
      partnerPayable: { debit: '220.00', credit: '150.00', balance: '70.00' },
      cash: { debit: '0.00', credit: '100.00', balance: '-100.00' },
    });
    expect(after.trialBalance['USD']).toEqual({ debits: '370.00', credits: '370.00', difference: '0.00' });
    // L1 carries the clawback (-100.00) until a payout recovers it; L2 was reversed before it was paid.
    expect(after.openLines).toBe(1);
  });

  it('returns a failed payout to payable, and a rejected held line comes off the balance', async () => {
    const events = createEventBuilder()
      .add('program', 'ProgramConfigured', programConfigured('USD'))
      .add('partner-a', 'PartnerJoined', partnerJoined('a', 'affiliate'))
      .add(
        'conversion-1',
        'ConversionAttributed',
        conversion({
          conversionId: '1',
          amount: '500.00',
          credits: [['a', '500.00']],
          commissions: [
            commissionLine('L1', 'a', {
              base: '500.00',
              rate: '0.1',
              amount: '50.00',
              payableAt: '2026-01-01T00:00:00.000Z',
            }),
            commissionLine('L2', 'a', {
              base: '500.00',
              rate: '0.02',
              amount: '10.00',
              payableAt: '2026-01-01T00:00:00.000Z',
            }),
          ],
        }),
      )
      .add('conversion-1', 'CommissionHeld', {
        lineId: 'L2',
        partnerId: 'a',
        conversionId: '1',
        reason: 'review',
      })
      .at('2026-01-02T00:00:00.000Z')
      .add('balance-a', 'PayoutIssued', {
        payoutId: 'P1',
        partnerId: 'a',
        amount: '50.00',
        currency: 'USD',
        method: 'paypal',
        externalReference: null,
        settles: [{ kind: 'commission', id: 'L1', amount: '50.00' }],
      })
      .add('balance-a', 'PayoutFailed', {
        payoutId: 'P1',
        partnerId: 'a',
        amount: '50.00',
        currency: 'USD',
        reason: 'closed account',
      })
      .add('conversion-1', 'CommissionRejected', {
        lineId: 'L2',
        partnerId: 'a',
        conversionId: '1',
        reason: 'fraud',
      }).events;
    const { results } = await replay(await storeWith(events), builtInProjections());
    expect(results.balances.partners['a']!['USD']).toMatchObject({
      accrued: '60.00',
      reversed: '10.00',
      rejected: '10.00',
      paid: '0.00',
      payoutsFailed: '50.00',
      balance: '50.00',
      held: '0.00',
      payable: '50.00',
    });
    const payout = results.statements.statements['a']!['2026-01']!.payouts[0]!;
    expect(payout).toMatchObject({ payoutId: 'P1', status: 'failed', failureReason: 'closed account' });
    expect(results.statements.statements['a']!['2026-01']!.totals['USD']).toEqual({
      issued: '50.00',
      failed: '50.00',
      paid: '0.00',
    });
  });
});

describe('payout statements (worked example)', () => {
  it('lists the lines a payout settled, with plan version, rate and base', async () => {
    const { results } = await replay(await storeWith(balanceHistory()), { statements: payoutStatements() });
    const statement = results.statements.statements['a']!['2026-02']!;
    expect(statement.payouts).toEqual([
      {
        payoutId: 'P1',
        occurredAt: '2026-02-02T00:00:00.000Z',
        amount: '100.00',
        currency: 'USD',
        method: 'bankTransfer',
        externalReference: 'bank-123',
        status: 'issued',
        failureReason: null,
        items: [
          {
            kind: 'commission',
            id: 'L1',
            settled: '100.00',
            line: {
              conversionId: '1',
              accruedAt: '2026-01-01T00:00:00.000Z',
              planId: 'standard',
              planVersion: 1,
              rule: 'revenueShare',
              tier: null,
              rate: '0.1',
              base: '1000.00',
              amount: '100.00',
              currency: 'USD',
              payableAt: '2026-01-31T00:00:00.000Z',
              overrideOf: null,
            },
          },
        ],
      },
    ]);
    expect(statement.totals).toEqual({ USD: { issued: '100.00', failed: '0.00', paid: '100.00' } });
  });

  it('keeps only the payouts selected by period and partner', async () => {
    const events = balanceHistory();
    const { results } = await replay(await storeWith(events), {
      march: payoutStatements({ from: '2026-03-01T00:00:00.000Z' }),
      other: payoutStatements({ partnerIds: ['b'] }),
      february: payoutStatements({ from: '2026-02-01T00:00:00.000Z', to: '2026-02-28T23:59:59.999Z' }),
    });
    expect(results.march.statements).toEqual({});
    expect(results.other.statements).toEqual({});
    expect(Object.keys(results.february.statements['a']!)).toEqual(['2026-02']);
  });
});

describe('ecosystem health (worked example)', () => {
  const history = () =>
    createEventBuilder()
      .at('2026-01-01T00:00:00.000Z')
      .add('program', 'ProgramConfigured', programConfigured('USD'))
      .add('partner-a', 'PartnerJoined', partnerJoined('a', 'affiliate'))
      .at('2026-01-05T00:00:00.000Z')
      .add('partner-b', 'PartnerJoined', partnerJoined('b', 'technology'))
      .at('2026-01-10T00:00:00.000Z')
      .add('account-1', 'InfluenceTouchRecorded', {
        touchId: 't1',
        partnerId: 'b',
        accountId: 'account-1',
        kind: 'integrationInstalled',
        note: null,
      })
      .add('clicks', 'ClickTracked', click('k1', 'a', null))
      .add('clicks', 'ClickTracked', click('k2', 'a', null))
      .add('clicks', 'ClickTracked', click('k3', 'a', null))
      .add('clicks', 'ClickTracked', click('k4', 'a', 'bot'))
      .at('2026-01-20T00:00:00.000Z')
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
              payableAt: '2026-02-20T00:00:00.000Z',
            }),
          ],
        }),
      )
      .at('2026-02-20T00:00:00.000Z')
      .add(
        'conversion-2',
        'ConversionAttributed',
        conversion({ conversionId: '2', kind: 'renewal', amount: '100.00', credits: [['a', '100.00']] }),
      )
      .add(
        'conversion-3',
        'ConversionAttributed',
        conversion({ conversionId: '3', amount: '100.00', influencers: ['b'] }),
      ).events;

  it('counts active and new partners, EPC, conversion rate, time to first conversion', async () => {
    const store = await storeWith(history());
    const march = (
      await replay(store, { health: ecosystemHealth() }, { effectiveAt: '2026-03-01T00:00:00.000Z' })
    ).results.health;
    expect(march.activePartners).toEqual({
      total: 2,
      byType: { affiliate: 1, agency: 0, referral: 0, reseller: 0, technology: 1 },
    });
    expect(march.newPartners['2026-01']).toEqual({
      total: 2,
      byType: { affiliate: 1, agency: 0, referral: 0, reseller: 0, technology: 1 },
    });
    expect(march.partners['a']).toEqual({
      partnerType: 'affiliate',
      joinedAt: '2026-01-01T00:00:00.000Z',
      lastActivityAt: '2026-02-20T00:00:00.000Z',
      active: true,
      clicks: 3,
      fraudClicks: 1,
      conversions: 2,
      clickToConversionRate: '0.6667',
      commission: { USD: '10.00' },
      epc: { USD: '3.3333' },
      firstConversionAt: '2026-01-20T00:00:00.000Z',
      daysToFirstConversion: 19,
    });
    expect(march.accountsInfluencedByTechnologyPartners).toBe(2);
    expect(march.revenue.total.byCurrency['USD']).toEqual({
      total: '300.00',
      sourced: '200.00',
      influenced: '300.00',
      renewal: '100.00',
      sourcedShare: '0.6667',
      influencedShare: '1.0000',
    });
    expect(march.timeToFirstConversion).toEqual({
      partnersConverted: 1,
      medianDays: 19,
      averageDays: '19.00',
    });
    // 90 days after b's last touch (the conversion it influenced on 2026-02-20), b is no longer active.
    const june = (
      await replay(store, { health: ecosystemHealth() }, { effectiveAt: '2026-05-21T00:00:00.000Z' })
    ).results.health;
    expect(june.activePartners.total).toBe(0);
    const may = (
      await replay(store, { health: ecosystemHealth() }, { effectiveAt: '2026-05-20T00:00:00.000Z' })
    ).results.health;
    expect(may.activePartners.total).toBe(2);
  });
});

const click = (clickId: string, partnerId: string, fraudReason: string | null) => ({
  clickId,
  partnerId,
  visitorId: `visitor-${clickId}`,
  landing: { campaign: null, url: null },
  ipFingerprint: null,
  userAgentFingerprint: null,
  fraudReason,
});

describe('a report as of a date before the program was configured', () => {
  // init records the settings at the wall clock, after a history imported with earlier dates.
  const history = () =>
    createEventBuilder()
      .at('2026-06-01T00:00:00.000Z')
      .add('program', 'ProgramConfigured', programConfigured('USD'))
      .add('partner-a', 'PartnerJoined', partnerJoined('a', 'affiliate'), {
        occurredAt: '2025-01-01T00:00:00.000Z',
      })
      .add(
        'conversion-1',
        'ConversionAttributed',
        conversion({ conversionId: '1', amount: '100.00', credits: [['a', '100.00']] }),
        { occurredAt: '2025-03-10T09:00:00.000Z' },
      ).events;

  it('still reports in the reporting currency and converts the program currency', async () => {
    const { results } = await replay(
      await storeWith(history()),
      { revenue: partnerRevenue(), health: ecosystemHealth() },
      { effectiveAt: '2025-03-31T23:59:59.999Z' },
    );
    expect(results.revenue.reportingCurrency).toBe('USD');
    expect(results.revenue.partners['a']!.periods['2025-03']!.reporting).not.toBeNull();
    expect(results.revenue.partners['a']!.periods['2025-03']!.reporting!.attributed).toBe('100.00');
    expect(JSON.stringify(results.health)).toContain('"reportingCurrency":"USD"');
  });
});
