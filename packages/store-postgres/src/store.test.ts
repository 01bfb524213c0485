import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import {
  AppendConditionFailedError,
  DuplicateEventIdError,
  StoreError,
  WrongExpectedRevisionError,
  canonicalDataOf,
  chainEvents,
  verifyStore,
} from '@partner-ledger/store';
import type { AppendResult, EventStore, SubscriptionMessage } from '@partner-ledger/store';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client, DatabaseError, Pool } from 'pg';
import { LOCK_NAMESPACE, MIGRATIONS, lockKey } from './schema';
import type { Migration } from './schema';
import { PreparedStatementError, SchemaNotFoundError, createPostgresStore, statementName } from './store';
import type { PostgresEventStore } from './store';
import { dropSchema, testDatabaseUrl, uniqueSchema } from './testing/database';
import { spiedPool } from './testing/spied-pool';

const at = (n: number): string => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
const event = (id: string, n = 0): NewEvent => ({
  id,
  type: 'PostgresChecked',
  schemaVersion: 1,
  data: { n, amount: `${n}.10` },
  occurredAt: at(n),
  recordedAt: at(n),
  actor: 'test:postgres',
  correlationId: 'corr-postgres',
  causationId: null,
});

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};
/** Awaits a promise, failing with `what` if it takes longer than `ms` (and leaving no timer behind). */
const within = async <T>(promise: Promise<T>, what: () => string, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(what())), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
};
const idsOf = (events: readonly RecordedEvent[]): string[] => events.map((e) => e.id);

const url = testDatabaseUrl();
let schema: string;
const opened: EventStore[] = [];
const open = async (options: { pollIntervalMs?: number } = {}): Promise<PostgresEventStore> => {
  const store = await createPostgresStore({ connectionString: url, schema, ...options });
  opened.push(store);
  return store;
};

beforeEach(() => {
  schema = uniqueSchema('store');
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  await dropSchema(url, schema);
});

const expectConditionFailed = async (promise: Promise<unknown>, tag: string, position: number) => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppendConditionFailedError);
  expect(error).toBeInstanceOf(StoreError);
  expect(error).toMatchObject({ code: 'APPEND_CONDITION_FAILED', tag, position });
};

