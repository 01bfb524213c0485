import { partnerRevenue, replay } from '@partner-ledger/projections';
import type { RevenueFigures } from '@partner-ledger/projections';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '@partner-ledger/store-postgres/testing';
import Decimal from 'decimal.js';
import { Pool } from 'pg';
import { startProjector } from './projector';
import { atDays, dayAfter, daysAt as daysOf, docsQuery, endOfDay, simulatedLedger } from './testing/as-of';

// The "partner revenue by month as of T as known at K" query of docs/read-models.md, on revenue_movements,
// against the revenue report as of T as known at K (the replay `report revenue --as-of T --known-at K` runs:
// occurredAt at or before the end of day T, recordedAt at or before the end of day K).

const query = docsQuery('revenue-as-of');

const url = testDatabaseUrl();
const schema = uniqueSchema('rmrevasof');
let pool: Pool;
// Conversions and reversals recorded hours after they happened, in USD and EUR with rates into the
// reporting currency (the simulator of the projections' tests).
const store = simulatedLedger();

beforeAll(async () => {
  pool = new Pool({ connectionString: url, max: 2 });
  await startProjector({ source: await store, pool, schema, exitWhenCaughtUp: true }).done;
}, 120_000);
afterAll(async () => {
  await pool.end();
  for (const g of ['', '_g1']) await dropSchema(url, schema + g);
});

const decimal = (v: unknown): string => new Decimal(String(v)).toFixed();

/** The doc's query with its dates and schema replaced: rows of partner, month, basis, currency, figures. */
const sqlRevenue = async (sql: string, t: string, k: string): Promise<string[]> => {
  const text = atDays(sql, schema, t, k);
  const rows = (await pool.query({ text, rowMode: 'array' })).rows as unknown[][];
  return rows.map((row) => JSON.stringify(row.map((v, i) => (i < 4 ? v : decimal(v))))).sort();
};

/** The revenue report as of T as known at K, as the same rows. */
const reportRevenue = async (t: string, k: string): Promise<string[]> => {
  const { results } = await replay(
    await store,
    { revenue: partnerRevenue({ granularity: 'month' }) },
    { effectiveAt: endOfDay(t), asKnownAt: { recordedAt: endOfDay(k) } },
  );
  const { partners, reportingCurrency } = results.revenue;
  const rows: string[] = [];
  for (const [partner, series] of Object.entries(partners))
    for (const [month, block] of Object.entries(series.periods)) {
      const figures: Array<readonly [string, string, RevenueFigures]> = Object.entries(block.byCurrency).map(
        ([c, f]) => ['native', c, f] as const,
      );
      if (block.reporting !== null && reportingCurrency !== null)
        figures.push(['reporting', reportingCurrency, block.reporting] as const);
      for (const [basis, currency, f] of figures)
        rows.push(
          JSON.stringify([
            partner,
            month,
            basis,
            currency,
            decimal(f.attributed),
            decimal(f.sourced),
            decimal(f.influenced),
            decimal(f.conversions),
          ]),
        );
    }
  return rows.sort();
};

/** The days of the revenue movements (those `where` keeps) at the fractions of their effective times. */
const daysAt = (where: string, fractions: number[]): Promise<string[]> =>
  daysOf(pool, `${schema}.revenue_movements`, where, fractions);

it('has the query the docs promise', () => {
  expect(query).toBeDefined();
});

it('gives partner revenue by month as of T as known at K on days with late-recorded conversions and reversals', async () => {
  const late = `WHERE date_trunc('day', recorded_at) > date_trunc('day', effective_at)`;
  const lateDays = await daysAt(late, [0.1, 0.3, 0.5, 0.7, 0.9]);
  const lateReversalDays = await daysAt(`${late} AND kind = 'reversal'`, [0.2, 0.5, 0.8]);
  const pairs = [...lateDays, ...lateReversalDays].map((day) => [day, day] as const);
  expect(pairs.length).toBe(8);
  for (const [t, k] of pairs) {
    // What the pair cuts and keeps: late-recorded movements dropped; conversions, reversals and both bases.
    const cut = await pool.query(
      `SELECT count(*) FILTER (WHERE recorded_at >= $2)::int AS late,
              count(DISTINCT kind || basis) FILTER (WHERE recorded_at < $2)::int AS kinds
         FROM ${schema}.revenue_movements WHERE effective_at < $1`,
      [dayAfter(t), dayAfter(k)],
    );
    expect([t, k, cut.rows[0].late > 0, cut.rows[0].kinds]).toEqual([t, k, true, 4]);
    const expected = await reportRevenue(t, k);
    expect(expected.length).toBeGreaterThan(2);
    expect([t, k, await sqlRevenue(query!, t, k)]).toEqual([t, k, expected]);
  }
}, 60_000);

it('gives partner revenue by month at every pair of eight days spread over the ledger (T before, on or after K)', async () => {
  const days = await daysAt('', [0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.99]);
  expect(new Set(days).size).toBe(8);
  let differ = 0;
  for (const t of days)
    for (const k of days) {
      const expected = await reportRevenue(t, k);
      expect([t, k, await sqlRevenue(query!, t, k)]).toEqual([t, k, expected]);
      if (k < t && JSON.stringify(expected) !== JSON.stringify(await reportRevenue(t, t))) differ += 1;
    }
  // Pairs where what was known at K is not what is known at T: the recorded time changes the answer.
  expect(differ).toBeGreaterThan(10);
}, 120_000);
