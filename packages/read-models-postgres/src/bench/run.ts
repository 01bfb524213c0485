import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { PartnerType } from '@partner-ledger/events';
import { createInMemoryStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import type * as ProjectionsTesting from '@partner-ledger/projections/testing';
import type { Action } from '@partner-ledger/projections/testing';
import { createPostgresStore } from '@partner-ledger/store-postgres';
import type * as PostgresTesting from '@partner-ledger/store-postgres/testing';
import { Pool } from 'pg';
import { builtInProjections, replay } from '@partner-ledger/projections';
import { readModelFacts } from '../facts';
import { startProjector } from '../projector';
import { generationDdl } from '../sql';
import { TABLES, rowsOf } from '../tables';
import type { ProjectedResults } from '../tables';
import { copyData, copyInto } from './copy';

/**
 * The read models' benchmark (not a test): `npm run bench -w @partner-ledger/read-models-postgres`.
 *
 * On one server (an embedded one started here, or PARTNER_LEDGER_PG_URL), in the same run:
 * 1. Throughput: a simulated ledger of BENCH_EVENTS events in an in-memory store, projected into fresh
 *    tables (one pass, batches of BENCH_BATCH growing as the catch-up goes), against a bare COPY FROM STDIN
 *    (text format) of the same final rows (those of a replay of the ledger) into empty tables of the same
 *    definitions, in one transaction, the COPY text made before the clock starts. The ratio is projector
 *    time / COPY time. BENCH_OTHER_PROJECTOR (the path of another build's module exporting
 *    startProjector) runs that projector on the same ledger too, for an A/B comparison.
 * 2. Lag on top of the whole ledger: the projector resumes the tables of 1 and follows the in-memory store
 *    while the simulation appends BENCH_LAG_RATE more events a second for BENCH_LAG_SECONDS; each commit's
 *    lag is the wall time since its last event was appended.
 * 3. Lag while `partner-ledger simulate` (the built CLI, a child process) writes BENCH_LAG_EVENTS events
 *    into an empty PostgreSQL store while a projector follows it (poll 200 ms); the head is sampled every
 *    50 ms and each projected position is matched with the wall time its event was first seen at the head.
 *
 * Environment: BENCH_EVENTS (default 200000), BENCH_BATCH (default 5000), BENCH_LAG_RATE (default 100),
 * BENCH_LAG_SECONDS (default 60; 0 skips 2), BENCH_LAG_EVENTS (default 20000; 0 skips 3),
 * BENCH_OTHER_PROJECTOR.
 */
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 5_000);
const LAG_EVENTS = Number(process.env.BENCH_LAG_EVENTS ?? 20_000);
const LAG_RATE = Number(process.env.BENCH_LAG_RATE ?? 100);
const LAG_SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? 60);
const OTHER = process.env.BENCH_OTHER_PROJECTOR;
const REPO = join(__dirname, '..', '..', '..', '..');
// The test helpers are not exported by the packages: loaded from their builds in this repository.
/* eslint-disable @typescript-eslint/no-require-imports */
const { createSimulator } = require(
  join(REPO, 'packages', 'projections', 'dist', 'testing', 'index.js'),
) as typeof ProjectionsTesting;
const { startTestServer } = require(
  join(REPO, 'packages', 'store-postgres', 'dist', 'testing', 'index.js'),
) as typeof PostgresTesting;
/* eslint-enable @typescript-eslint/no-require-imports */

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const rate = (n: number) => Math.round(n).toLocaleString('en-US');