describe('schema and migrations', () => {
  it('several instances opening a new schema together: one migrates, all open, the migration is recorded once', async () => {
    const stores = await Promise.all([open(), open(), open(), open()]);
    expect(stores.map((s) => s.migrationsApplied).flat()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
      expect(rows).toEqual([1, 2, 3, 4, 5, 6, 7].map((version) => ({ version })));
    } finally {
      await client.end();
    }
    await stores[0]?.append('s', [event('e-0')]);
    expect(idsOf(await collect((stores[3] as EventStore).readAll()))).toEqual(['e-0']);
  });

  it('a schema at migration 2 is brought to migrations 3 to 7 (the append functions) when this version opens it', async () => {
    await (await open()).close();
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`DROP FUNCTION ${schema}.append; DROP FUNCTION ${schema}.seal_written;
        DROP FUNCTION ${schema}.seal_wait; DROP FUNCTION ${schema}.append_v6;
        DROP FUNCTION ${schema}.append_group_v7; DELETE FROM ${schema}.schema_migrations WHERE version >= 3`);
    } finally {
      await client.end();
    }
    const store = await open();
    expect(store.migrationsApplied).toEqual([3, 4, 5, 6, 7]);
    await store.append('s', [event('m-0')]);
    expect(idsOf(await collect(store.readAll()))).toEqual(['m-0']);
  });

  it('a schema at migration 3 holding events, one append committed but not numbered, is brought to migrations 4 to 7: positions stay dense, verify ok', async () => {
    const first = await open();
    await first.append('a', [event('u-0'), event('u-1')]);
    await first.close();
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      // Back to migration 3's functions, as a schema that an earlier version of the store created.
      await client.query(`DROP FUNCTION ${schema}.seal_wait; DROP FUNCTION ${schema}.append;
        DROP FUNCTION ${schema}.append_v6; DROP FUNCTION ${schema}.append_group_v7;
        DELETE FROM ${schema}.schema_migrations WHERE version >= 4`);
      await client.query(
        (MIGRATIONS.find((m) => m.version === 3) as Migration)
          .sql(schema)
          .replaceAll('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'),
      );
      // A writer of that version that committed its append (events and stream head) and died before its seal.
      const [lost] = chainEvents('b', undefined, [event('u-2')]);
      if (lost === undefined) throw new Error('no event');
      const dataText = canonicalDataOf('b', 0, lost);
      await client.query(
        `WITH head AS (INSERT INTO ${schema}.streams (stream, last_revision, last_hash) VALUES ('b', 0, $12))
         INSERT INTO ${schema}.events (batch, batch_index, id, stream, revision, type, schema_version, occurred_at,
           recorded_at, actor, correlation_id, causation_id, data_text, data, prev_hash, hash)
         VALUES (nextval('${schema}.batches'), 0, $1, 'b', 0, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12)`,
        [
          lost.id,
          lost.type,
          lost.schemaVersion,
          lost.occurredAt,
          lost.recordedAt,
          lost.actor,
          lost.correlationId,
          lost.causationId,
          dataText,
          dataText,
          lost.prevHash,
          lost.hash,
        ],
      );
    } finally {
      await client.end();
    }
    // Opening seals what was left, then writers of this version append on the upgraded schema.
    const store = await open();
    expect(store.migrationsApplied).toEqual([4, 5, 6, 7]);
    const appended = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.append(`c-${i % 2}`, [event(`u-c-${i}`)])),
    );
    expect(appended.every((r) => r.events.length === 1)).toBe(true);
    const all = await collect(store.readAll());
    expect(all.map((e) => e.position)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(idsOf(all.slice(0, 3))).toEqual(['u-0', 'u-1', 'u-2']);
    expect(new Set(idsOf(all.slice(3)))).toEqual(new Set(appended.map((r) => r.events[0]?.id)));
    expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 9 });
  });

  it('mustExist: refuses a schema that holds no store, and creates nothing', async () => {
    const error: unknown = await createPostgresStore({ connectionString: url, schema, mustExist: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SchemaNotFoundError);
    expect(error).toMatchObject({ code: 'SCHEMA_NOT_FOUND', schema });
    expect((error as Error).message).toContain(`"${schema}"`);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
    await (await open()).append('s', [event('x-0')]);
    const again = await createPostgresStore({ connectionString: url, schema, mustExist: true });
    expect(idsOf(await collect(again.readAll()))).toEqual(['x-0']);
    await again.close();
  });

  it('refuses a schema name that is not a plain identifier, and needs one connection option', async () => {
    await expect(createPostgresStore({ connectionString: url, schema: 'Bad-Name' })).rejects.toThrow(
      /schema must be/,
    );
    await expect(createPostgresStore({ schema: 'x' })).rejects.toThrow(/connectionString and pool/);
  });

  it('works on a pool the application owns, and leaves it open on close', async () => {
    const pool = new Pool({ connectionString: url, max: 3 });
    const store = await createPostgresStore({ pool, schema });
    await store.append('s', [event('p-0')]);
    await store.close();
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.events`);
    expect(rows[0]?.n).toBe('1');
    await pool.end();
  });

  it('keeps the hashed canonical text and a jsonb copy of the data', async () => {
    const store = await open();
    await store.append('s', [{ ...event('j-0'), data: { b: '1.50', a: [1, { z: null }] } }]);
    // jsonb cannot hold a NUL character: such data is kept as text only, and reads back the same.
    const nul = await store.append('s', [{ ...event('j-1'), data: { note: 'a\u0000b' } }]);
    expect((await collect(store.readStream('s')))[1]).toEqual(nul.events[0]);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT data_text, data->>'b' AS b, data IS NULL AS no_json FROM ${schema}.events ORDER BY position`,
      );
      expect(rows).toEqual([
        { data_text: '{"a":[1,{"z":null}],"b":"1.50"}', b: '1.50', no_json: false },
        { data_text: '{"note":"a\\u0000b"}', b: null, no_json: true },
      ]);
    } finally {
      await client.end();
    }
  });

  it('keeps nothing of what it read once a read is done (the rows of every page can be collected)', async () => {
    // What each page query resolved with, watched through weak references: a store that kept them (a
    // reaction on a promise that lives as long as the store, one per query) grows with every read, and
    // a long subscription or a process that reads again and again runs out of memory.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const pool = new Pool({ connectionString: url, max: 4 });
    const results: WeakRef<object>[] = [];
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<object>;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) =>
      query(...args).then((result) => {
        results.push(new WeakRef(result));
        return result;
      });
    try {
      const store = await createPostgresStore({ pool, schema });
      opened.push(store);
      await store.append(
        'kept',
        Array.from({ length: 50 }, (_, i) => event(`kept-${i}`, i)),
      );
      const before = results.length;
      let read = 0;
      for await (const e of store.readAll({ pageSize: 10 })) read += e.position >= 0 ? 1 : 0;
      for await (const e of store.readStream('kept')) read += e.revision >= 0 ? 1 : 0;
      expect(read).toBe(100);
      expect(results.length - before).toBeGreaterThanOrEqual(6);
      for (let i = 0; i < 3; i += 1) {
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      expect(results.slice(before).filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await pool.end();
    }
  });

  it('a reader that changes the data it read changes its own copy only: later reads and verify see what was stored', async () => {
    const store = await open();
    await store.append('s', [{ ...event('m-0'), data: { amount: '10.00', lines: [{ rate: '0.20' }] } }]);
    const [first] = await collect(store.readAll());
    const data = first?.data as { amount: string; lines: { rate: string }[] };
    data.amount = '99.00';
    (data.lines[0] as { rate: string }).rate = '0.99';
    data.lines.push({ rate: '1' });
    const [again] = await collect(store.readAll());
    expect(again?.data).toEqual({ amount: '10.00', lines: [{ rate: '0.20' }] });
    expect((await collect(store.readStream('s')))[0]?.data).toEqual(again?.data);
    expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 1 });
  });
});

