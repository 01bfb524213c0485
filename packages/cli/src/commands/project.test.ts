import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TABLES, projectorApplicationName } from '@partner-ledger/read-models-postgres';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '@partner-ledger/store-postgres/testing';
import Decimal from 'decimal.js';
import fc from 'fast-check';
import { historyArbitrary, simulate } from '@partner-ledger/projections/testing';
import { openFileStore } from '@partner-ledger/store-file';
import { Pool } from 'pg';
import { REPO_ROOT, buildCli, runBin } from '../testing/fixtures';
import { runInProcess } from '../testing/in-process';

// `project` on the PostgreSQL server of the jest global set-up: after projecting a simulated ledger, every
// figure of the tables equals the figure of `report ... --format json` at the same position.

const url = testDatabaseUrl();
let root: string;
let ledger: string;
let pool: Pool;
const schema = uniqueSchema('cliread');
// The projector process whose connections are killed under it.
const killedSchema = uniqueSchema('clikill');

type Json = Record<string, unknown>;
const report = async (...args: string[]): Promise<Json> => {
  const result = await runInProcess(['report', ...args, '--format', 'json', '--store', ledger]);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Json;
};
const rows = async (sql: string): Promise<string[]> => {
  const result = await pool.query({ text: sql, rowMode: 'array' });
  return (result.rows as unknown[][]).map((row) => JSON.stringify(row)).sort();
};
const entries = <T>(record: unknown): Array<[string, T]> => Object.entries(record as Record<string, T>);
const sortedJson = (list: unknown[][]): string[] => list.map((row) => JSON.stringify(row)).sort();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pl-cli-project-'));
  ledger = join(root, 'ledger');
  const simulated = await runInProcess([
    'simulate',
    '--seed',
    'read-models',
    '--events',
    '2500',
    '--partners',
    '12',
    '--store',
    ledger,
  ]);
  expect(simulated.code).toBe(0);
  pool = new Pool({ connectionString: url, max: 2 });
  const projected = await runInProcess([
    'project',
    '--from',
    ledger,
    '--to',
    url,
    '--schema',
    schema,
    '--once',
    '--batch',
    '700',
  ]);
  expect(projected.stderr).not.toContain('Error');
  expect(projected.code).toBe(0);
  expect(projected.stdout).toMatch(/^state:\s+live$/m);
}, 300_000);
afterAll(async () => {
  await pool.end();
  for (const name of [schema, `${schema}_g1`, killedSchema, `${killedSchema}_g1`])
    await dropSchema(url, name);
  rmSync(root, { recursive: true, force: true });
});

describe('project, its database connections killed with pg_terminate_backend', () => {
  it('prints each reconnect, carries on, and ends with the tables of a clean run', async () => {
    buildCli();
    const running = runBin(
      ['project', '--from', ledger, '--to', url, '--schema', killedSchema, '--once', '--batch', '40'],
      { env: { HOME: root } },
    );
    let finished = false;
    void running.finally(() => {
      finished = true;
    });
    // What an operator (or a failover) does: end the projector's sessions while they work. Found by the
    // application_name the projector sets.
    let killed = 0;
    while (!finished && killed < 3) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const ended = await pool.query(
        `SELECT pid FROM pg_stat_activity, pg_terminate_backend(pid)
          WHERE application_name = $1 AND state <> 'idle'`,
        [projectorApplicationName(killedSchema)],
      );
      killed += ended.rowCount ?? 0;
    }
    const result = await running;
    expect(killed).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/^project: lost the connection \(.+\); reconnect 1 in 500 ms$/m);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^state:\s+live$/m);
    for (const table of TABLES)
      expect([table.name, await rows(`SELECT * FROM ${killedSchema}.${table.name}`)]).toEqual([
        table.name,
        await rows(`SELECT * FROM ${schema}.${table.name}`),
      ]);
  }, 120_000);
});

