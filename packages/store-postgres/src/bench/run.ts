import { loadavg } from 'node:os';
import type { NewEvent } from '@partner-ledger/events';
import { canonicalJson } from '@partner-ledger/events';
import { chainEvents } from '@partner-ledger/store';
import { Pool } from 'pg';
import { createPostgresStore } from '../store';
import { startTestServer } from '../testing/server';

/**
 * The PostgreSQL store's benchmark (not a test): `npm run bench -w @partner-ledger/store-postgres`.
 *
 * On one server (an embedded one started here with its default, durable settings, or
 * PARTNER_LEDGER_PG_URL), in the same run:
 * 1. Durable appends with 1, 8 and 64 concurrent writers (one event per append, each awaited), against a
 *    bare loop through pg of the same INSERT (same row, same indexes) in a transaction of the same size
 *    (BEGIN; INSERT; COMMIT), with as many connections as writers. Store and bare alternate in half-second
 *    slices, so that a machine shared with other work favours neither.
 * 2. readAll of N events against a bare cursor (DECLARE ... FETCH in pages of the same size) reading the
 *    same rows and parsing the same JSON.
 *
 * Environment: BENCH_APPEND_SECONDS (default 3), BENCH_READ_EVENTS (default 200000), BENCH_RUNS (default 3),
 * BENCH_WRITERS (default 1,8,64).
 */
const APPEND_SECONDS = Number(process.env.BENCH_APPEND_SECONDS ?? 3);
const READ_EVENTS = Number(process.env.BENCH_READ_EVENTS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PAGE = 500;
const WRITERS = (process.env.BENCH_WRITERS ?? '1,8,64').split(',').map(Number);

const rate = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

/** A conversion with one credited partner and one commission line, as the ledger writes them. */
const benchEvent = (n: number, prefix: string): NewEvent => {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
  const amount = `${(n % 9000) + 100}.00`;
  return {
    id: `${prefix}-${n}`,
    type: 'ConversionAttributed',
    schemaVersion: 1,
    data: {
      conversionId: `conv-${n}`,
      customerId: `cust-${n % 5000}`,
      amount,
      currency: 'USD',
      model: 'lastTouch',
      credits: [{ partnerId: `partner-${n % 300}`, weight: '1', revenueCredit: amount, role: 'sourced' }],
      lines: [
        {
          lineId: `line-${n}`,
          partnerId: `partner-${n % 300}`,
          rule: 'revenueShare',
          rate: '0.20',
          amount: '20.00',
        },
      ],
    },
    occurredAt: at,
    recordedAt: at,
    actor: 'service:checkout',
    correlationId: `corr-${n}`,
    causationId: null,
  };
};

const BARE_INSERT = (table: string) =>
  `INSERT INTO ${table} (batch, batch_index, position, id, stream, revision, type, schema_version, occurred_at,
     recorded_at, actor, correlation_id, causation_id, data_text, data, prev_hash, hash)
   VALUES (nextval('bench_bare.batches'), 0, nextval('bench_bare.positions'), $1, $2, $3, $4, $5, $6, $7, $8, $9,
     $10, $11::text, $11::jsonb, $12, $13)`;

const appendBenchmark = async (url: string, writers: number, run: number) => {
  const schema = `bench_append_${writers}_${run}`;
  const storePool = new Pool({ connectionString: url, max: writers + 1 });
  storePool.on('error', () => undefined);
  const store = await createPostgresStore({ pool: storePool, schema });
  const bare = new Pool({ connectionString: url, max: writers });
  bare.on('error', () => undefined);
  let n = 0;
  let storeEvents = 0;
  let bareEvents = 0;
  let storeSeconds = 0;
  let bareSeconds = 0;
  const revisions = new Map<string, number>();
  for (let slice = 0; slice < APPEND_SECONDS * 2; slice++) {
    let deadline = Date.now() + 500;
    let started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        while (Date.now() < deadline) {
          await store.append(`partner-${w}`, [benchEvent(n++, `s${writers}-${run}`)]);
          storeEvents += 1;
        }
      }),
    );
    storeSeconds += seconds(started);
    deadline = Date.now() + 500;
    started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const client = await bare.connect();
        try {
          while (Date.now() < deadline) {
            const stream = `bare-${writers}-${run}-${w}`;
            const previous = revisions.get(stream);
            const [e] = chainEvents(stream, undefined, [benchEvent(n++, `b${writers}-${run}`)]);
            if (e === undefined) throw new Error('no event');
            await client.query('BEGIN');
            await client.query(BARE_INSERT('bench_bare.events'), [
              e.id,
              stream,
              (previous ?? -1) + 1,
              e.type,
              e.schemaVersion,
              e.occurredAt,
              e.recordedAt,
              e.actor,
              e.correlationId,
              e.causationId,
              canonicalJson(e.data),
              e.prevHash,
              e.hash,
            ]);
            await client.query('COMMIT');
            revisions.set(stream, (previous ?? -1) + 1);
            bareEvents += 1;
          }
        } finally {
          client.release();
        }
      }),
    );
    bareSeconds += seconds(started);
  }
  await store.close();
  await storePool.end();
  await bare.end();
  return {
    storeRate: storeEvents / storeSeconds,
    bareRate: bareEvents / bareSeconds,
    storeEvents,
    bareEvents,
  };
};