/** mulberry32: a seeded PRNG, so that every run generates the same ledger. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const TYPES: readonly PartnerType[] = [
  'affiliate',
  'affiliate',
  'affiliate',
  'referral',
  'reseller',
  'agency',
];

/** The seeded ledger of `events` events, and a way to append more of the same simulation. */
const simulatedStore = async (
  events: number,
): Promise<{ store: EventStore; grow: (more: number) => Promise<void> }> => {
  let limit = events;
  const random = prng(20261205);
  const int = (n: number) => Math.floor(random() * n);
  const simulator = createSimulator({ holdDays: 14, compact: true, stepMs: 20_000 });
  const store = createInMemoryStore();
  let count = 0;
  const run = async (action: Action) => {
    for (const { stream, event } of simulator.run(action)) {
      if (count >= limit) return;
      await store.append(stream, [event]);
      count += 1;
    }
  };
  for (let p = 0; p < 300; p += 1)
    await run({ kind: 'join', partnerType: TYPES[p % TYPES.length]!, withParent: p % 10 === 9 });
  const step = async () => {
    const roll = random();
    const partner = int(300);
    if (roll < 0.55) await run({ kind: 'click', partner, fraud: roll < 0.01, lagHours: 0 });
    else if (roll < 0.82)
      await run({
        kind: 'convert',
        cents: 2_000 + int(200_000),
        euro: roll < 0.6,
        partners: roll < 0.7 ? [partner, int(300)] : [partner],
        influencer: roll < 0.65 ? int(300) : null,
        renewal: roll > 0.8,
        held: roll > 0.81,
        lagHours: int(48),
      });
    else if (roll < 0.86)
      await run({ kind: 'reverse', conversion: int(1_000_000), full: roll < 0.84, lagHours: 2 });
    else if (roll < 0.9) await run({ kind: 'payout', partner });
    else if (roll < 0.92) await run({ kind: roll < 0.91 ? 'hold' : 'release', line: int(1_000) });
    else if (roll < 0.93) await run({ kind: 'adjust', partner, cents: int(20_000) - 10_000 });
    else await run({ kind: 'advance', hours: 1 + int(6) });
  };
  while (count < limit) await step();
  return {
    store,
    grow: async (more) => {
      limit += more;
      while (count < limit) await step();
    },
  };
};

