import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyArbitrary, simulate, storeWith } from '@partner-ledger/projections/testing';
import fc from 'fast-check';
import type { Pool } from 'pg';

// What the "as of T as known at K" tests share: the doc's queries are written for T = March 31 and K = April 5
// (their bounds the days after, each once), and the tests run them at other days.

/** The SQL of the block tagged `sql NAME` in docs/read-models.md; undefined when the docs no longer have it. */
export const docsQuery = (name: string): string | undefined =>
  new RegExp(`^\`\`\`sql ${name}\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(
    readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'read-models.md'), 'utf8'),
  )?.[1];

/**
 * The ledger both as-of tests project: the projections' simulator, seed 8, 1,500 actions (conversions and
 * reversals recorded hours after they happened, in several currencies with rates into the reporting
 * currency, held lines rejected, adjustments, failed payouts).
 */
export const simulatedLedger = () =>
  storeWith(simulate(fc.sample(historyArbitrary(1_500), { seed: 8, numRuns: 1 })[0]!));

/** The instant a day ends at, exclusive: the next day's midnight (UTC). */
export const dayAfter = (day: string): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().replace('.000Z', 'Z');

/** The last millisecond of a day: the bound `--as-of DAY` and `--known-at DAY` give a replay. */
export const endOfDay = (day: string): string => `${day}T23:59:59.999Z`;

/**
 * A doc query for T and K in schema `into`: its two bounds (the days after March 31 and April 5, each found
 * once, else it throws) replaced by the days after T and K.
 */
export const atDays = (sql: string, into: string, t: string, k: string): string => {
  const bounds = sql.match(/'2026-04-0[16]T00:00:00Z'/g);
  if (JSON.stringify(bounds) !== JSON.stringify(["'2026-04-01T00:00:00Z'", "'2026-04-06T00:00:00Z'"]))
    throw new Error(`the query's bounds are not T's and K's once each: ${JSON.stringify(bounds)}`);
  return (
    sql
      .replaceAll('partner_ledger_read.', `${into}.`)
      // In one pass: a T of April 5 must not have its bound replaced by K's.
      .replace(/'2026-04-0([16])T00:00:00Z'/g, (_m, day: string) => `'${dayAfter(day === '1' ? t : k)}'`)
  );
};

/** The days of the rows of `table` (those `where` keeps) at the fractions of their effective times. */
export const daysAt = async (
  pool: Pool,
  table: string,
  where: string,
  fractions: readonly number[],
): Promise<string[]> =>
  (
    await pool.query(
      `SELECT to_char(d AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
         FROM unnest((SELECT percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY effective_at)
                        FROM ${table} ${where})) AS d`,
      [fractions],
    )
  ).rows.map((row) => row.day as string);
