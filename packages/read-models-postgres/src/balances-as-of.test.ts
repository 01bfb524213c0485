import { commissionBalances, replay } from '@partner-ledger/projections';
import {
  createEventBuilder,
  partnerJoined,
  programConfigured,
  storeWith,
} from '@partner-ledger/projections/testing';
import type { EventData } from '@partner-ledger/events';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '@partner-ledger/store-postgres/testing';
import Decimal from 'decimal.js';
import { Pool } from 'pg';
import { startProjector } from './projector';
import { atDays, dayAfter, daysAt as daysOf, docsQuery, endOfDay, simulatedLedger } from './testing/as-of';

// The "balances as of T as known at K" query of docs/read-models.md, on balance_movements, against the
// balances report as of T as known at K (the replay `report balances --as-of T --known-at K` runs: occurredAt
// at or before the end of day T, recordedAt at or before the end of day K).

const query = docsQuery('balances-as-of');

const url = testDatabaseUrl();
const schema = uniqueSchema('rmasof');
// The worked example's.
const example = uniqueSchema('rmasofx');
// The worked example of payouts, clawbacks and holds.
const payouts = uniqueSchema('rmasofp');
let pool: Pool;
// Conversions and reversals recorded hours after they happened, held lines rejected, adjustments and failed
// payouts (the simulator of the projections' tests).
const store = simulatedLedger();

beforeAll(async () => {
  pool = new Pool({ connectionString: url, max: 2 });
  await startProjector({ source: await store, pool, schema, exitWhenCaughtUp: true }).done;
}, 120_000);
afterAll(async () => {
  await pool.end();
  for (const name of [schema, example, payouts]) for (const g of ['', '_g1']) await dropSchema(url, name + g);
});

const FIELDS = [
  'accrued',
  'reversed',
  'rejected',
  'paid',
  'payoutsFailed',
  'adjustments',
  'balance',
  'pending',
  'held',
  'payable',
] as const;
/** The doc's query with its dates and schema replaced: rows of partner, currency and FIELDS. */
const sqlBalances = async (sql: string, t: string, k: string, into = schema): Promise<string[]> => {
  const text = atDays(sql, into, t, k);
  const rows = (await pool.query({ text, rowMode: 'array' })).rows as Array<Array<string | null>>;
  return rows
    .map((row) => JSON.stringify(row.map((v, i) => (i < 2 ? v : new Decimal(v ?? '0').toFixed()))))
    .sort();
};

const reportBalances = async (t: string, k: string, source = store): Promise<string[]> => {
  const { results } = await replay(
    await source,
    { balances: commissionBalances() },
    { effectiveAt: endOfDay(t), asKnownAt: { recordedAt: endOfDay(k) } },
  );
  return Object.entries(results.balances.partners)
    .flatMap(([partner, byCurrency]) =>
      Object.entries(byCurrency).map(([currency, b]) =>
        JSON.stringify([partner, currency, ...FIELDS.map((f) => new Decimal(b[f]).toFixed())]),
      ),
    )
    .sort();
};

/** The days of the movements (those `where` keeps) at the fractions of their effective times. */
const daysAt = (where: string, fractions = [0.3, 0.5, 0.7, 0.9]): Promise<string[]> =>
  daysOf(pool, `${schema}.balance_movements`, where, fractions);

/**
 * Days T and K: K the day of T itself, on days with a movement recorded on a later day, and K a day to months
 * before T.
 */
const datePairs = async (): Promise<Array<[string, string]>> => {
  const lateDays = await daysAt(`WHERE date_trunc('day', recorded_at) > date_trunc('day', effective_at)`);
  const days = await daysAt('');
  const pairs: Array<[string, string]> = lateDays.map((day) => [day, day]);
  for (let i = 1; i < days.length; i += 1) pairs.push([days[i]!, days[i - 1]!]);
  return pairs;
};

/** Counts in `waiting` a report (rows of reportBalances) with some pending, some held, a payable not its balance. */
const countWaiting = (waiting: Record<'pending' | 'held' | 'payable', number>, report: string[]): void => {
  const rows = report.map((row) => JSON.parse(row) as string[]);
  const at = (field: (typeof FIELDS)[number]): number => 2 + FIELDS.indexOf(field);
  if (rows.some((row) => row[at('pending')] !== '0')) waiting.pending += 1;
  if (rows.some((row) => row[at('held')] !== '0')) waiting.held += 1;
  if (rows.some((row) => row[at('payable')] !== row[at('balance')])) waiting.payable += 1;
};

/**
 * A conversion of `amount` sourced by `partnerId`, earning it one commission line: [lineId, amount, payableAt,
 * status].
 */