const throughput = async (url: string, pool: Pool) => {
  const generated = process.hrtime.bigint();
  const { store, grow } = await simulatedStore(EVENTS);
  const head = await store.headPosition();
  console.log(`ledger: ${rate(head + 1)} events generated in ${seconds(generated).toFixed(1)} s`);

  // Bare: the final rows of every table (those of a replay of the same ledger), COPY'd into empty tables of
  // the same definitions, in one transaction. The rows and their COPY text are made before the clock starts.
  const outcome = await replay(store, {
    ...builtInProjections({ granularity: 'month' }),
    facts: readModelFacts(),
  });
  // By primary key, the last row of a key winning, as the projector keys them.
  const finalRows = new Map(
    [...rowsOf(outcome.results as unknown as ProjectedResults)].map(([name, rows]) => {
      const table = TABLES.find((t) => t.name === name)!;
      const keyIndexes = table.key.map((key) => table.columns.findIndex((column) => column.name === key));
      const byKey = new Map(rows.map((row) => [JSON.stringify(keyIndexes.map((i) => row[i])), row]));
      return [name, [...byKey.values()]];
    }),
  );
  const data = new Map(TABLES.map((table) => [table.name, copyData(finalRows.get(table.name)!)]));
  const rowCount = TABLES.reduce((n, table) => n + finalRows.get(table.name)!.length, 0);
  const bytes = [...data.values()].flat().reduce((n, buffer) => n + buffer.length, 0);
  await pool.query('DROP SCHEMA IF EXISTS bench_copy CASCADE');
  for (const statement of generationDdl('bench_copy')) await pool.query(statement);
  const copyStart = process.hrtime.bigint();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const table of TABLES) await copyInto(client, 'bench_copy', table, data.get(table.name)!);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  const bare = seconds(copyStart);

  const schema = 'bench_read';
  let commits = 0;
  /** One pass of this projector into fresh tables: its time. */
  const projectOnce = async (): Promise<number> => {
    for (const name of [schema, `${schema}_g1`]) await pool.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    commits = 0;
    const projectStart = process.hrtime.bigint();
    await startProjector({
      source: store,
      connectionString: url,
      schema,
      batchSize: BATCH,
      exitWhenCaughtUp: true,
      onProgress: () => {
        commits += 1;
      },
    }).done;
    return seconds(projectStart);
  };
  const projected = await projectOnce();
  // Optionally, another build of the projector (an earlier commit's, transpiled) on the same ledger, after
  // this one: BENCH_OTHER_PROJECTOR is the path of its module exporting startProjector.
  let other = '';
  if (OTHER !== undefined && OTHER !== '') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const otherStart = (require(OTHER) as { startProjector: typeof startProjector }).startProjector;
    for (const name of ['bench_other', 'bench_other_g1'])
      await pool.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    const otherStartTime = process.hrtime.bigint();
    await otherStart({
      source: store,
      connectionString: url,
      schema: 'bench_other',
      batchSize: BATCH,
      exitWhenCaughtUp: true,
    }).done;
    const otherTime = seconds(otherStartTime);
    // This projector once more after the other (A, B, A): a load that rises or falls during the run weighs
    // on both sides alike.
    const again = await projectOnce();
    other =
      `\nother projector: ${otherTime.toFixed(1)} s (${rate((head + 1) / otherTime)} events/s): ` +
      `${(otherTime / bare).toFixed(1)}x the bare COPY; this projector again: ${again.toFixed(1)} s; ` +
      `this projector takes ${(projected / otherTime).toFixed(2)}x and ${(again / otherTime).toFixed(2)}x its time ` +
      `(mean ${((projected + again) / 2 / otherTime).toFixed(2)}x)`;
  }
  const counts = async (target: string) => {
    const n = await pool.query(
      `SELECT ${TABLES.map((table) => `(SELECT count(*) FROM ${target}.${table.name})`).join(' + ')} AS n`,
    );
    return Number(n.rows[0].n);
  };
  const state = (
    await pool.query(
      `SELECT (SELECT count(*) FROM ${schema}_g1.projector_state) AS parts,
              (SELECT sum(length(body)) FROM ${schema}_g1.projector_state) AS bytes,
              (SELECT length(checkpoint) FROM ${schema}_g1.projector_checkpoint) AS root`,
    )
  ).rows[0] as Record<string, string>;
  const [copied, projectedRows] = [await counts('bench_copy'), await counts(schema)];
  if (copied !== rowCount || projectedRows !== rowCount)
    throw new Error(`Row counts differ: ${rowCount} rows, ${copied} copied, ${projectedRows} projected`);
  console.log(
    `rows:            ${rate(rowCount)} in ${TABLES.length} tables (${rate(finalRows.get('commission_lines')!.length)} commission lines), ` +
      `${(bytes / 1e6).toFixed(1)} MB of COPY text\n` +
      `bare COPY:       ${bare.toFixed(2)} s (${rate(rowCount / bare)} rows/s)\n` +
      `projector:       ${projected.toFixed(1)} s (${rate((head + 1) / projected)} events/s, ${rate(rowCount / projected)} final rows/s), ` +
      `batch ${BATCH}, ${commits} commits; state: root ${rate(Number(state.root))} B + ${rate(Number(state.parts))} parts, ` +
      `${(Number(state.bytes) / 1e6).toFixed(1)} MB\n` +
      `ratio:           projector takes ${(projected / bare).toFixed(1)}x the bare COPY of its final rows` +
      other,
  );

  if (LAG_SECONDS <= 0) return;
  // Lag on top of the whole ledger: the projector resumes the tables just built and follows the store while
  // the simulation goes on, LAG_RATE events a second in steps of a tenth of a second, for LAG_SECONDS.
  let behindMax = 0;
  let appendedHead = head;
  const lags: number[] = [];
  const appendedAt = new Map<number, number>();
  const follower = startProjector({
    source: store,
    connectionString: url,
    schema,
    batchSize: BATCH,
    pollIntervalMs: 200,
    onProgress: (status) => {
      // Behind the store's head when the commit ends (the lag row's count is as of the batch's read).
      behindMax = Math.max(behindMax, appendedHead - status.position);
      const at = appendedAt.get(status.position);
      if (at !== undefined) lags.push(Date.now() - at);
    },
  });
  const followStart = Date.now();
  let appended = 0;
  while (Date.now() - followStart < LAG_SECONDS * 1000) {
    const due = Math.floor(((Date.now() - followStart) / 1000) * LAG_RATE);
    if (due > appended) {
      await grow(due - appended);
      appended = due;
      // Every position up to the head: a commit ending at any of them is matched with its append time.
      const now = Date.now();
      appendedHead = await store.headPosition();
      for (let p = appendedHead; p >= 0 && !appendedAt.has(p); p -= 1) appendedAt.set(p, now);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The catch-up after the last append: from then until the lag row reaches the head (polled every 20 ms).
  const finalHead = await store.headPosition();
  const lastAppend = Date.now();
  while ((await pool.query(`SELECT position FROM ${schema}.projector_status`)).rows[0]?.position < finalHead)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const catchUp = Date.now() - lastAppend;
  await follower.stop();
  const sorted = [...lags].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  console.log(
    `lag on top of the ${rate(head + 1)}-event ledger: ${rate(appended)} more events appended at ${LAG_RATE}/s ` +
      `for ${LAG_SECONDS} s; lag per commit (wall time since its last event was appended): median ${pick(0.5)} ms, ` +
      `p95 ${pick(0.95)} ms, max ${pick(1)} ms over ${lags.length} commits; at most ${rate(behindMax)} events behind; ` +
      `caught up ${catchUp} ms after the last append`,
  );
};

const lag = async (url: string, pool: Pool) => {
  const sourceSchema = 'bench_lag_source';
  const schema = 'bench_lag_read';
  for (const name of [sourceSchema, schema, `${schema}_g1`])
    await pool.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  const source = await createPostgresStore({ connectionString: url, schema: sourceSchema });
  const firstSeen = new Map<number, number>();
  let lastHead = -1;
  const lags: number[] = [];
  let behindMax = 0;
  const projector = startProjector({
    source,
    connectionString: url,
    schema,
    pollIntervalMs: 200,
    onProgress: (status) => {
      behindMax = Math.max(behindMax, status.eventsBehind);
      // The wall time since the last event projected was first seen at the head.
      let seen: number | undefined;
      for (let p = status.position; p >= 0 && seen === undefined; p -= 1) seen = firstSeen.get(p);
      if (seen !== undefined && status.position > -1) lags.push(Date.now() - seen);
    },
  });
  const writer = spawn(
    process.execPath,
    [
      join(REPO, 'packages', 'cli', 'dist', 'bin.js'),
      'simulate',
      '--seed',
      'lag',
      '--events',
      String(LAG_EVENTS),
      '--partners',
      '50',
      '--store',
      `${url}?schema=${sourceSchema}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const written = new Promise<void>((resolve) => writer.on('exit', () => resolve()));
  let writing = true;
  let exitedAt = 0;
  void written.then(() => {
    writing = false;
    exitedAt = Date.now();
  });
  const started = Date.now();
  while (writing) {
    const head = await source.headPosition();
    if (head > lastHead) {
      firstSeen.set(head, Date.now());
      lastHead = head;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const wrote = (Date.now() - started) / 1000;
  // Let it catch up with the last events (timed from the writer's exit), then stop.
  const head = await source.headPosition();
  while ((await pool.query(`SELECT position FROM ${schema}.projector_status`)).rows[0]?.position < head)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const catchUp = Date.now() - exitedAt;
  await projector.stop();
  await source.close();
  const sorted = [...lags].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  console.log(
    `lag: simulate wrote ${rate(head + 1)} events in ${wrote.toFixed(1)} s (${rate((head + 1) / wrote)} events/s) ` +
      `while the projector followed; lag per commit (wall time since its last event reached the head): ` +
      `median ${pick(0.5)} ms, p95 ${pick(0.95)} ms, max ${pick(1)} ms over ${lags.length} commits; ` +
      `at most ${behindMax} events behind; caught up ${Math.round(catchUp)} ms after simulate exited`,
  );
};

const main = async () => {
  const given = process.env.PARTNER_LEDGER_PG_URL;
  const server = given === undefined || given === '' ? await startTestServer() : undefined;
  const url = given !== undefined && given !== '' ? given : server!.url;
  const pool = new Pool({ connectionString: url, max: 2 });
  try {
    console.log(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    await throughput(url, pool);
    if (LAG_EVENTS > 0) await lag(url, pool);
    console.log(
      `load average at end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await pool.end();
    await server?.stop();
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
