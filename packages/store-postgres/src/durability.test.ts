import type { NewEvent } from '@partner-ledger/events';
import { verifyStore } from '@partner-ledger/store';
import { Client, Pool } from 'pg';
import { createPostgresStore } from './store';
import { startServerProcess } from './testing/server-process';
import type { ServerProcess } from './testing/server-process';

// The store commits an append's own transaction with `SET LOCAL synchronous_commit = off` and acknowledges
// it only after a later commit that is synchronous (the append numbering itself, or the seal that numbers
// it) has flushed the write-ahead log past it. This test checks that promise against a crash: on a server
// of its own (it kills it), left at synchronous_commit = on as configured, with the WAL writer slowed to
// 10 s so that an unflushed commit would still be only in the server's memory when the server is killed.

const at = (n: number): string => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
const event = (id: string, n: number): NewEvent => ({
  id,
  type: 'DurabilityChecked',
  schemaVersion: 1,
  data: { n, amount: `${n}.25` },
  occurredAt: at(n),
  recordedAt: at(n),
  actor: 'test:postgres',
  correlationId: 'corr-durability',
  causationId: null,
});

let server: ServerProcess;
let url: string;
beforeAll(async () => {
  server = await startServerProcess({ wal_writer_delay: '10000ms' });
  url = server.url;
}, 120_000);
afterAll(() => server.stop());

it('every acknowledged append survives a crash of the whole server right after it (synchronous_commit as configured, WAL writer slowed)', async () => {
  const schema = 'durable';
  const pool = new Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  const store = await createPostgresStore({ pool, schema });
  const acknowledged: string[] = [];
  // An append alone (the one-round-trip path), then appends made concurrently (the group commit), then an
  // append with a tag (one round trip, never grouped), each recorded as acknowledged once it resolves.
  acknowledged.push(...(await store.append('solo', [event('solo-0', 0)])).events.map((e) => e.id));
  const group = await Promise.all(
    Array.from({ length: 16 }, (_, w) => store.append(`writer-${w}`, [event(`group-${w}`, w)])),
  );
  acknowledged.push(...group.flatMap((r) => r.events.map((e) => e.id)));
  const tagged = await store.append('tagged', [event('tagged-0', 99)], { tags: ['t'] });
  acknowledged.push(...tagged.events.map((e) => e.id));
  const last = await store.append('solo', [event('solo-1', 100)]);
  acknowledged.push(...last.events.map((e) => e.id));

  // What the store left on its connections (every one of its pool's two): the server's setting, on.
  const clients = await Promise.all([pool.connect(), pool.connect()]);
  for (const client of clients) {
    const { rows } = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    expect(rows[0]?.synchronous_commit).toBe('on');
    client.release();
  }

  await server.crash();
  await store.close().catch(() => undefined);
  await pool.end().catch(() => undefined);
  await server.restart();

  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM ${schema}.events ORDER BY position`);
    expect(rows.map((row) => row.id).sort()).toEqual([...acknowledged].sort());
    const { rows: configured } = await client.query<{ setting: string }>(
      `SELECT setting FROM pg_settings WHERE name = 'synchronous_commit'`,
    );
    expect(configured[0]?.setting).toBe('on');
  } finally {
    await client.end();
  }
  const reopened = await createPostgresStore({ connectionString: url, schema });
  try {
    expect(await verifyStore(reopened)).toMatchObject({ ok: true, eventsChecked: acknowledged.length });
  } finally {
    await reopened.close();
  }
}, 120_000);