const earned = (
  partnerId: string,
  conversionId: string,
  amount: string,
  [lineId, line, payableAt, status]: [string, string, string, 'held' | 'pending'],
): EventData<'ConversionAttributed'> => ({
  conversionId,
  customerId: `customer-of-${conversionId}`,
  accountId: null,
  visitorId: null,
  kind: 'order',
  amount,
  currency: 'USD',
  couponCode: null,
  attribution: {
    basis: 'clicks',
    model: 'linear',
    clickWindowDays: 30,
    halfLifeDays: 7,
    registrationId: null,
  },
  credits: [{ partnerId, weight: '1', revenueCredit: amount, role: 'sourced', touchIds: [] }],
  influencers: [],
  fx: [],
  commissions: [
    {
      lineId,
      partnerId,
      planId: 'standard',
      planVersion: 1,
      rule: 'revenueShare',
      tier: null,
      base: amount,
      rate: '0.1',
      amount: line,
      currency: 'USD',
      uncappedAmount: null,
      payableAt,
      status,
      holdReason: status === 'held' ? 'self-referral' : null,
      overrideOf: null,
    },
  ],
});

/** A refund of `amount` of a conversion crediting `partnerId`, taking back `lines` ([lineId, amount]). */
const refund = (
  partnerId: string,
  reversalId: string,
  conversionId: string,
  amount: string,
  lines: Array<[string, string]>,
): EventData<'ConversionReversed'> => ({
  reversalId,
  conversionId,
  customerId: `customer-of-${conversionId}`,
  kind: 'refund',
  amount,
  currency: 'USD',
  credits: [{ partnerId, revenueCredit: amount }],
  lines: lines.map(([lineId, lineAmount]) => ({ lineId, partnerId, amount: lineAmount, currency: 'USD' })),
  reason: null,
});

it('has the query the docs promise', () => {
  expect(query).toBeDefined();
});

it('gives the balances report as of T as known at K (the same day or earlier), on a ledger with late, reversed, adjusted and failed movements', async () => {
  const pairs = await datePairs();
  expect(pairs.length).toBe(7);
  // Every kind of line change (accrual, reversal, hold, release, rejection, payout, payout_failed) occurs.
  const lineKinds = await pool.query(
    `SELECT count(DISTINCT kind)::int AS kinds FROM ${schema}.commission_line_changes`,
  );
  expect(lineKinds.rows[0].kinds).toBe(7);
  const waiting = { pending: 0, held: 0, payable: 0 };
  for (const [t, k] of pairs) {
    // What the pair cuts and keeps: late-recorded movements dropped, and every kind of movement counted.
    const cut = await pool.query(
      `SELECT count(*) FILTER (WHERE recorded_at >= $2)::int AS late,
              count(DISTINCT kind) FILTER (WHERE recorded_at < $2)::int AS kinds
         FROM ${schema}.balance_movements WHERE effective_at < $1`,
      [dayAfter(t), dayAfter(k)],
    );
    expect([t, k, cut.rows[0].late > 0]).toEqual([t, k, true]);
    expect([t, k, cut.rows[0].kinds]).toEqual([t, k, 6]);
    const expected = await reportBalances(t, k);
    expect(expected.length).toBeGreaterThan(2);
    expect([t, k, await sqlBalances(query!, t, k)]).toEqual([t, k, expected]);
    countWaiting(waiting, expected);
  }
  // Days with a late movement fall between conversions' hold periods: held lines, but nothing pending.
  expect(waiting).toEqual({ pending: 0, held: pairs.length, payable: pairs.length });
}, 60_000);

it('gives the balances report at every pair of ten days spread over the ledger (T before, on or after K)', async () => {
  const days = await daysAt('', [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95]);
  expect(new Set(days).size).toBe(10);
  const waiting = { pending: 0, held: 0, payable: 0 };
  for (const t of days)
    for (const k of days) {
      const expected = await reportBalances(t, k);
      expect([t, k, await sqlBalances(query!, t, k)]).toEqual([t, k, expected]);
      countWaiting(waiting, expected);
    }
  // Pairs with pending, held and payable lines to compare (46, 81 and 91 of the 100 on this ledger).
  expect(waiting.pending).toBeGreaterThan(33);
  expect(waiting.held).toBeGreaterThan(33);
  expect(waiting.payable).toBeGreaterThan(33);
}, 120_000);

