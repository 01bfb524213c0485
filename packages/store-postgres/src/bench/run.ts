import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { NewEvent } from '@partner-ledger/events';
import type { EventStore } from '@partner-ledger/store';
import { canonicalJson } from '@partner-ledger/events';
import { chainEvents } from '@partner-ledger/store';
import { Pool } from 'pg';
import type { PoolClient } from 'pg';
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
 *    same rows and parsing the same JSON: one read of each left out of the medians (printed), then
 *    BENCH_RUNS rounds in rotating order, each read's wall time, client CPU and server CPU per event, the
 *    ratio taken within each round.
 *
 * Environment: BENCH_APPEND_SECONDS (default 3), BENCH_READ_EVENTS (default 200000), BENCH_RUNS (default 3),
 * BENCH_WRITERS (default 1,8,64; empty: no append benchmark). BENCH_AB, an ALTER FUNCTION action (`RESET ALL`, `SET enable_seqscan = off`):
 * adds a fourth loop, `storeB`, a store whose append function was altered so, in the same slices: an A/B of a
 * setting of the function in one run. BENCH_OTHER_STORE, the path of another build's dist/store.js: the
 * fourth append loop, `storeB`, appends through that build's store (its own schema, migrated by that build),
 * and a third readAll loop reads through it on the same rows, in the same rounds (an A/B of two builds).
 *
 * The `store` loop is the store with its default options: the append path's statements prepared once per
 * connection under names (they stay named here: a direct connection never loses them). A fourth append
 * loop always runs, `storeUnnamed`: this build's store with `preparedStatements: false` (every statement
 * unnamed, what the store falls back to behind a pooler that loses statements), on a schema of its own, in
 * the same slices: the fallback against the default and against the bare loops in one run.
 *
 * Besides rates and CPU, each append loop's WAL bytes per event (pg_current_wal_insert_lsn before and after
 * each of its slices; one loop runs at a time): what the server writes for an event, which the machine's
 * other load does not change at all.
 */