describe('as-of questions in SQL, against report --as-of --known-at', () => {
  // A ledger with conversions recorded hours after they happened and failed payouts (the simulator of the
  // projections' tests), so that both dates cut something.
  const asOfSchema = uniqueSchema('cliasof');
  let asOfLedger: string;
  beforeAll(async () => {
    asOfLedger = join(root, 'as-of-ledger');
    const store = await openFileStore({ directory: asOfLedger });
    for (const { stream, event } of simulate(fc.sample(historyArbitrary(1_500), { seed: 8, numRuns: 1 })[0]!))
      await store.append(stream, [event]);
    await store.close();
    const projected = await runInProcess([
      'project',
      '--from',
      asOfLedger,
      '--to',
      url,
      '--schema',
      asOfSchema,
      '--once',
    ]);
    expect(projected.code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    for (const name of [asOfSchema, `${asOfSchema}_g1`]) await dropSchema(url, name);
  });

  it('commission accrued, paid and failed as of a date, as known at an earlier date, equal report balances', async () => {
    // The query docs/read-models.md gives, with its dates and schema replaced.
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'read-models.md'), 'utf8');
    const asOfQuery = /^```sql as-of\n([\s\S]*?)^```$/m.exec(doc)?.[1];
    expect(asOfQuery).toBeDefined();
    // As of the day of the median line, as known at the day of the earliest failed payout's failure.
    const days = await pool.query(
      `SELECT (SELECT to_char(percentile_disc(0.5) WITHIN GROUP (ORDER BY earned_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                 FROM ${asOfSchema}.commission_lines) AS t,
              (SELECT to_char(min(failed_recorded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                 FROM ${asOfSchema}.payouts) AS k`,
    );
    const { t, k } = days.rows[0] as { t: string; k: string };
    const dayAfter = (day: string): string =>
      new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().replace('.000Z', 'Z');
    // Both dates cut: lines earned by T but recorded after K, and a payout failed (and known) by both.
    const cuts = await pool.query(
      `SELECT (SELECT count(*)::int FROM ${asOfSchema}.commission_lines WHERE earned_at < $1 AND recorded_at >= $2) AS late,
              (SELECT count(*)::int FROM ${asOfSchema}.payouts WHERE failed_at < $1 AND failed_recorded_at < $2) AS failed`,
      [dayAfter(t), dayAfter(k)],
    );
    expect(cuts.rows[0].late).toBeGreaterThan(0);
    expect(cuts.rows[0].failed).toBeGreaterThan(0);
    const sql = asOfQuery!
      .replaceAll('partner_ledger_read.', `${asOfSchema}.`)
      .replaceAll("'2026-04-01T00:00:00Z'", `'${dayAfter(t)}'`)
      .replaceAll("'2026-04-06T00:00:00Z'", `'${dayAfter(k)}'`);
    expect(sql).not.toContain('2026-04-0');
    const result = await runInProcess([
      'report',
      'balances',
      '--as-of',
      t,
      '--known-at',
      k,
      '--format',
      'json',
      '--store',
      asOfLedger,
    ]);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as Json;
    const same = (row: Array<string | null>): string =>
      JSON.stringify(row.map((v, i) => (i < 2 ? v : new Decimal(v ?? '0').toFixed())));
    const nonZero = (row: Array<string | null>): boolean =>
      row.slice(2).some((v) => !new Decimal(v ?? '0').isZero());
    const expected = entries<Json>((json.result as Json).partners)
      .flatMap(([partner, byCurrency]) =>
        entries<Json>(byCurrency).map(([currency, b]) => [
          partner,
          currency,
          b.accrued as string,
          b.paid as string,
          b.payoutsFailed as string,
        ]),
      )
      .filter(nonZero)
      .map(same)
      .sort();
    const found = ((await pool.query({ text: sql, rowMode: 'array' })).rows as Array<Array<string | null>>)
      .filter(nonZero)
      .map(same)
      .sort();
    expect(expected.length).toBeGreaterThan(2);
    expect(found).toEqual(expected);
  });
});