it('counts a rejection as what the line had left, and a reversal of a rejected line as nothing, as the report does', async () => {
  // Partner a: line L1 (held, 10.00) rejected, then its conversion reversed in full; line L2 (held, 30.00)
  // reversed in part (12.00), then rejected (the 18.00 left).
  /** A conversion crediting partner a, earning it one held line. */
  const attributed = (conversionId: string, amount: string, lineId: string, line: string) =>
    earned('a', conversionId, amount, [lineId, line, '2026-03-01T00:00:00.000Z', 'held']);
  const reversal = (id: string, conversionId: string, amount: string, lines: Array<[string, string]>) =>
    refund('a', id, conversionId, amount, lines);
  const rejected = (lineId: string, conversionId: string) => ({
    lineId,
    partnerId: 'a',
    conversionId,
    reason: 'fraud',
  });
  const events = createEventBuilder()
    .at('2026-01-01T00:00:00.000Z')
    .add('program', 'ProgramConfigured', programConfigured())
    .add('partner-a', 'PartnerJoined', partnerJoined('a', 'affiliate'))
    .at('2026-01-10T12:00:00.000Z')
    .add('conversion-1', 'ConversionAttributed', attributed('1', '100.00', 'L1', '10.00'))
    .add('conversion-2', 'ConversionAttributed', attributed('2', '300.00', 'L2', '30.00'))
    .at('2026-01-20T12:00:00.000Z')
    .add('conversion-1', 'CommissionRejected', rejected('L1', '1'))
    .add('conversion-2', 'ConversionReversed', reversal('R2', '2', '120.00', [['L2', '12.00']]))
    .at('2026-01-25T12:00:00.000Z')
    .add('conversion-1', 'ConversionReversed', reversal('R1', '1', '100.00', [['L1', '10.00']]))
    .add('conversion-2', 'CommissionRejected', rejected('L2', '2')).events;
  const source = storeWith(events);
  await startProjector({ source: await source, pool, schema: example, exitWhenCaughtUp: true }).done;
  const kinds = await pool.query(
    `SELECT item_id, kind, amount::text FROM ${example}.balance_movements WHERE kind <> 'accrual' ORDER BY position`,
  );
  expect(kinds.rows).toEqual([
    { item_id: 'L1', kind: 'rejection', amount: '-10.00' },
    { item_id: 'L2', kind: 'reversal', amount: '-12.00' },
    { item_id: 'L2', kind: 'rejection', amount: '-18.00' },
  ]);
  for (const [t, k] of [
    ['2026-01-15', '2026-01-15'],
    ['2026-01-22', '2026-01-22'],
    ['2026-01-31', '2026-01-31'],
    ['2026-01-31', '2026-01-22'],
  ] as const)
    expect([t, k, await sqlBalances(query!, t, k, example)]).toEqual([
      t,
      k,
      await reportBalances(t, k, source),
    ]);
  const { results } = await replay(await source, { balances: commissionBalances() });
  expect(results.balances.partners['a']!['USD']).toMatchObject({
    accrued: '40.00',
    reversed: '40.00',
    rejected: '28.00',
    balance: '0.00',
  });
});