const APPEND_SECONDS = Number(process.env.BENCH_APPEND_SECONDS ?? 3);
const READ_EVENTS = Number(process.env.BENCH_READ_EVENTS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PAGE = 500;
// An empty BENCH_WRITERS skips the append benchmark (readAll only).
const WRITERS = (process.env.BENCH_WRITERS ?? '1,8,64')
  .split(',')
  .filter((w) => w.trim() !== '')
  .map(Number);
const AB = process.env.BENCH_AB ?? '';
const OTHER_STORE = process.env.BENCH_OTHER_STORE ?? '';

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

/**
 * The CPU time (ms) used so far by the server's processes (the postmaster and its children, the backends
 * among them), read from /proc: only when the server runs on this machine under Linux, else NaN. What the
 * server spends per event, which a machine shared with other work does not distort the way it distorts rates.
 * Assumes 100 clock ticks per second (Linux's USER_HZ).
 */
const serverCpuReader = async (admin: Pool): Promise<() => number> => {
  try {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'`,
    );
    const fields = (pid: string | number): string[] =>
      (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    const postmaster = Number(fields(rows[0]?.pid ?? -1)[1]);
    if (!Number.isSafeInteger(postmaster) || postmaster <= 1) return () => Number.NaN;
    return () => {
      let ticks = 0;
      for (const pid of readdirSync('/proc')) {
        if (!/^[0-9]+$/.test(pid)) continue;
        try {
          const f = fields(pid);
          // The postmaster's own time, plus that of the children it has reaped (cutime, cstime): a backend
          // that exits during a measurement (a pool closing an idle connection) keeps counting.
          if (Number(pid) === postmaster)
            ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
          else if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
        } catch {
          // The process ended meanwhile.
        }
      }
      return ticks * 10;
    };
  } catch {
    return () => Number.NaN;
  }
};

/** The three loops of the append benchmark: the store, and the bare INSERT in its two transaction forms. */
type Loop = 'store' | 'bare3' | 'bare1' | 'storeUnnamed' | 'storeB';
const LOOPS: readonly Loop[] =
  AB === '' && OTHER_STORE === ''
    ? ['store', 'bare3', 'bare1', 'storeUnnamed']
    : ['store', 'bare3', 'bare1', 'storeUnnamed', 'storeB'];

/** The other build's createPostgresStore (BENCH_OTHER_STORE), or this build's. */
const otherBuild = async (): Promise<typeof createPostgresStore> =>
  OTHER_STORE === ''
    ? createPostgresStore
    : ((await import(OTHER_STORE)) as { createPostgresStore: typeof createPostgresStore })
        .createPostgresStore;

/** The server's WAL insert position, in bytes: its difference over a slice is the WAL that slice wrote. */
const walReader = (admin: Pool) => async (): Promise<number> => {
  const { rows } = await admin.query<{ lsn: string }>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::text AS lsn`,
  );
  return Number(rows[0]?.lsn);
};

const appendBenchmark = async (
  url: string,
  writers: number,
  run: number,
  serverCpu: () => number,
  wal: () => Promise<number>,
) => {
  const schema = `bench_append_${writers}_${run}`;
  const storePool = new Pool({ connectionString: url, max: writers + 1 });
  storePool.on('error', () => undefined);
  const store = await createPostgresStore({ pool: storePool, schema });
  const storeBPool = new Pool({ connectionString: url, max: writers + 1 });
  storeBPool.on('error', () => undefined);
  const storeB = await (await otherBuild())({ pool: storeBPool, schema: `${schema}_b` });
  if (AB !== '') await storeBPool.query(`ALTER FUNCTION ${schema}_b.append_v6 ${AB}`);
  const unnamedPool = new Pool({ connectionString: url, max: writers + 1 });
  unnamedPool.on('error', () => undefined);
  const storeUnnamed = await createPostgresStore({
    pool: unnamedPool,
    schema: `${schema}_n`,
    preparedStatements: false,
  });
  const bare = new Pool({ connectionString: url, max: writers });
  bare.on('error', () => undefined);
  // Statistics and visibility up to date on both tables before timing (the bare table keeps the rows of
  // earlier runs), so that neither loop's plans are made on stale statistics.
  await bare.query(
    `VACUUM ANALYZE ${schema}.events, ${schema}.streams, ${schema}_b.events, ${schema}_b.streams, ${schema}_n.events, ${schema}_n.streams, bench_bare.events`,
  );
  let n = 0;
  const events = { store: 0, bare3: 0, bare1: 0, storeUnnamed: 0, storeB: 0 };
  const secs = { store: 0, bare3: 0, bare1: 0, storeUnnamed: 0, storeB: 0 };
  // The benchmark process's own CPU time (every loop runs in it): what the client side costs per event.
  const cpuMs = { store: 0, bare3: 0, bare1: 0, storeUnnamed: 0, storeB: 0 };
  const serverMs = { store: 0, bare3: 0, bare1: 0, storeUnnamed: 0, storeB: 0 };
  const walBytes = { store: 0, bare3: 0, bare1: 0, storeUnnamed: 0, storeB: 0 };
  const cpu = () => {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  };
  const heads = new Map<string, { revision: number; hash: string }>();
  /** One bare append: the event chained on its stream's head like the store does, then one INSERT. */
  const bareAppend = async (client: PoolClient, loop: 'bare3' | 'bare1', w: number): Promise<void> => {
    const stream = `${loop}-${writers}-${run}-${w}`;
    const [e] = chainEvents(stream, heads.get(stream), [benchEvent(n++, `${loop}${writers}-${run}`)]);
    if (e === undefined) throw new Error('no event');
    const params = [
      e.id,
      stream,
      e.revision,
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
    ];
    if (loop === 'bare3') {
      await client.query('BEGIN');
      await client.query(BARE_INSERT('bench_bare.events'), params);
      await client.query('COMMIT');
    } else {
      // Outside BEGIN/COMMIT the INSERT is a transaction of its own: the same size, one round trip.
      await client.query(BARE_INSERT('bench_bare.events'), params);
    }
    heads.set(stream, { revision: e.revision, hash: e.hash });
  };
  for (let slice = 0; slice < APPEND_SECONDS * 2; slice++) {
    // Each loop in turn for half a second; the order rotates so that none always follows another.
    for (let k = 0; k < LOOPS.length; k++) {
      const loop = LOOPS[(slice + k) % LOOPS.length] as Loop;
      const walStart = await wal();
      const serverStart = serverCpu();
      const deadline = Date.now() + 500;
      const started = process.hrtime.bigint();
      const cpuStart = cpu();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          if (loop === 'store' || loop === 'storeB' || loop === 'storeUnnamed') {
            const into = loop === 'store' ? store : loop === 'storeB' ? storeB : storeUnnamed;
            while (Date.now() < deadline) {
              await into.append(`partner-${w}`, [benchEvent(n++, `s${writers}-${run}`)]);
              events[loop] += 1;
            }
            return;
          }
          const client = await bare.connect();
          try {
            while (Date.now() < deadline) {
              await bareAppend(client, loop, w);
              events[loop] += 1;
            }
          } finally {
            client.release();
          }
        }),
      );
      secs[loop] += seconds(started);
      cpuMs[loop] += cpu() - cpuStart;
      serverMs[loop] += serverCpu() - serverStart;
      walBytes[loop] += (await wal()) - walStart;
    }
  }
  await store.close();
  await storePool.end();
  await storeB.close();
  await storeBPool.end();
  await storeUnnamed.close();
  await unnamedPool.end();
  await bare.end();
  const rateOf = (loop: Loop) => events[loop] / secs[loop];
  const cpuOf = (loop: Loop) => cpuMs[loop] / events[loop];
  const serverOf = (loop: Loop) => serverMs[loop] / events[loop];
  const walOf = (loop: Loop) => walBytes[loop] / events[loop];
  return {
    storeRate: rateOf('store'),
    bare3Rate: rateOf('bare3'),
    bare1Rate: rateOf('bare1'),
    storeCpu: cpuOf('store'),
    bare3Cpu: cpuOf('bare3'),
    bare1Cpu: cpuOf('bare1'),
    storeServer: serverOf('store'),
    bare3Server: serverOf('bare3'),
    bare1Server: serverOf('bare1'),
    storeBRate: rateOf('storeB'),
    storeBCpu: cpuOf('storeB'),
    storeBServer: serverOf('storeB'),
    storeWal: walOf('store'),
    bare3Wal: walOf('bare3'),
    bare1Wal: walOf('bare1'),
    storeBWal: walOf('storeB'),
    unnamedRate: rateOf('storeUnnamed'),
    unnamedCpu: cpuOf('storeUnnamed'),
    unnamedServer: serverOf('storeUnnamed'),
    unnamedWal: walOf('storeUnnamed'),
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

    const serverCpu = await serverCpuReader(admin);
    const wal = walReader(admin);
    console.log('## Durable appends (one event per append, every append awaited; synchronous commit)');
    console.log(
      'bare3: BEGIN; INSERT; COMMIT (3 round trips); bare1: the INSERT alone, its own transaction (1 round trip)',
    );
    console.log(
      'writers | store ev/s | bare3 ev/s | bare1 ev/s | store/bare3 (median run) | each run | store/bare1 (median run) | each run | client CPU ms/event store, bare3, bare1 | server CPU ms/event store, bare3, bare1 | WAL bytes/event store, bare3, bare1',
    );
    for (const writers of WRITERS) {
      const runs: Awaited<ReturnType<typeof appendBenchmark>>[] = [];
      for (let run = 0; run < RUNS; run++)
        runs.push(await appendBenchmark(url, writers, run, serverCpu, wal));
      const percent = (x: number) => `${(x * 100).toFixed(0)}%`;
      const r3 = runs.map((r) => r.storeRate / r.bare3Rate);
      const r1 = runs.map((r) => r.storeRate / r.bare1Rate);
      const m = runs[r3.indexOf(median(r3))] as (typeof runs)[number];
      console.log(
        `${writers} | ${rate(m.storeRate)} | ${rate(m.bare3Rate)} | ${rate(m.bare1Rate)} | ${percent(median(r3))} | ${r3.map(percent).join(', ')} | ${percent(median(r1))} | ${r1.map(percent).join(', ')} | ${m.storeCpu.toFixed(2)}, ${m.bare3Cpu.toFixed(2)}, ${m.bare1Cpu.toFixed(2)} | ${m.storeServer.toFixed(2)}, ${m.bare3Server.toFixed(2)}, ${m.bare1Server.toFixed(2)} | ${rate(m.storeWal)}, ${rate(m.bare3Wal)}, ${rate(m.bare1Wal)}`,
      );
      // Every run's CPU and WAL per event, not only the median run's: these scatter far less than rates.
      const each = (value: (r: Awaited<ReturnType<typeof appendBenchmark>>) => number, digits: number) =>
        runs.map((r) => value(r).toFixed(digits)).join(', ');
      console.log(
        `  each run: server CPU ms/event store ${each((r) => r.storeServer, 2)}; bare3 ${each((r) => r.bare3Server, 2)}; client CPU store ${each((r) => r.storeCpu, 2)}; bare3 ${each((r) => r.bare3Cpu, 2)}; WAL bytes/event store ${each((r) => r.storeWal, 0)}; bare3 ${each((r) => r.bare3Wal, 0)}`,
      );
      // The store with preparedStatements: false, against bare3 and bare1 as the store is, and against the store.
      const n3 = runs.map((r) => r.unnamedRate / r.bare3Rate);
      const n1 = runs.map((r) => r.unnamedRate / r.bare1Rate);
      const ns = runs.map((r) => r.unnamedRate / r.storeRate);
      const mn = runs[n3.indexOf(median(n3))] as (typeof runs)[number];
      console.log(
        `  storeUnnamed (preparedStatements: false): ${rate(mn.unnamedRate)} ev/s; storeUnnamed/bare3 ${percent(median(n3))} (each run ${n3.map(percent).join(', ')}); storeUnnamed/bare1 ${percent(median(n1))} (each run ${n1.map(percent).join(', ')}); storeUnnamed/store ${percent(median(ns))} (each run ${ns.map(percent).join(', ')}); server CPU ms/event ${each((r) => r.unnamedServer, 2)}; client CPU ${each((r) => r.unnamedCpu, 2)}; WAL bytes/event ${each((r) => r.unnamedWal, 0)}`,
      );
      if (AB !== '' || OTHER_STORE !== '') {
        const rB = runs.map((r) => r.storeBRate / r.storeRate);
        const what = OTHER_STORE !== '' ? `the build of ${OTHER_STORE}` : `append function altered: ${AB}`;
        console.log(
          `  storeB (${what}): ${rate(m.storeBRate)} ev/s; storeB/store ${percent(median(rB))} (each run ${rB.map(percent).join(', ')}); server CPU ms/event ${each((r) => r.storeBServer, 2)}; client CPU ${each((r) => r.storeBCpu, 2)}; WAL bytes/event ${each((r) => r.storeBWal, 0)}`,
        );
      }
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
    // Both loops read rows already vacuumed (hint bits set, visibility map up to date): the first reader of
    // freshly written rows would otherwise pay for setting them, and the second would not.
    await admin.query(`VACUUM ANALYZE ${schema}.events`);
    // Each read is timed for its wall time, the benchmark process's CPU time and the server's, so that a
    // difference can be placed on one side or the other (a shared machine distorts rates, far less CPU).
    interface Read {
      readonly rate: number;
      readonly clientMs: number;
      readonly serverMs: number;
    }
    const processCpu = () => {
      const used = process.cpuUsage();
      return (used.user + used.system) / 1000;
    };
    const timed = async (read: () => Promise<number>): Promise<Read> => {
      const started = process.hrtime.bigint();
      const client0 = processCpu();
      const server0 = serverCpu();
      const count = await read();
      const wall = seconds(started);
      if (count !== READ_EVENTS) throw new Error(`read ${count} events, expected ${READ_EVENTS}`);
      return {
        rate: count / wall,
        clientMs: (processCpu() - client0) / count,
        serverMs: (serverCpu() - server0) / count,
      };
    };
    const bareRead = async (): Promise<number> => {
      const client = await admin.connect();
      let count = 0;
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
      return count;
    };
    // BENCH_OTHER_STORE: another build of this package (the path of its store.js), reading the same rows
    // in the same rounds as a third loop: an A/B of a change to readAll in one run.
    // A build that does not know this build's latest migration refuses its schema: no third loop then.
    const other =
      OTHER_STORE === ''
        ? undefined
        : await (
            await otherBuild()
          )({ connectionString: url, schema }).catch((error: unknown) => {
            console.log(`other build not read: ${error instanceof Error ? error.message : String(error)}`);
            return undefined;
          });
    const readWith = (from: EventStore) => async (): Promise<number> => {
      let count = 0;
      for await (const event of from.readAll({ pageSize: PAGE })) if (event.position >= 0) count += 1;
      return count;
    };
    const storeRead = readWith(store);
    type ReadLoop = 'bare' | 'store' | 'other';
    const reads: Record<ReadLoop, () => Promise<number>> = {
      bare: bareRead,
      store: storeRead,
      other: other === undefined ? storeRead : readWith(other),
    };
    const loops: ReadLoop[] = other === undefined ? ['store', 'bare'] : ['store', 'bare', 'other'];
    // One read of each first, printed but left out of the medians (the rows into the server's and the
    // system's caches, every loop's code warmed), then rounds in which the order rotates, so that none always reads a cache another
    // warmed; ratios are taken within each round (reads back to back, under the same load) and the median
    // of those is reported.
    const warmUp: Partial<Record<ReadLoop, Read>> = {};
    for (const loop of loops) warmUp[loop] = await timed(reads[loop]);
    const rounds: Partial<Record<ReadLoop, Read>>[] = [];
    for (let run = 0; run < RUNS; run++) {
      const round: Partial<Record<ReadLoop, Read>> = {};
      for (let k = 0; k < loops.length; k++) {
        const loop = loops[(run + k) % loops.length] as ReadLoop;
        round[loop] = await timed(reads[loop]);
      }
      rounds.push(round);
    }
    await store.close();
    await other?.close();
    const ms = (x: number) => (x * 1000).toFixed(1);
    const percent = (x: number) => `${(x * 100).toFixed(0)}%`;
    const of = (round: Partial<Record<ReadLoop, Read>>, loop: ReadLoop) => round[loop] as Read;
    console.log(
      `round (first loop) | ev/s ${loops.join(', ')} | store/bare${other ? ' | other/bare | store/other' : ''} | client CPU us/event ${loops.join(', ')} | server CPU us/event ${loops.join(', ')}`,
    );
    console.log(
      `warm-up, not in the medians (${loops.join(', ')}, in this order) | ${loops.map((l) => rate(of(warmUp, l).rate)).join(', ')} | ${percent(of(warmUp, 'store').rate / of(warmUp, 'bare').rate)} | ${loops.map((l) => ms(of(warmUp, l).clientMs)).join(', ')} | ${loops.map((l) => ms(of(warmUp, l).serverMs)).join(', ')}`,
    );
    rounds.forEach((round, run) => {
      const ratios = [
        of(round, 'store').rate / of(round, 'bare').rate,
        ...(other
          ? [
              of(round, 'other').rate / of(round, 'bare').rate,
              of(round, 'store').rate / of(round, 'other').rate,
            ]
          : []),
      ];
      console.log(
        `${run + 1} (${loops[run % loops.length]}) | ${loops.map((l) => rate(of(round, l).rate)).join(', ')} | ${ratios.map(percent).join(' | ')} | ${loops.map((l) => ms(of(round, l).clientMs)).join(', ')} | ${loops.map((l) => ms(of(round, l).serverMs)).join(', ')}`,
      );
    });
    const medianOf = (value: (round: Partial<Record<ReadLoop, Read>>) => number) => median(rounds.map(value));
    console.log(
      `store/bare (median of the rounds): ${percent(medianOf((r) => of(r, 'store').rate / of(r, 'bare').rate))}${
        other
          ? `; other/bare ${percent(medianOf((r) => of(r, 'other').rate / of(r, 'bare').rate))}; store/other ${percent(medianOf((r) => of(r, 'store').rate / of(r, 'other').rate))}`
          : ''
      }`,
    );
    for (const loop of loops) {
      console.log(
        `${loop}: median ${rate(medianOf((r) => of(r, loop).rate))} ev/s, client CPU ${ms(medianOf((r) => of(r, loop).clientMs))} us/event, server CPU ${ms(medianOf((r) => of(r, loop).serverMs))} us/event`,
      );
    }
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