describe('sessions the server ends (a failover, pg_terminate_backend)', () => {
  it('ended while appending: each append is acknowledged or fails, the process carries on, and every acknowledged event is stored once', async () => {
    // A pool of the test's own, so that only this store's sessions are ended (other test files share the
    // server). An application that brings its own pool listens for the pool's 'error', as pg asks.
    const applicationName = `pl-kill-${schema}`.slice(0, 60);
    const pool = new Pool({ connectionString: url, max: 4, application_name: applicationName });
    pool.on('error', () => undefined);
    const store = await createPostgresStore({ pool, schema });
    const admin = new Client({ connectionString: url });
    await admin.connect();
    const acknowledged: string[] = [];
    let failed = 0;
    let stop = false;
    const writers = [0, 1, 2, 3, 4, 5].map(async (w) => {
      for (let i = 0; !stop; i += 1)
        await store.append(`kill-${w}-${i}`, [event(`w${w}-${i}`, i)]).then(
          () => acknowledged.push(`w${w}-${i}`),
          () => (failed += 1),
        );
    });
    let ended = 0;
    try {
      for (let round = 0; round < 40 && (ended < 8 || acknowledged.length < 20); round += 1) {
        await new Promise((resolve) => setTimeout(resolve, 15));
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
            WHERE application_name = $1 AND pid <> pg_backend_pid()`,
          [applicationName],
        );
        ended += rows[0]?.n ?? 0;
      }
    } finally {
      stop = true;
      await Promise.all(writers);
      await admin.end();
    }
    expect(ended).toBeGreaterThan(0);
    const stored = idsOf(await collect(store.readAll()));
    expect(new Set(stored).size).toBe(stored.length);
    expect(stored).toEqual(expect.arrayContaining(acknowledged));
    expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: stored.length });
    process.stderr.write(
      `sessions ended: ${ended}; appends acknowledged ${acknowledged.length}, failed ${failed}; stored ${stored.length}\n`,
    );
    await store.close();
    await pool.end();
  });
});

describe('the one-round-trip append (migration 3)', () => {
  it('two instances appending to one stream in turn: each finds its remembered head stale, chains on the real one, verify ok', async () => {
    const a = await open();
    const b = await open();
    let expected: number | 'noStream' = 'noStream';
    for (let i = 0; i < 10; i += 1) {
      const store = i % 2 === 0 ? a : b;
      const result: AppendResult = await store.append(
        'shared',
        [event(`t-${i}-a`, i), event(`t-${i}-b`, i)],
        {
          expectedRevision: expected,
        },
      );
      expected = result.nextExpectedRevision;
      expect(result.events.map((e) => e.revision)).toEqual([2 * i, 2 * i + 1]);
    }
    // A wrong expected revision, from an instance whose remembered head is stale, names the real one.
    const wrong: unknown = await a
      .append('shared', [event('t-late')], { expectedRevision: 5 })
      .catch((e) => e);
    expect(wrong).toBeInstanceOf(WrongExpectedRevisionError);
    expect(wrong).toMatchObject({ expected: 5, actual: 19 });
    expect(await verifyStore(b)).toMatchObject({ ok: true, eventsChecked: 20 });
  });

  it('stores text that needs quoting in a statement (quotes, backslashes, unicode in the data) byte for byte', async () => {
    const store = await open();
    const tricky = "it's \\ a 'quote' \\' ; -- $$ $append$ é 漢 😀 \n";
    const written = await store.append('s', [{ ...event('q-0'), data: { tricky, [tricky]: 1 } }], {
      tags: ['partner:q'],
    });
    const [read] = await collect(store.readAll());
    expect(read).toEqual(written.events[0]);
    expect(read?.data).toEqual({ tricky, [tricky]: 1 });
    expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 1 });
  });

  it('stores text with quotes, braces, commas, backslashes and NULL in its arrays byte for byte, alone and in a group', async () => {
    const store = await open();
    const texts = ['"', '\\', '{a,b}', 'NULL', '', ' x ', "'", '\\"{,}\'', 'é 😀 \n'];
    // Appends at once: the first goes alone, the others behind it in a group (both send parameters).
    const written = await Promise.all(
      texts.map((text, i) =>
        store.append(`quoted-${i}`, [{ ...event(`aq-${i}`, i), data: { text, [text]: i } }]),
      ),
    );
    const read = await collect(store.readAll());
    expect(read).toEqual(written.flatMap((w) => w.events).sort((a, b) => a.position - b.position));
    expect(read.map((e) => (e.data as { text: string }).text).sort()).toEqual([...texts].sort());
    expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: texts.length });
  });

  it('while another session holds the seal lock, appends (one event, several, a group) commit without positions and are acknowledged once sealed', async () => {
    // Three instances: one store sends one append or one group at a time.
    const store = await open();
    const other = await open();
    const grouping = await open();
    await store.append('before', [event('sl-0')]);
    const admin = new Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query('BEGIN');
      await admin.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [
        LOCK_NAMESPACE,
        lockKey(schema, 'seal'),
      ]);
      let settled = false;
      // The grouping store's first append goes alone and fails at once (a wrong expected revision), so
      // the two behind it go together, as a group, while the lock is held.
      const refused = grouping.append('g-0', [event('sl-5', 5)], { expectedRevision: 3 });
      const appends = Promise.all([
        store.append('one', [event('sl-1', 1)]),
        other.append('several', [event('sl-2', 2), event('sl-3', 3), event('sl-4', 4)]),
        grouping.append('g-1', [event('sl-6', 6)]),
        grouping.append('g-2', [event('sl-7', 7), event('sl-8', 8)]),
      ]).finally(() => (settled = true));
      await expect(refused).rejects.toThrow(WrongExpectedRevisionError);
      // Committed (visible to another session) but not numbered while the lock is held; not acknowledged.
      let unsealed = 0;
      for (let i = 0; i < 100 && unsealed < 7; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${schema}.events WHERE position IS NULL`,
        );
        unsealed = rows[0]?.n ?? 0;
      }
      expect(unsealed).toBe(7);
      expect(settled).toBe(false);
      await admin.query('COMMIT');
      const results = await appends;
      // Numbered by the seals that follow, dense after the event before, each append's events in a row.
      const positions = results.flatMap((r) => r.events.map((e) => e.position));
      expect([...positions].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      for (const result of results) {
        const own = result.events.map((e) => e.position);
        expect(own).toEqual(own.map((_, k) => (own[0] as number) + k));
      }
    } finally {
      await admin.end();
    }
    expect(idsOf(await collect(store.readAll()))).toHaveLength(8);
    expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 8 });
  });
});