describe('project --once, against report --format json at the same position', () => {
  it('commission_balances and commission_totals hold the balances report', async () => {
    const json = await report('balances');
    const status = await runInProcess([
      'project',
      '--to',
      url,
      '--schema',
      schema,
      '--status',
      '--format',
      'json',
    ]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      position: json.position,
      eventsBehind: 0,
      state: 'live',
    });
    const result = json.result as Json;
    const fields = ['accrued', 'reversed', 'rejected', 'paid', 'payoutsFailed', 'adjustments', 'balance'];
    const more = ['pending', 'held', 'payable', 'negative'];
    const expected = entries<Json>(result.partners).flatMap(([partner, byCurrency]) =>
      entries<Json>(byCurrency).map(([currency, b]) => [
        partner,
        currency,
        ...[...fields, ...more].map((f) => (f === 'negative' ? b[f] : String(b[f]))),
      ]),
    );
    expect(expected.length).toBeGreaterThan(5);
    expect(
      await rows(
        `SELECT partner_id, currency, accrued::text, reversed::text, rejected::text, paid::text,
                payouts_failed::text, adjustments::text, balance::text, pending::text, held::text,
                payable::text, negative FROM ${schema}.commission_balances`,
      ),
    ).toEqual(sortedJson(expected));
    const totals = entries<Json>(result.totals).map(([currency, t]) => [
      currency,
      ...['accrued', 'paid', 'balance', 'pending', 'held', 'payable'].map((f) => String(t[f])),
      t.partnersWithNegativeBalance,
    ]);
    expect(
      await rows(
        `SELECT currency, accrued::text, paid::text, balance::text, pending::text, held::text, payable::text,
                partners_with_negative_balance::int FROM ${schema}.commission_totals`,
      ),
    ).toEqual(sortedJson(totals));
  });

  it('partner_revenue, program_revenue and partner_type_revenue hold the revenue report by month and by type', async () => {
    const json = await report('revenue', '--by', 'month');
    const result = json.result as Json;
    const reporting = result.reportingCurrency as string;
    const blocks = (periods: unknown) =>
      entries<Json>(periods).flatMap(([period, block]) => [
        ...entries<Json>(block.byCurrency).map(([currency, f]) => [period, 'native', currency, f] as const),
        ...(block.reporting === null
          ? []
          : [[period, 'reporting', reporting, block.reporting as Json] as const]),
      ]);
    const partnerExpected = entries<Json>(result.partners).flatMap(([partner, series]) =>
      blocks(series.periods).map(([period, basis, currency, f]) => [
        partner,
        period,
        basis,
        currency,
        f.attributed,
        f.sourced,
        f.influenced,
        f.conversions,
      ]),
    );
    expect(partnerExpected.length).toBeGreaterThan(10);
    expect(
      await rows(
        `SELECT partner_id, period, basis, currency, attributed::text, sourced::text, influenced::text, conversions
           FROM ${schema}.partner_revenue`,
      ),
    ).toEqual(sortedJson(partnerExpected));
    const program = result.program as Json;
    const programExpected = blocks(program.periods).map(([period, basis, currency, f]) => [
      period,
      basis,
      currency,
      f.total,
      f.attributed,
      f.sourced,
      f.influenced,
      f.unattributed,
      f.conversions,
    ]);
    expect(
      await rows(
        `SELECT period, basis, currency, total::text, attributed::text, sourced::text, influenced::text,
                unattributed::text, conversions FROM ${schema}.program_revenue`,
      ),
    ).toEqual(sortedJson(programExpected));
    const byType = (await report('revenue', '--by', 'type')).result as Json;
    const typeExpected = entries<Json>(byType.partnerTypes).flatMap(([type, series]) =>
      blocks(series.periods).map(([period, basis, currency, f]) => [
        period,
        basis,
        currency,
        type,
        f.attributed,
        f.sourced,
        f.influenced,
        f.conversions,
      ]),
    );
    expect(
      await rows(
        `SELECT period, basis, currency, partner_type, attributed::text, sourced::text, influenced::text,
                conversions FROM ${schema}.partner_type_revenue`,
      ),
    ).toEqual(sortedJson(typeExpected));
  });

  it('payouts, payout_items and commission_lines hold the statements report', async () => {
    const result = (await report('statements')).result as Json;
    const payouts: unknown[][] = [];
    const items: unknown[][] = [];
    for (const [partner, periods] of entries<Json>(result.statements))
      for (const [period, statement] of entries<Json>(periods))
        for (const payout of statement.payouts as Json[]) {
          payouts.push([
            payout.payoutId,
            partner,
            period,
            payout.amount,
            payout.currency,
            payout.method,
            payout.status,
            new Date(payout.occurredAt as string).toISOString(),
          ]);
          (payout.items as Json[]).forEach((item, i) => {
            const line = item.line as Json | null;
            items.push([
              payout.payoutId,
              i + 1,
              item.kind,
              item.id,
              item.settled,
              ...(line === null
                ? [null, null, null, null, null, null]
                : [line.conversionId, line.planId, line.planVersion, line.rule, line.amount, line.payableAt]),
            ]);
          });
        }
    expect(payouts.length).toBeGreaterThan(3);
    expect(
      await rows(
        `SELECT payout_id, partner_id, period, amount::text, currency, method, status,
                to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM ${schema}.payouts`,
      ),
    ).toEqual(sortedJson(payouts));
    expect(
      await rows(
        `SELECT i.payout_id, i.item_number, i.kind, i.item_id, i.settled::text, l.conversion_id, l.plan_id,
                l.plan_version, l.rule, l.amount::text,
                to_char(l.payable_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
           FROM ${schema}.payout_items i
           LEFT JOIN ${schema}.commission_lines l ON i.kind = 'commission' AND l.line_id = i.item_id`,
      ),
    ).toEqual(sortedJson(items));
  });

  it('ecosystem_health holds the health report by month', async () => {
    const result = (await report('health', '--by', 'month')).result as Json;
    const reporting = result.reportingCurrency as string;
    const expected = entries<Json>((result.revenue as Json).periods).flatMap(([period, block]) => [
      ...entries<Json>(block.byCurrency).map(([currency, f]) => [period, 'native', currency, f] as const),
      ...(block.reporting === null
        ? []
        : [[period, 'reporting', reporting, block.reporting as Json] as const]),
    ]);
    expect(
      await rows(
        `SELECT period, basis, currency, total::text, sourced::text, influenced::text, renewal::text
           FROM ${schema}.ecosystem_health`,
      ),
    ).toEqual(
      sortedJson(
        expected.map(([period, basis, currency, f]) => [
          period,
          basis,
          currency,
          f.total,
          f.sourced,
          f.influenced,
          f.renewal,
        ]),
      ),
    );
  });

  it('refuses bad flags with a usage error', async () => {
    const noTo = await runInProcess(['project', '--from', 'x']);
    expect(noTo.code).toBe(2);
    expect(noTo.stderr).toContain('--to');
    const badUrl = await runInProcess(['project', '--from', 'x', '--to', 'mysql://db']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('postgres://');
    const badSchema = await runInProcess(['project', '--to', url, '--status', '--schema', 'Bad-Name']);
    expect(badSchema.code).toBe(2);
    // ?schema= picks a ledger's schema in --store and --from; in --to it used to be ignored, and the tables
    // went silently to partner_ledger_read. The read models' schema is --schema.
    const urlSchema = await runInProcess(['project', '--from', 'x', '--to', `${url}?schema=bi`, '--once']);
    expect(urlSchema.code).toBe(2);
    expect(urlSchema.stderr).toContain(
      "--to: ?schema= does not choose the read models' schema: give --schema bi",
    );
  });
});
