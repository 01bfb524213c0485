import fc from 'fast-check';
import { historyArbitrary, simulate, storeWith } from '@partner-ledger/projections/testing';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '@partner-ledger/store-postgres/testing';
import { Pool } from 'pg';
import { LeaseLostError, projectorApplicationName, readProjectorStatus, startProjector } from './projector';
import type { ProjectorReconnect, ProjectorStatus } from './projector';
import { expectedTables, readTables } from './testing/tables';

const url = testDatabaseUrl();
let pool: Pool;
const schemas: string[] = [];
const newSchema = (): string => {
  const schema = uniqueSchema('rm');
  schemas.push(schema);
  return schema;
};
beforeAll(() => {
  pool = new Pool({ connectionString: url, max: 4 });
});
afterAll(async () => {
  for (const schema of schemas) {
    const generations = await pool.query(
      `SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $1 || '\\_g%'`,
      [schema],
    );
    for (const row of generations.rows as Array<{ nspname: string }>) await dropSchema(url, row.nspname);
  }
  await pool.end();
});

/** A seeded history: the same events on every run. */
const history = (seed: number, maxActions = 150) =>
  simulate(fc.sample(historyArbitrary(maxActions), { seed, numRuns: 1 })[0]!);

describe('startProjector', () => {
  it('fills every table with the figures of a replay of the same events, and writes the lag row', async () => {
    const store = await storeWith(history(42, 300));
    const schema = newSchema();
    const seen: ProjectorStatus[] = [];
    const projector = startProjector({
      source: store,
      pool,
      schema,
      batchSize: 10,
      growBatches: false,
      exitWhenCaughtUp: true,
      onProgress: (status) => seen.push(status),
    });
    await projector.done;
    const tables = await readTables(pool, schema);
    expect(tables).toEqual(await expectedTables(store));
    // A history with something in every table the figures come from.
    for (const table of ['partners', 'partner_revenue', 'commission_balances', 'commission_lines', 'payouts'])
      expect(tables[table]!.length).toBeGreaterThan(0);
    const status = await readProjectorStatus({ pool, schema });
    const head = await store.headPosition();
    expect(status).toMatchObject({ state: 'live', position: head, headPosition: head, eventsBehind: 0 });
    expect(seen.length).toBeGreaterThan(2);
    expect(seen[0]!.state).toBe('catching-up');
    expect(seen[0]!.eventsBehind).toBe(head - seen[0]!.position);
    expect(seen.map((s) => s.position)).toEqual([...seen.map((s) => s.position)].sort((a, b) => a - b));
  });

  it('gives the same tables in one pass as in many small catch-ups, restarted in between (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary(60),
        fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 6 }),
        async (actions, batches) => {
          const events = simulate(actions);
          const store = await storeWith(events);
          const once = newSchema();
          await startProjector({ source: store, pool, schema: once, exitWhenCaughtUp: true }).done;
          // Catch-ups of a growing store: each run sees more events, in small batches, and stops.
          const chunked = newSchema();
          const growing = await storeWith([]);
          let appended = 0;
          for (const size of batches) {
            const upTo = Math.min(events.length, appended + size * 3);
            for (; appended < upTo; appended += 1)
              await growing.append(events[appended]!.stream, [events[appended]!.event]);
            await startProjector({
              source: growing,
              pool,
              schema: chunked,
              batchSize: size,
              growBatches: false,
              exitWhenCaughtUp: true,
            }).done;
          }
          for (; appended < events.length; appended += 1)
            await growing.append(events[appended]!.stream, [events[appended]!.event]);
          await startProjector({
            source: growing,
            pool,
            schema: chunked,
            batchSize: 7,
            exitWhenCaughtUp: true,
          }).done;
          expect(await readTables(pool, chunked)).toEqual(await readTables(pool, once));
        },
      ),
      { numRuns: 6, seed: 20261205 },
    );
  });

  // (That the state's parts are rewritten only around what changed is shown in state-parts.test.ts.)
  it('rewrites, on a later commit, only the fact rows and entries that the new events changed', async () => {
    const events = history(42, 300);
    const store = await storeWith(events.slice(0, -3));
    const schema = newSchema();
    await startProjector({ source: store, pool, schema, exitWhenCaughtUp: true }).done;
    // xmin: the transaction that last wrote a row. Rows the next commit leaves alone keep theirs.
    const versions = async (table: string, key: string) =>
      new Map(
        (await pool.query(`SELECT ${key}::text AS k, xmin::text AS x FROM ${schema}_g1.${table}`)).rows.map(
          (row: { k: string; x: string }) => [row.k, row.x] as const,
        ),
      );
    const tables: Array<[string, string]> = [
      ['commission_lines', 'line_id'],
      ['partners', 'partner_id'],
      ['projector_facts', "kind || ':' || id"],
    ];
    const before = new Map<string, Map<string, string>>();
    for (const [table, key] of tables) before.set(table, await versions(table, key));
    for (const { stream, event } of events.slice(-3)) await store.append(stream, [event]);
    await startProjector({ source: store, pool, schema, exitWhenCaughtUp: true }).done;
    expect(await readTables(pool, schema)).toEqual(await expectedTables(store));
    for (const [table, key] of tables) {
      const old = before.get(table)!;
      const now = await versions(table, key);
      const kept = [...old].filter(([k, x]) => now.get(k) === x).length;
      // Three events touch a few entries at most: nearly every row stays as it was.
      expect(old.size).toBeGreaterThan(0);
      expect(kept).toBeGreaterThanOrEqual(old.size - 6);
    }
  });

  it('lets one projector hold the lease: a second waits, and takes over when the first stops', async () => {
    const store = await storeWith(history(7));
    const schema = newSchema();
    const first = startProjector({ source: store, pool, schema, pollIntervalMs: 50, holder: 'first' });
    let firstLive!: () => void;
    const live = new Promise<void>((resolve) => (firstLive = resolve));
    const waited: Array<string | null> = [];
    let secondProgress = 0;
    const waiting = startProjector({
      source: store,
      pool,
      schema,
      pollIntervalMs: 50,
      holder: 'second',
      exitWhenCaughtUp: true,
      onWaiting: (holder) => {
        waited.push(holder);
        if (waited.length === 3) firstLive();
      },
      onProgress: () => {
        secondProgress += 1;
      },
    });
    await live;
    expect(secondProgress).toBe(0);
    expect(waited.every((h) => h === 'first')).toBe(true);
    await first.stop();
    await waiting.done;
    expect(secondProgress).toBeGreaterThan(0);
    expect(await readTables(pool, schema)).toEqual(await expectedTables(store));
  });

  it('fences a projector whose lease was taken: it stops with LeaseLostError and writes nothing more', async () => {
    const store = await storeWith(history(8));
    const schema = newSchema();
    const statuses: ProjectorStatus[] = [];
    const projector = startProjector({
      source: store,
      pool,
      schema,
      pollIntervalMs: 30,
      holder: 'fenced',
      onProgress: (s) => statuses.push(s),
    });
    while (statuses.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    // Another projector took the lease (as it would after an expiry): the token moved on.
    await pool.query(`UPDATE ${schema}.projector_lease SET holder = 'other', token = token + 1`);
    await expect(projector.done).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('rebuilds a new generation beside the live one, serving the old tables until the swap', async () => {
    const store = await storeWith(history(9, 200));
    const schema = newSchema();
    await startProjector({ source: store, pool, schema, exitWhenCaughtUp: true }).done;
    const before = await readTables(pool, schema);
    const duringRebuild: Array<Promise<Record<string, string[]>>> = [];
    const rebuilding: string[] = [];
    await startProjector({
      source: store,
      pool,
      schema,
      batchSize: 25,
      growBatches: false,
      codeVersion: 'rebuild-test',
      exitWhenCaughtUp: true,
      onProgress: (status) => {
        rebuilding.push(status.state);
        // What a reader sees while the new generation fills: the old tables, whole.
        if (status.state === 'rebuilding') duringRebuild.push(readTables(pool, schema));
      },
    }).done;
    // While it rebuilt, the views pointed at generation 1, full; after, at generation 2.
    expect(rebuilding.slice(0, -1).every((state) => state === 'rebuilding')).toBe(true);
    expect(rebuilding.at(-1)).toBe('live');
    expect(duringRebuild.length).toBeGreaterThan(2);
    for (const seen of await Promise.all(duringRebuild)) expect(seen).toEqual(before);
    expect(await readTables(pool, schema)).toEqual(before);
    const control = await pool.query(
      `SELECT live_generation, live_code_version FROM ${schema}.projector_control`,
    );
    expect(control.rows[0]).toEqual({ live_generation: 2, live_code_version: 'rebuild-test' });
    const old = await pool.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [`${schema}_g1`]);
    expect(old.rowCount).toBe(0);
  });

  it("keeps a reader's own views on the tables across a swap, and swaps anyway when a table changed shape", async () => {
    const store = await storeWith(history(9, 200));
    const schema = newSchema();
    await startProjector({ source: store, pool, schema, exitWhenCaughtUp: true }).done;
    // What a BI team does: views of its own over the projector's views.
    await pool.query(
      `CREATE VIEW ${schema}.payable_by_currency AS
         SELECT currency, sum(payable) AS payable FROM ${schema}.commission_balances GROUP BY currency`,
    );
    const before = await pool.query(`SELECT * FROM ${schema}.payable_by_currency ORDER BY currency`);
    expect(before.rowCount).toBeGreaterThan(0);
    await startProjector({ source: store, pool, schema, codeVersion: 'swap-1', exitWhenCaughtUp: true }).done;
    expect((await pool.query(`SELECT * FROM ${schema}.payable_by_currency ORDER BY currency`)).rows).toEqual(
      before.rows,
    );
    // A view whose table lost a column in the new code cannot be replaced in place: it is dropped with what
    // depends on it and made again. (The old code's view is given an extra column, as a removed one would be.)
    const generation = (await pool.query(`SELECT live_generation FROM ${schema}.projector_control`)).rows[0]
      .live_generation as number;
    await pool.query(
      `CREATE OR REPLACE VIEW ${schema}.partners AS SELECT *, 1 AS removed FROM ${schema}_g${generation}.partners`,
    );
    await pool.query(`CREATE VIEW ${schema}.tiers AS SELECT tier, removed FROM ${schema}.partners`);
    await startProjector({ source: store, pool, schema, codeVersion: 'swap-2', exitWhenCaughtUp: true }).done;
    expect(await readTables(pool, schema)).toEqual(await expectedTables(store));
    const gone = await pool.query(`SELECT to_regclass($1)::text AS tiers, to_regclass($2)::text AS kept`, [
      `${schema}.tiers`,
      `${schema}.payable_by_currency`,
    ]);
    expect(gone.rows[0]).toEqual({ tiers: null, kept: `${schema}.payable_by_currency` });
  });

  it('reconnects after its connections are killed mid-transaction, and ends with the tables of a replay', async () => {
    const store = await storeWith(history(8, 1_500)); // 1,145 events
    const schema = newSchema();
    const reconnects: ProjectorReconnect[] = [];
    let progress = 0;
    const projector = startProjector({
      source: store,
      connectionString: url,
      schema,
      batchSize: 20,
      growBatches: false,
      exitWhenCaughtUp: true,
      reconnectDelayMs: 5,
      onReconnect: (reconnect) => reconnects.push(reconnect),
      onProgress: () => {
        progress += 1;
      },
    });
    let finished = false;
    void projector.done.finally(() => {
      finished = true;
    });
    // What an operator (or a failover) does: end the projector's sessions while they work.
    let killed = 0;
    while (!finished && reconnects.length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (progress === 0) continue;
      const ended = await pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = $1 AND state <> 'idle' AND pid <> pg_backend_pid()`,
        [projectorApplicationName(schema)],
      );
      killed += ended.rowCount ?? 0;
    }
    await projector.done;
    expect(killed).toBeGreaterThan(0);
    expect(reconnects.length).toBeGreaterThan(0);
    expect(reconnects[0]).toMatchObject({ attempt: 1, delayMs: 5 });
    expect(reconnects[0]!.error.message).toMatch(/terminat|connection error/);
    expect(await readTables(pool, schema)).toEqual(await expectedTables(store));
    const status = await readProjectorStatus({ pool, schema });
    expect(status).toMatchObject({ state: 'live', position: await store.headPosition() });
  });

  it('gives up after reconnectAttempts failed reconnects, with the last error', async () => {
    const store = await storeWith(history(12, 20));
    const reconnects: ProjectorReconnect[] = [];
    // A port nobody listens on: every connection is refused.
    const projector = startProjector({
      source: store,
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      schema: newSchema(),
      reconnectAttempts: 2,
      reconnectDelayMs: 1,
      onReconnect: (reconnect) => reconnects.push(reconnect),
    });
    await expect(projector.done).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(reconnects.map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });
});