describe('group commit of the appends made concurrently through one store', () => {
  it('forty concurrent appends to forty streams and five to one stream: each acknowledged with its own positions, dense, verify ok', async () => {
    const store = await open();
    const appends = [
      ...Array.from({ length: 40 }, (_, i) => store.append(`g-${i}`, [event(`g-${i}-a`), event(`g-${i}-b`)])),
      // Five to one stream: at most one per group, so they go in successive groups, each on the head before.
      ...Array.from({ length: 5 }, (_, i) => store.append('g-shared', [event(`g-shared-${i}`)])),
    ];
    const results = await Promise.all(appends);
    for (const result of results) {
      const positions = result.events.map((e) => e.position);
      expect(positions).toEqual(positions.map((_, k) => (positions[0] as number) + k));
      expect(result.lastPosition).toBe(positions[positions.length - 1]);
    }
    const all = await collect(store.readAll());
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 85 }, (_, i) => i));
    expect(new Set(all.map((e) => e.id)).size).toBe(85);
    const byId = new Map(all.map((e) => [e.id, e]));
    for (const result of results) for (const e of result.events) expect(byId.get(e.id)).toEqual(e);
    expect((await collect(store.readStream('g-shared'))).map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
    expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 85 });
  });

  it('a group goes as one call of append_group_v7: one statement of one text whatever its size, none failing, all under one name', async () => {
    const { pool, sent, failures } = spiedPool(url);
    try {
      const store = await createPostgresStore({ pool, schema });
      opened.push(store);
      let appended = 0;
      // Rounds of concurrent appends of different sizes: the first of each round goes alone, the others
      // behind it in groups of different sizes and event counts.
      for (let round = 0; round < 4; round += 1) {
        const size = [3, 9, 20, 64][round] as number;
        await Promise.all(
          Array.from({ length: size }, (_, i) =>
            store.append(
              `gs-${i}`,
              Array.from({ length: 1 + (i % 3) }, (__, k) => event(`gs-${round}-${i}-${k}`, k)),
            ),
          ),
        );
        appended += Array.from({ length: size }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0);
      }
      // The statements that call the functions (not the migration that creates them).
      const calls = sent.filter((q) => q.text.startsWith('SELECT'));
      const groups = calls.filter((q) => q.text.includes(`${schema}.append_group_v7(`));
      const alone = calls.filter((q) => q.text.includes(`${schema}.append_v6(`));
      expect(failures).toEqual([]);
      expect(groups.length).toBeGreaterThanOrEqual(4);
      expect(new Set(groups.map((q) => q.text)).size).toBe(1);
      // Named by default (a direct connection keeps its statements): one name for the one text.
      expect(groups.filter((q) => !/^pl_append_group_v7_[0-9a-f]{16}$/.test(q.name ?? ''))).toEqual([]);
      expect(new Set(groups.map((q) => q.name)).size).toBe(1);
      // Most appends went in groups: each round's first alone, and a few that arrived between groups.
      expect(alone.length).toBeLessThan(20);
      const all = await collect(store.readAll());
      expect(all.map((e) => e.position)).toEqual(Array.from({ length: appended }, (_, i) => i));
      expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: appended });
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await pool.end();
    }
  });

  it('each append of a group gets its own answer: written, stale head, wrong revision, a retry, a duplicate id', async () => {
    const { pool, sent, failures } = spiedPool(url);
    try {
      const store = await createPostgresStore({ pool, schema });
      opened.push(store);
      const other = await open();
      await store.append('m-stale', [event('m-stale-0')]);
      await store.append('m-retry', [event('m-retry-0', 1)]);
      await store.append('m-dup', [event('m-dup-0', 2)]);
      // Another instance appends to m-stale: this store's remembered head is stale.
      await other.append('m-stale', [event('m-stale-1')]);
      const before = sent.length;
      // The first goes alone; the five behind it go together, as one group.
      const outcomes = await Promise.allSettled([
        store.append('m-first', [event('m-first-0')]),
        store.append('m-ok', [event('m-ok-0'), event('m-ok-1')]),
        store.append('m-stale', [event('m-stale-2')]),
        store.append('m-rev', [event('m-rev-0')], { expectedRevision: 5 }),
        store.append('m-retry', [event('m-retry-0', 1)]),
        store.append('m-dup', [event('m-dup-0', 99)]),
      ]);
      expect(failures).toEqual([]);
      const groups = sent
        .slice(before)
        .filter((q) => q.text.startsWith('SELECT') && q.text.includes('append_group_v7('));
      expect(groups).toHaveLength(1);
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'rejected',
      ]);
      const value = (k: number) => (outcomes[k] as PromiseFulfilledResult<AppendResult>).value;
      const reason = (k: number) => (outcomes[k] as PromiseRejectedResult).reason as unknown;
      expect(value(1).events.map((e) => e.revision)).toEqual([0, 1]);
      // Chained again on the real head (revision 1, the other instance's event).
      expect(value(2).events.map((e) => e.revision)).toEqual([2]);
      expect(reason(3)).toBeInstanceOf(WrongExpectedRevisionError);
      expect(value(4)).toMatchObject({ alreadyStored: true, lastPosition: 1 });
      expect(reason(5)).toBeInstanceOf(DuplicateEventIdError);
      const all = await collect(store.readAll());
      expect(all.map((e) => e.position)).toEqual(Array.from({ length: 8 }, (_, i) => i));
      expect(all.filter((e) => e.stream === 'm-rev')).toEqual([]);
      expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 8 });
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await pool.end();
    }
  });

  it('a group whose transaction fails (an id another transaction commits meanwhile) is tried again append by append', async () => {
    const store = await open();
    // Another writer holds a new, uncommitted event 'd-same' (in stream d-x) when the group writes the
    // same id: the group's insert waits on the unique index, then fails when that writer commits, which
    // rolls the whole group back; each append is then tried alone and gets its own answer.
    const blocker = new Client({ connectionString: url });
    await blocker.connect();
    try {
      const [held] = chainEvents('d-x', undefined, [event('d-same')]);
      if (held === undefined) throw new Error('no event');
      const dataText = canonicalDataOf('d-x', 0, held);
      await blocker.query('BEGIN');
      await blocker.query(
        `WITH head AS (INSERT INTO ${schema}.streams (stream, last_revision, last_hash) VALUES ('d-x', 0, $11))
         INSERT INTO ${schema}.events (batch, batch_index, id, stream, revision, type, schema_version, occurred_at,
           recorded_at, actor, correlation_id, causation_id, data_text, data, prev_hash, hash)
         VALUES (nextval('${schema}.batches'), 0, $1, 'd-x', 0, $2, $3, $4, $5, $6, $7, $8, $9::text, $9::jsonb, $10, $11)`,
        [
          held.id,
          held.type,
          held.schemaVersion,
          held.occurredAt,
          held.recordedAt,
          held.actor,
          held.correlationId,
          held.causationId,
          dataText,
          held.prevHash,
          held.hash,
        ],
      );
      // The first append goes at once, alone; the two made while it is under way form a group.
      const settled = Promise.allSettled([
        store.append('d-0', [event('d-first')]),
        store.append('d-1', [event('d-same')]),
        store.append('d-2', [event('d-other')]),
      ]);
      // Once the group waits on the held id, the other writer commits. The blocker is inside its
      // transaction, where pg_stat_activity keeps the snapshot of its first read: it is cleared before each
      // look (without that, a first look taken before the group waited was seen for ever, and the test hung).
      for (;;) {
        await blocker.query('SELECT pg_stat_clear_snapshot()');
        const { rows } = await blocker.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
          [`%${schema}.append_group_v7(%`],
        );
        if (rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await blocker.query('COMMIT');
      // And seals it, as its writer would.
      await blocker.query(`SELECT * FROM ${schema}.seal(NULL)`);
      const outcomes = await settled;
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateEventIdError);
    } finally {
      await blocker.end();
    }
    const all = await collect(store.readAll());
    expect(new Set(idsOf(all))).toEqual(new Set(['d-first', 'd-same', 'd-other']));
    expect(all.map((e) => e.position)).toEqual([0, 1, 2]);
    expect((await collect(store.readStream('d-x'))).map((e) => e.id)).toEqual(['d-same']);
    expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 3 });
  });
});

