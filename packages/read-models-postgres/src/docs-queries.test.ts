import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commissionBalances, replay } from '@partner-ledger/projections';
import { simulate, storeWith } from '@partner-ledger/projections/testing';
import type { Action } from '@partner-ledger/projections/testing';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '@partner-ledger/store-postgres/testing';
import { Pool } from 'pg';
import { startProjector } from './projector';

// The SQL of docs/read-models.md, run against the tables of a simulated ledger: every query runs and finds
// rows, and the aging of held lines agrees with the balances projection's.

const DOC = join(__dirname, '..', '..', '..', 'docs', 'read-models.md');
const queries = [...readFileSync(DOC, 'utf8').matchAll(/^```sql\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

const url = testDatabaseUrl();
const schema = uniqueSchema('rmdoc');
let pool: Pool;
/** Seventy-five days of a small program: a conversion a day, some held, reversed, paid. */
const programActions = (): Action[] => {
  const types = ['affiliate', 'referral', 'reseller', 'technology', 'agency'] as const;
  const actions: Action[] = types.map((partnerType, i) => ({
    kind: 'join',
    partnerType,
    withParent: i === 4,
  }));
  for (let d = 0; d < 75; d += 1) {
    actions.push({ kind: 'click', partner: d % 5, fraud: false, lagHours: 0 });
    actions.push({
      kind: 'convert',
      cents: 5_000 + ((d * 7_31) % 20_000),
      euro: d % 4 === 0,
      partners: [d % 5],
      influencer: d % 3 === 0 ? (d + 2) % 5 : null,
      renewal: d % 6 === 0,
      held: d % 5 === 1,
      lagHours: 0,
    });
    if (d % 9 === 0) actions.push({ kind: 'hold', line: d });
    if (d % 11 === 0) actions.push({ kind: 'reverse', conversion: d, full: d % 2 === 0, lagHours: 1 });
    if (d % 15 === 14) for (let p = 0; p < 5; p += 1) actions.push({ kind: 'payout', partner: p });
    actions.push({ kind: 'advance', hours: 24 });
  }
  return actions;
};
const store = storeWith(simulate(programActions()));

beforeAll(async () => {
  pool = new Pool({ connectionString: url, max: 2 });
  await startProjector({ source: await store, pool, schema, exitWhenCaughtUp: true }).done;
});
afterAll(async () => {
  await pool.end();
  for (const name of [schema, `${schema}_g1`]) await dropSchema(url, name);
});

const run = async (sql: string) =>
  (await pool.query(sql.replaceAll('partner_ledger_read.', `${schema}.`))).rows as Array<
    Record<string, unknown>
  >;

it('has the example queries the docs promise', () => {
  expect(queries.length).toBe(6);
});

it.each(queries.map((sql, i) => [i + 1, sql]))('runs example query %i and finds rows', async (_n, sql) => {
  expect((await run(sql as string)).length).toBeGreaterThan(0);
});

it('gives the aging of held lines that the balances projection gives', async () => {
  const aging = queries.find((sql) => sql.includes("status = 'held'"))!;
  const rows = await run(aging);
  const balances = (await replay(await store, { balances: commissionBalances() })).results.balances;
  const expected = Object.entries(balances.aging).flatMap(([currency, buckets]) =>
    Object.entries(buckets)
      .filter(([, figures]) => figures.heldLines > 0)
      .map(([bucket, figures]) => [currency, bucket, figures.heldLines, figures.held]),
  );
  expect(rows.map((row) => [row.currency, row.bucket, Number(row.lines), row.held]).sort()).toEqual(
    expected.sort(),
  );
});