it('counts pending, held and payable through payouts, a failed payout, a clawback recovered and holds of a paid line, as the report does', async () => {
  // Partner b: M1 (10.00) paid by P1, forgotten by the balances once P2 pays M2, so that holding it changes
  // nothing; its refund is a clawback (payable at once), recovered by P3, given back when P3 fails,
  // recovered again by P4 and forgotten after P5; M4 held, then released, pending until February 10.
  const line = (lineId: string, amount: string, payableAt: string) =>
    [lineId, amount, payableAt, 'pending'] as [string, string, string, 'pending'];
  const attributed = (conversionId: string, amount: string, l: ReturnType<typeof line>) =>
    earned('b', conversionId, amount, l);
  const payout = (payoutId: string, amount: string, settles: EventData<'PayoutIssued'>['settles']) => ({
    payoutId,
    partnerId: 'b',
    amount,
    currency: 'USD',
    method: 'bankTransfer' as const,
    externalReference: null,
    settles,
  });
  // What P3 settles, and P4 again after P3 failed: M1's clawback first, then M3.
  const recoverM1AndPayM3: EventData<'PayoutIssued'>['settles'] = [
    { kind: 'reversal', id: 'M1', amount: '-10.00' },
    { kind: 'commission', id: 'M3', amount: '50.00' },
  ];
  const lineRef = (lineId: string, conversionId: string) => ({ lineId, partnerId: 'b', conversionId });
  const events = createEventBuilder()
    .at('2026-01-01T00:00:00.000Z')
    .add('program', 'ProgramConfigured', programConfigured())
    .add('partner-b', 'PartnerJoined', partnerJoined('b', 'affiliate'))
    .at('2026-01-05T12:00:00.000Z')
    .add(
      'conversion-1',
      'ConversionAttributed',
      attributed('1', '100.00', line('M1', '10.00', '2026-01-12T00:00:00.000Z')),
    )
    .add(
      'conversion-2',
      'ConversionAttributed',
      attributed('2', '200.00', line('M2', '20.00', '2026-01-20T00:00:00.000Z')),
    )
    .at('2026-01-13T12:00:00.000Z')
    .add(
      'balance-b',
      'PayoutIssued',
      payout('P1', '10.00', [{ kind: 'commission', id: 'M1', amount: '10.00' }]),
    )
    .at('2026-01-21T12:00:00.000Z')
    .add(
      'balance-b',
      'PayoutIssued',
      payout('P2', '20.00', [{ kind: 'commission', id: 'M2', amount: '20.00' }]),
    )
    .at('2026-01-22T12:00:00.000Z')
    .add('conversion-1', 'CommissionHeld', { ...lineRef('M1', '1'), reason: 'review' })
    .at('2026-01-23T12:00:00.000Z')
    .add('conversion-1', 'ConversionReversed', refund('b', 'R1', '1', '100.00', [['M1', '10.00']]))
    .at('2026-01-24T12:00:00.000Z')
    .add(
      'conversion-3',
      'ConversionAttributed',
      attributed('3', '500.00', line('M3', '50.00', '2026-01-25T00:00:00.000Z')),
    )
    .at('2026-01-26T12:00:00.000Z')
    .add('balance-b', 'PayoutIssued', payout('P3', '40.00', recoverM1AndPayM3))
    .at('2026-01-27T12:00:00.000Z')
    .add('balance-b', 'PayoutFailed', {
      payoutId: 'P3',
      partnerId: 'b',
      amount: '40.00',
      currency: 'USD',
      reason: 'bank rejected',
    })
    .at('2026-01-28T12:00:00.000Z')
    .add('balance-b', 'PayoutIssued', payout('P4', '40.00', recoverM1AndPayM3))
    .at('2026-01-29T12:00:00.000Z')
    .add(
      'conversion-4',
      'ConversionAttributed',
      attributed('4', '50.00', line('M4', '5.00', '2026-02-10T00:00:00.000Z')),
    )
    .add('balance-b', 'ManualAdjustmentRecorded', {
      adjustmentId: 'A1',
      partnerId: 'b',
      amount: '7.00',
      currency: 'USD',
      reason: 'goodwill',
    })
    .at('2026-01-30T12:00:00.000Z')
    .add(
      'balance-b',
      'PayoutIssued',
      payout('P5', '7.00', [{ kind: 'adjustment', id: 'A1', amount: '7.00' }]),
    )
    .at('2026-01-31T12:00:00.000Z')
    .add('conversion-1', 'CommissionHeld', { ...lineRef('M1', '1'), reason: 'review' })
    .at('2026-02-01T12:00:00.000Z')
    .add('conversion-4', 'CommissionHeld', { ...lineRef('M4', '4'), reason: 'review' })
    .at('2026-02-03T12:00:00.000Z')
    .add('conversion-4', 'CommissionReleased', { ...lineRef('M4', '4'), note: null })
    .at('2026-02-04T12:00:00.000Z')
    .add('conversion-1', 'CommissionRejected', { ...lineRef('M1', '1'), reason: 'fraud' }).events;
  const source = storeWith(events);
  await startProjector({ source: await source, pool, schema: payouts, exitWhenCaughtUp: true }).done;
  const days = [
    '01-10',
    '01-15',
    '01-22',
    '01-23',
    '01-26',
    '01-27',
    '01-28',
    '01-31',
    '02-02',
    '02-05',
    '02-15',
  ];
  for (const t of days.map((d) => `2026-${d}`))
    for (const k of [t, '2026-01-27'].filter((day) => day <= t))
      expect([t, k, await sqlBalances(query!, t, k, payouts)]).toEqual([
        t,
        k,
        await reportBalances(t, k, source),
      ]);
  // What the report says at a few of them: [pending, held, payable].
  const figures = async (t: string) => {
    const [row] = (await reportBalances(t, t, source)).map((r) => JSON.parse(r) as string[]);
    return ['pending', 'held', 'payable'].map((f) => row![2 + FIELDS.indexOf(f as (typeof FIELDS)[number])]);
  };
  expect(await figures('2026-01-15')).toEqual(['20', '0', '0']);
  expect(await figures('2026-01-23')).toEqual(['0', '0', '-10']);
  expect(await figures('2026-01-27')).toEqual(['0', '0', '40']);
  expect(await figures('2026-02-02')).toEqual(['0', '5', '0']);
  expect(await figures('2026-02-05')).toEqual(['5', '0', '0']);
});