const main = async (): Promise<void> => {
  const given = process.env.PARTNER_LEDGER_PG_URL;
  const server = given === undefined || given === '' ? await startTestServer() : undefined;
  const url = server?.url ?? (given as string);
  process.on('uncaughtException', (error) => {
    console.error(error);
    if (server !== undefined) console.error(`server log:\n${server.recentLog()}`);
    process.exit(1);
  });
  const admin = new Pool({ connectionString: url, max: 2 });
  admin.on('error', () => undefined);
  try {
    const { rows } = await admin.query<{ version: string; fsync: string; sync: string }>(
      `SELECT version() AS version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync`,
    );
    console.log(`# PostgreSQL store benchmark\n${rows[0]?.version}`);
    console.log(
      `fsync=${rows[0]?.fsync} synchronous_commit=${rows[0]?.sync}; ${server ? 'embedded server' : 'PARTNER_LEDGER_PG_URL'}`,
    );
    console.log(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}\n`,
    );
    // The bare table: the store's events table, same columns and indexes, filled without the store.
    await createPostgresStore({ pool: admin, schema: 'bench_bare' }).then((s) => s.close());
    await admin.query(`CREATE SEQUENCE IF NOT EXISTS bench_bare.positions MINVALUE 0 START 0`);

    console.log('## Durable appends (one event per append, every append awaited; synchronous commit)');
    console.log('writers | store ev/s | bare BEGIN/INSERT/COMMIT ev/s | ratio (median run) | each run');
    for (const writers of WRITERS) {
      const runs = [];
      for (let run = 0; run < RUNS; run++) runs.push(await appendBenchmark(url, writers, run));
      const ratios = runs.map((r) => r.storeRate / r.bareRate);
      const r = runs[ratios.indexOf(median(ratios))] as (typeof runs)[number];
      console.log(
        `${writers} | ${rate(r.storeRate)} | ${rate(r.bareRate)} | ${((r.storeRate / r.bareRate) * 100).toFixed(0)}% | ${ratios.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')}`,
      );
    }

    // readAll: a store filled in appends of 1,000 events.
    const schema = 'bench_read';
    const store = await createPostgresStore({ connectionString: url, schema });
    const filled = process.hrtime.bigint();
    for (let i = 0; i < READ_EVENTS; i += 1000) {
      await store.append(
        `partner-${(i / 1000) % 300}`,
        Array.from({ length: Math.min(1000, READ_EVENTS - i) }, (_, k) => benchEvent(i + k, 'r')),
      );
    }
    console.log(
      `\n## readAll (${rate(READ_EVENTS)} events, written in ${seconds(filled).toFixed(0)} s; pages of ${PAGE})`,
    );
    const storeRates: number[] = [];
    const bareRates: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      let started = process.hrtime.bigint();
      let count = 0;
      for await (const event of store.readAll({ pageSize: PAGE })) if (event.position >= 0) count += 1;
      storeRates.push(count / seconds(started));
      const client = await admin.connect();
      started = process.hrtime.bigint();
      count = 0;
      try {
        await client.query('BEGIN');
        await client.query(`DECLARE bench CURSOR FOR SELECT position, id, stream, revision, type, schema_version,
          occurred_at, recorded_at, actor, correlation_id, causation_id, data_text, prev_hash, hash
          FROM ${schema}.events ORDER BY position`);
        for (;;) {
          const { rows } = await client.query<{ data_text: string }>(`FETCH ${PAGE} FROM bench`);
          if (rows.length === 0) break;
          for (const row of rows) if (JSON.parse(row.data_text) !== null) count += 1;
        }
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      bareRates.push(count / seconds(started));
    }
    await store.close();
    const s = median(storeRates);
    const b = median(bareRates);
    console.log('loop | ev/s (median) | each run');
    console.log(`bare cursor + JSON.parse | ${rate(b)} | ${bareRates.map(rate).join(', ')}`);
    console.log(`store readAll | ${rate(s)} | ${storeRates.map(rate).join(', ')}`);
    console.log(`ratio: ${((s / b) * 100).toFixed(0)}%`);
    console.log(
      `\nload average at end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } catch (error) {
    if (server !== undefined) console.error(`server log:\n${server.recentLog()}`);
    throw error;
  } finally {
    await admin.end();
    await server?.stop();
  }
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