describe('append conditions and tags (atomic in the append transaction)', () => {
  it('a condition holds when nothing with its tags came after `after`, and fails naming the tag and position otherwise', async () => {
    const store = await open();
    const read = await store.append('balance-p1', [event('pay-1', 1)], { tags: ['partner:p1'] });
    await store.append('other', [event('o-1', 2)], { tags: ['partner:p2'] });
    const reversal = await store.append('conversion-o2', [event('rev-1', 3), event('rev-2', 4)], {
      tags: ['partner:p1', 'customer:c1'],
    });
    await expectConditionFailed(
      store.append('balance-p1', [event('pay-2', 5)], {
        condition: { failIfTagged: ['partner:p9', 'partner:p1'], after: read.lastPosition },
      }),
      'partner:p1',
      reversal.lastPosition,
    );
    await expect(
      store.append('balance-p1', [event('pay-2', 5)], {
        condition: { failIfTagged: ['partner:p2'], after: -1 },
      }),
    ).rejects.toMatchObject({ code: 'APPEND_CONDITION_FAILED', tag: 'partner:p2', position: 1 });
    // Caught up to the reversal, the decision may be recorded; a tag never seen holds at -1.
    await store.append('balance-p1', [event('pay-2', 5)], {
      tags: ['partner:p1'],
      condition: { failIfTagged: ['partner:p1', 'partner:never'], after: reversal.lastPosition },
    });
    expect(idsOf(await collect(store.readAll()))).toEqual(['pay-1', 'o-1', 'rev-1', 'rev-2', 'pay-2']);
  });

  it('an idempotent retry is recognised before the condition', async () => {
    const store = await open();
    const options = { tags: ['partner:p1'], condition: { failIfTagged: ['partner:p1'], after: -1 } };
    const first = await store.append('balance-p1', [event('pay-1', 1)], options);
    await store.append('conversion-o1', [event('rev-1', 2)], { tags: ['partner:p1'] });
    const again = await store.append('balance-p1', [event('pay-1', 1)], options);
    expect(again.alreadyStored).toBe(true);
    expect(again.events).toEqual(first.events);
  });

  it('tags survive a reopen, and rejects malformed tags naming the field', async () => {
    const first = await open();
    const before = await first.append('a', [event('a-0')]);
    const tagged = await first.append('b', [event('b-0', 1)], { tags: ['partner:p1'] });
    await first.close();
    const store = await open();
    await expectConditionFailed(
      store.append('c', [event('c-0', 2)], {
        condition: { failIfTagged: ['partner:p1'], after: before.lastPosition },
      }),
      'partner:p1',
      tagged.lastPosition,
    );
    await expect(store.append('c', [event('c-0', 2)], { tags: [''] })).rejects.toThrow(/tags/);
    await expect(
      store.append('c', [event('c-0', 2)], { condition: { failIfTagged: ['t'], after: -2 } }),
    ).rejects.toThrow(/after/);
  });

  it('twenty conditional appends on one tag from four store instances (four pools), decided on the same read: exactly one wins', async () => {
    const stores = await Promise.all([open(), open(), open(), open()]);
    const seen = await (stores[0] as EventStore).append('setup', [event('setup-0')], {
      tags: ['partner:p1'],
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        (stores[i % 4] as EventStore).append(`writer-${i}`, [event(`writer-${i}`, i)], {
          tags: ['partner:p1'],
          condition: { failIfTagged: ['partner:p1'], after: seen.lastPosition },
        }),
      ),
    );
    const won = outcomes.filter((o): o is PromiseFulfilledResult<AppendResult> => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(outcome.reason).toMatchObject({ tag: 'partner:p1', position: won[0]?.value.lastPosition });
      }
    }
    expect(await (stores[2] as EventStore).headPosition()).toBe(1);
  });
});

