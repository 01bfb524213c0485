import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import { verifyStore } from '@partner-ledger/store';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createPostgresStore } from './store';
import { testDatabaseUrl } from './testing/database';

// A store that an admin role migrated, opened by roles and sessions that may not change the schema: a
// runtime role with no CREATE anywhere (least privilege), and a read-only session (what a hot-standby
// replica gives, and what default_transaction_read_only=on gives on any server). Opening must then run no
// DDL and write nothing; CREATE SCHEMA IF NOT EXISTS alone is refused to a role without CREATE on the
// database, even when the schema exists.
//
// Everything happens in a database of its own, whose CONNECT is revoked from PUBLIC, so that the grants
// below are the runtime role's only privileges there; the role and the database are dropped at the end.

const adminUrl = testDatabaseUrl();
const suffix = randomBytes(6).toString('hex');
const database = `pl_priv_${suffix}`;
const runtimeRole = `pl_runtime_${suffix}`;
const runtimePassword = `pw-${suffix}`;
const schema = 'ledger';

/** The admin's URL with another database, user or extra query parameters. */
const urlWith = (changes: { user?: string; password?: string; options?: string }): string => {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  if (changes.user !== undefined) url.username = changes.user;
  if (changes.password !== undefined) url.password = changes.password;
  if (changes.options !== undefined) url.searchParams.set('options', changes.options);
  return url.toString();
};
const READ_ONLY = '-c default_transaction_read_only=on';

const event = (id: string, n: number): NewEvent => ({
  id,
  type: 'PrivilegesChecked',
  schemaVersion: 1,
  data: { n, amount: `${n}.25` },
  occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  recordedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  actor: 'test:privileges',
  correlationId: 'corr-privileges',
  causationId: null,
});
const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};
const idsOf = (events: readonly RecordedEvent[]): string[] => events.map((e) => e.id);

/** Runs `sql` as the admin on `db` (the server's own database by default). */
const asAdmin = async (sql: string, db?: string): Promise<void> => {
  const url = new URL(adminUrl);
  if (db !== undefined) url.pathname = `/${db}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

/** The error a promise rejects with (undefined when it resolves). */
const failureOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

beforeAll(async () => {
  await asAdmin(`CREATE DATABASE ${database}`);
  await asAdmin(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC`);
  await asAdmin(`CREATE ROLE ${runtimeRole} LOGIN PASSWORD '${runtimePassword}'`);
  await asAdmin(`GRANT CONNECT ON DATABASE ${database} TO ${runtimeRole}`);
  // The admin creates and migrates the schema, and appends the first events.
  const admin = await createPostgresStore({ connectionString: urlWith({}), schema });
  try {
    await admin.append('admin', [event('a-0', 0), event('a-1', 1)]);
  } finally {
    await admin.close();
  }
  // What the runtime role needs to append and read (docs/stores.md lists it): no CREATE, no DELETE, no
  // TRUNCATE, no ownership. The functions run with the caller's rights (EXECUTE is PUBLIC's by default).
  await asAdmin(
    `GRANT USAGE ON SCHEMA ${schema} TO ${runtimeRole};
     GRANT SELECT ON ${schema}.schema_migrations TO ${runtimeRole};
     GRANT SELECT, INSERT, UPDATE ON ${schema}.events, ${schema}.streams, ${schema}.tags TO ${runtimeRole};
     GRANT USAGE ON SEQUENCE ${schema}.batches TO ${runtimeRole};`,
    database,
  );
});

afterAll(async () => {
  await asAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await asAdmin(`DROP ROLE IF EXISTS ${runtimeRole}`);
});

it('the runtime role may create nothing in the database, and its grants do not cover a missing migration', async () => {
  const client = new Client({
    connectionString: urlWith({ user: runtimeRole, password: runtimePassword }),
  });
  await client.connect();
  try {
    // What migrate's CREATE SCHEMA IF NOT EXISTS checked even for an existing schema: refused.
    await expect(client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)).rejects.toMatchObject({
      code: '42501',
    });
    await expect(client.query(`CREATE TABLE ${schema}.other (x int)`)).rejects.toMatchObject({
      code: '42501',
    });
  } finally {
    await client.end();
  }
  // A schema that lacks a migration still takes the migrate path, which this role may not run: it fails
  // with the server's refusal, and nothing is created.
  const error = await failureOf(
    createPostgresStore({
      connectionString: urlWith({ user: runtimeRole, password: runtimePassword }),
      schema: 'not_migrated',
    }),
  );
  expect(error).toMatchObject({ code: '42501' });
});

it('a runtime role with no CREATE privilege opens a store an admin migrated, appends, reads and verifies', async () => {
  const store = await createPostgresStore({
    connectionString: urlWith({ user: runtimeRole, password: runtimePassword }),
    schema,
  });
  try {
    expect(store.migrationsApplied).toEqual([]);
    const one = await store.append('runtime', [event('r-0', 2)]);
    expect(one.lastPosition).toBe(2);
    // Several at once: the group commit, and a batch of two events.
    await Promise.all([
      store.append('runtime', [event('r-1', 3), event('r-2', 4)], { expectedRevision: 0 }),
      store.append('other', [event('o-0', 5)]),
    ]);
    // Tagged and conditional appends write the tags table.
    await store.append('tagged', [event('t-0', 6)], {
      tags: ['program-1'],
      condition: { failIfTagged: ['program-1'], after: 5 },
    });
    const all = await collect(store.readAll());
    expect(all.map((e) => e.position)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(new Set(idsOf(all))).toEqual(new Set(['a-0', 'a-1', 'r-0', 'r-1', 'r-2', 'o-0', 't-0']));
    expect(idsOf(await collect(store.readStream('runtime')))).toEqual(['r-0', 'r-1', 'r-2']);
    expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: 7 });
  } finally {
    await store.close();
  }
});

it('a read-only session (default_transaction_read_only=on, as on a replica) opens, reads and subscribes; an append is refused and writes nothing', async () => {
  for (const credentials of [{}, { user: runtimeRole, password: runtimePassword }]) {
    const store = await createPostgresStore({
      connectionString: urlWith({ ...credentials, options: READ_ONLY }),
      schema,
    });
    try {
      expect(store.migrationsApplied).toEqual([]);
      const all = await collect(store.readAll());
      expect(idsOf(all.slice(0, 2))).toEqual(['a-0', 'a-1']);
      const head = await store.headPosition();
      expect(head).toBe(all.length - 1);
      expect(await verifyStore(store)).toMatchObject({ ok: true, eventsChecked: all.length });
      // A subscription catches up on what is there (its poll's seal is refused by the server, quietly).
      const controller = new AbortController();
      const seen: string[] = [];
      for await (const message of store.subscribe({ signal: controller.signal })) {
        if (message.kind === 'event') seen.push(message.event.id);
        else {
          expect(message).toEqual({ kind: 'caughtUp', position: head });
          controller.abort();
        }
      }
      expect(seen).toEqual(idsOf(all));
      // The server refuses the write (read_only_sql_transaction), and nothing was stored.
      await expect(store.append('refused', [event('x-0', 9)])).rejects.toMatchObject({ code: '25006' });
      expect(await store.headPosition()).toBe(head);
      expect(await collect(store.readStream('refused'))).toEqual([]);
    } finally {
      await store.close();
    }
  }
});