describe('global order readers can trust', () => {
  it('hammer: writers on four instances append concurrently while a subscriber on a fifth sees every event exactly once, in order, with no gap', async () => {
    const writers = await Promise.all([open(), open(), open(), open()]);
    const reader = await open({ pollIntervalMs: 100 });
    const controller = new AbortController();
    const seen: RecordedEvent[] = [];
    const total = 4 * 6 * 15 * 2;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const subscription = (async () => {
      for await (const message of reader.subscribe({
        signal: controller.signal,
      }) as AsyncIterable<SubscriptionMessage>) {
        if (message.kind !== 'event') continue;
        seen.push(message.event);
        if (seen.length === total) resolveDone();
      }
    })();
    // 4 instances x 6 writers x 15 appends of 2 events, each writer on its own stream and on a shared one.
    await Promise.all(
      writers.flatMap((store, s) =>
        Array.from({ length: 6 }, async (_, w) => {
          for (let i = 0; i < 15; i += 1) {
            const stream = i % 2 === 0 ? `own-${s}-${w}` : 'shared';
            await store.append(stream, [event(`h-${s}-${w}-${i}-a`, i), event(`h-${s}-${w}-${i}-b`, i)]);
          }
        }),
      ),
    );
    await within(done, () => `saw ${seen.length} of ${total}`, 20_000);
    controller.abort();
    await subscription;
    expect(seen.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(new Set(idsOf(seen)).size).toBe(total);
    // Each append's two events are consecutive, and the subscriber saw the log exactly as readAll does.
    for (let i = 0; i < total; i += 2) expect(seen[i]?.id.replace(/-a$/, '-b')).toBe(seen[i + 1]?.id);
    expect(await collect(reader.readAll())).toEqual(seen);
    const report = await verifyStore(reader);
    expect(report.ok).toBe(true);
  });

  it('a subscription keeps delivering after its LISTEN connection is killed by the server', async () => {
    const store = await open({ pollIntervalMs: 60_000 });
    const controller = new AbortController();
    const iterator = store.subscribe({ signal: controller.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ kind: 'caughtUp', position: -1 });
    const next = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const admin = new Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE application_name = 'partner-ledger-listen' AND query ILIKE '%${schema}%'`,
      );
      expect(rows[0]?.n).toBe(1);
    } finally {
      await admin.end();
    }
    // With the poll an hour away, only a reconnected LISTEN (or the wake-up a reconnect sends) delivers.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const appender = await open();
    await appender.append('after-kill', [event('k-0')]);
    const message = await within(next, () => 'nothing after the reconnect', 10_000);
    expect(message).toMatchObject({ value: { kind: 'event', event: { id: 'k-0', position: 0 } } });
    controller.abort();
    await iterator.return?.();
  });
});

describe('preparedStatements: the append path as named prepared statements', () => {
  /** The names sent, each with the one text it stood for (a name sent with two texts fails the test). */
  const namesOf = (sent: readonly { name?: string; text: string }[]): Map<string, string> => {
    const names = new Map<string, string>();
    for (const q of sent) {
      if (q.name === undefined) continue;
      expect(names.get(q.name) ?? q.text).toBe(q.text);
      names.set(q.name, q.text);
    }
    return names;
  };

  it('refuses a value that is not a boolean, naming the option', async () => {
    await expect(
      createPostgresStore({ connectionString: url, schema, preparedStatements: 'yes' as unknown as boolean }),
    ).rejects.toThrow(/preparedStatements must be true or false, got "yes"/);
  });

  it('names a statement by the function it calls and a hash of its text (so of its schema), within 63 bytes', () => {
    const a = statementName('append_group_v7', 'SELECT a_schema.append_group_v7($1)');
    expect(a).toMatch(/^pl_append_group_v7_[0-9a-f]{16}$/);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(statementName('append_group_v7', 'SELECT b_schema.append_group_v7($1)')).not.toBe(a);
    expect(statementName('append_group_v7', 'SELECT a_schema.append_group_v7($1)')).toBe(a);
  });

  it.each([
    ['unset (the default)', undefined],
    ['true', true],
  ])(
    'option %s, a direct connection: sends the append alone and the group under their names, one text per name; every append acknowledged, dense, verify ok',
    async (_, preparedStatements) => {
      const { pool, sent, failures } = spiedPool(url);
      try {
        const store = await createPostgresStore({ pool, schema, preparedStatements });
        opened.push(store);
        let appended = 0;
        for (let round = 0; round < 4; round += 1) {
          const size = [1, 5, 20, 40][round] as number;
          await Promise.all(
            Array.from({ length: size }, (_, i) => store.append(`ps-${i}`, [event(`ps-${round}-${i}`, i)])),
          );
          appended += size;
        }
        // One after another on the same streams: each append alone, reusing what its connection prepared.
        for (let i = 0; i < 10; i += 1) await store.append('ps-0', [event(`ps-seq-${i}`, i)]);
        appended += 10;
        expect(failures).toEqual([]);
        const names = namesOf(sent);
        const alone = [...names].filter(([name]) => name.startsWith('pl_append_v6_'));
        const group = [...names].filter(([name]) => name.startsWith('pl_append_group_v7_'));
        expect(alone).toHaveLength(1);
        expect(group).toHaveLength(1);
        expect(alone[0]?.[1]).toContain(`${schema}.append_v6(`);
        expect(group[0]?.[1]).toContain(`${schema}.append_group_v7(`);
        // Every call of the two functions went by name.
        const calls = sent.filter((q) => q.text.startsWith('SELECT') && q.text.includes('.append_'));
        expect(calls.length).toBeGreaterThan(10);
        expect(calls.filter((q) => q.name === undefined)).toEqual([]);
        const all = await collect(store.readAll());
        expect(all.map((e) => e.position)).toEqual(Array.from({ length: appended }, (_, i) => i));
        expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: appended });
      } finally {
        await Promise.all(opened.splice(0).map((store) => store.close()));
        await pool.end();
      }
    },
  );

  it('two stores on different schemas sharing one pool, both with the option: both work, under different names', async () => {
    const other = uniqueSchema('store_other');
    const { pool, sent, failures } = spiedPool(url, 3);
    try {
      const a = await createPostgresStore({ pool, schema, preparedStatements: true });
      const b = await createPostgresStore({ pool, schema: other, preparedStatements: true });
      opened.push(a, b);
      // Alone and in groups, interleaved, on the pool's three connections: each connection prepares the
      // statements of both schemas.
      for (let round = 0; round < 5; round += 1) {
        await Promise.all(
          Array.from({ length: 1 + round * 4 }, (_, i) => [
            a.append(`two-${i}`, [event(`a-${round}-${i}`, i)]),
            b.append(`two-${i}`, [event(`b-${round}-${i}`, i)]),
          ]).flat(),
        );
      }
      const count = Array.from({ length: 5 }, (_, round) => 1 + round * 4).reduce((x, y) => x + y, 0);
      expect(failures).toEqual([]);
      const names = namesOf(sent);
      const ofSchema = (s: string) =>
        new Set([...names].filter(([, text]) => text.includes(`${s}.append_`)).map(([name]) => name));
      expect(ofSchema(schema).size).toBe(2);
      expect(ofSchema(other).size).toBe(2);
      expect([...ofSchema(schema)].filter((name) => ofSchema(other).has(name))).toEqual([]);
      for (const [store, prefix] of [
        [a, 'a-'],
        [b, 'b-'],
      ] as const) {
        const all = await collect(store.readAll());
        expect(all.map((e) => e.position)).toEqual(Array.from({ length: count }, (_, i) => i));
        expect(all.every((e) => e.id.startsWith(prefix))).toBe(true);
        expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: count });
      }
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await pool.end();
      await dropSchema(url, other);
    }
  });

  it('a named statement that fails while running (a lock timeout) leaves its connection usable: the next append runs on it', async () => {
    const { pool, sent } = spiedPool(url, 1);
    let connects = 0;
    pool.on('connect', () => {
      connects += 1;
    });
    const holder = new Client({ connectionString: url });
    await holder.connect();
    try {
      const store = await createPostgresStore({ pool, schema, preparedStatements: true });
      opened.push(store);
      await store.append('locked', [event('l-0')]);
      // The pool's one connection gives up on a lock after 300 ms; another session holds the stream's row.
      await pool.query(`SET lock_timeout = '300ms'`);
      await holder.query(`BEGIN; SELECT * FROM ${schema}.streams WHERE stream = 'locked' FOR UPDATE`);
      const error: unknown = await store.append('locked', [event('l-1', 1)]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DatabaseError);
      expect(error).toMatchObject({ code: '55P03' });
      await holder.query('ROLLBACK');
      await pool.query('RESET lock_timeout');
      const result = await store.append('locked', [event('l-2', 2)]);
      expect(result.events.map((e) => e.revision)).toEqual([1]);
      // The same connection all along, and every call sent by name (the append after the failure twice:
      // the failure made the store forget the stream's head, so its first try found its head stale).
      expect(connects).toBe(1);
      const calls = sent.filter((q) => q.text.startsWith('SELECT') && q.text.includes('.append_v6('));
      expect(calls.length).toBeGreaterThanOrEqual(3);
      expect(calls.filter((q) => !/^pl_append_v6_/.test(q.name ?? ''))).toEqual([]);
      expect(idsOf(await collect(store.readAll()))).toEqual(['l-0', 'l-2']);
      expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 2 });
    } finally {
      await holder.end();
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await pool.end();
    }
  });

  it('an append committed while another session holds the seal lock: the wait for its seal, sent after the commit, is never named', async () => {
    const { pool, sent, failures } = spiedPool(url);
    const admin = new Client({ connectionString: url });
    await admin.connect();
    try {
      const store = await createPostgresStore({ pool, schema, preparedStatements: true });
      opened.push(store);
      await store.append('w', [event('w-0')]);
      await admin.query('BEGIN');
      await admin.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [
        LOCK_NAMESPACE,
        lockKey(schema, 'seal'),
      ]);
      const appended = store.append('w', [event('w-1', 1)]);
      // Committed without positions, its client now waiting for the seal.
      for (let i = 0; i < 100; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (sent.some((q) => q.text.includes('.seal_wait('))) break;
      }
      await admin.query('COMMIT');
      expect((await appended).events.map((e) => e.position)).toEqual([1]);
      expect(failures).toEqual([]);
      // The append by name; the wait unnamed: a server connection lacking a named wait would fail an
      // append that is already stored, and PreparedStatementError says that nothing was.
      const waits = sent.filter((q) => q.text.includes('.seal_wait($1'));
      expect(waits.length).toBeGreaterThan(0);
      expect(waits.map((q) => q.name)).toEqual(waits.map(() => undefined));
      expect(sent.filter((q) => q.text.includes('.append_v6(') && q.name !== undefined)).toHaveLength(2);
    } finally {
      await admin.end();
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await pool.end();
    }
  });

  it('true, a connection whose statements were deallocated (DISCARD ALL): the next append fails with PreparedStatementError, stores nothing, and the store carries on on a new connection', async () => {
    const pool = new Pool({ connectionString: url, max: 1 });
    let connects = 0;
    pool.on('connect', () => {
      connects += 1;
    });
    try {
      const store = await createPostgresStore({ pool, schema, preparedStatements: true });
      opened.push(store);
      await store.append('d', [event('d-0')]);
      // What an application sharing the pool, or a pooler handing the connection to another client, can do.
      await pool.query('DISCARD ALL');
      const error: unknown = await store.append('d', [event('d-1', 1)]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PreparedStatementError);
      expect(error).toMatchObject({ code: 'PREPARED_STATEMENT_LOST' });
      expect((error as Error).message).toMatch(
        /preparedStatements is true, and the server connection refused the prepared statement "pl_append_v6_[0-9a-f]{16}" \(prepared statement .* does not exist\).*leave preparedStatements unset/,
      );
      // The connection that lost its statement was dropped; the next append prepares on a new one.
      const result = await store.append('d', [event('d-2', 2)]);
      expect(result.events.map((e) => e.revision)).toEqual([1]);
      expect(connects).toBe(2);
      expect(idsOf(await collect(store.readAll()))).toEqual(['d-0', 'd-2']);
      expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 2 });
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await pool.end();
    }
  });
  /** The calls of the two append functions, in the order sent. */
  const appendCalls = (sent: readonly { name?: string; text: string; values?: unknown }[]) =>
    sent.filter((q) => q.text.startsWith('SELECT') && /\.append_(v6|group_v7)\(/.test(q.text));
  const lostCodes = (failures: readonly unknown[]) => failures.map((e) => (e as { code?: unknown }).code);

  it('false: every statement unnamed, alone and in groups', async () => {
    const { pool, sent, failures } = spiedPool(url);
    try {
      const store = await createPostgresStore({ pool, schema, preparedStatements: false });
      opened.push(store);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(`u-${i}`, [event(`u-${i}`, i)])));
      await store.append('u-0', [event('u-next', 1)]);
      expect(failures).toEqual([]);
      expect(appendCalls(sent).length).toBeGreaterThanOrEqual(3);
      expect(sent.filter((q) => q.name !== undefined)).toEqual([]);
      expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 21 });
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await pool.end();
    }
  });

  it('option unset, a connection whose statements were deallocated (DISCARD ALL): the append is sent again unnamed on a new connection, stored once, and the store names nothing from then on', async () => {
    const { pool, sent, failures } = spiedPool(url, 1);
    let connects = 0;
    pool.on('connect', () => {
      connects += 1;
    });
    try {
      const store = await createPostgresStore({ pool, schema });
      opened.push(store);
      await store.append('d', [event('d-0')]);
      expect(appendCalls(sent).map((q) => q.name)).toEqual([expect.stringMatching(/^pl_append_v6_/)]);
      // What an application sharing the pool, or a pool that resets its sessions, does.
      await pool.query('DISCARD ALL');
      const before = appendCalls(sent).length;
      const result = await store.append('d', [event('d-1', 1)]);
      expect(result).toMatchObject({ alreadyStored: false, nextExpectedRevision: 1, lastPosition: 1 });
      // The refusal (Bind of a statement the session no longer has), then the same append unnamed.
      expect(lostCodes(failures)).toEqual(['26000']);
      const after = appendCalls(sent).slice(before);
      expect(after.map((q) => q.name)).toEqual([expect.stringMatching(/^pl_append_v6_/), undefined]);
      expect(after[1]?.values).toEqual(after[0]?.values);
      // The connection that lost its statements was dropped.
      expect(connects).toBe(2);
      // From then on, alone and in groups, nothing named.
      const rest = appendCalls(sent).length;
      await Promise.all(Array.from({ length: 12 }, (_, i) => store.append(`g-${i}`, [event(`g-${i}`, i)])));
      await store.append('d', [event('d-2', 2)]);
      const later = appendCalls(sent).slice(rest);
      expect(later.some((q) => q.text.includes('.append_group_v7('))).toBe(true);
      expect(later.map((q) => q.name).filter((name) => name !== undefined)).toEqual([]);
      expect(lostCodes(failures)).toEqual(['26000']);
      const all = await collect(store.readAll());
      expect(idsOf(all).filter((id) => id.startsWith('d-'))).toEqual(['d-0', 'd-1', 'd-2']);
      expect(all.map((e) => e.position)).toEqual(Array.from({ length: 15 }, (_, i) => i));
      expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 15 });
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await pool.end();
    }
  });

  it('option unset, a group whose statement the connection lost (DEALLOCATE): the whole group is sent again unnamed, each append stored once', async () => {
    const { pool, sent, failures } = spiedPool(url, 1);
    try {
      const store = await createPostgresStore({ pool, schema });
      opened.push(store);
      const round = (r: number) =>
        Promise.all(Array.from({ length: 10 }, (_, i) => store.append(`r-${i}`, [event(`r-${r}-${i}`, i)])));
      // The first append goes alone, the nine that arrive meanwhile as a group: both statements prepared.
      await round(0);
      const { rows } = await pool.query<{ name: string }>(
        `SELECT name FROM pg_prepared_statements WHERE name LIKE 'pl_append_group_v7_%'`,
      );
      expect(rows).toHaveLength(1);
      await pool.query(`DEALLOCATE ${rows[0]?.name as string}`);
      const before = appendCalls(sent).length;
      const results = await round(1);
      expect(results.every((r) => !r.alreadyStored)).toBe(true);
      expect(lostCodes(failures)).toEqual(['26000']);
      const groups = appendCalls(sent)
        .slice(before)
        .filter((q) => q.text.includes('.append_group_v7('));
      // The group by name (refused), then the same group unnamed: not split into appends alone.
      expect(groups.map((q) => q.name)).toEqual([rows[0]?.name, undefined]);
      expect(groups[1]?.values).toEqual(groups[0]?.values);
      const all = await collect(store.readAll());
      expect(new Set(idsOf(all)).size).toBe(20);
      expect(all.map((e) => e.position)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 20 });
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await pool.end();
    }
  });
});
