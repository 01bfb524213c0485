import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import { computeDigest, verifyStore } from '@partner-ledger/store';
import { Client } from 'pg';
import { createPostgresStore } from './store';
import type { PostgresEventStore as PostgresStore } from './store';
import { startServerProcess } from './testing/server-process';
import type { ServerProcess } from './testing/server-process';

// Reading a ledger from a real hot-standby replica: a primary of its own and a standby made from a base
// backup of it, fed by streaming replication (what a team gets from RDS/Cloud SQL read replicas or its own
// streaming standby). What docs/stores.md promises there: the store opens on the standby with reads only,
// the standby shows a prefix of the primary's log with the same positions, hashes and digest, as-known-at
// by position reads the same events on both once the standby has reached it, a subscription on the standby
// is woken by its poll (LISTEN does not work on a standby) and sees what the primary appends later, and an
// append on the standby is refused by the server, storing nothing.

const at = (n: number): string => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
const event = (id: string, n: number): NewEvent => ({
  id,
  type: 'ReplicaChecked',
  schemaVersion: 1,
  data: { n, amount: `${n}.25` },
  occurredAt: at(n),
  recordedAt: at(n),
  actor: 'test:replica',
  correlationId: 'corr-replica',
  causationId: null,
});
const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};
/** What must be the same on both servers: identity, order and the hash chain. */
const shapeOf = (events: readonly RecordedEvent[]) =>
  events.map((e) => ({
    id: e.id,
    stream: e.stream,
    revision: e.revision,
    position: e.position,
    hash: e.hash,
  }));

let server: ServerProcess;
let primaryUrl: string;
beforeAll(async () => {
  server = await startServerProcess();
  primaryUrl = server.url;
}, 120_000);
afterAll(() => server.stop(), 60_000);

/** Waits until the standby's head reaches `position` (replication is asynchronous). */
const reached = async (standby: PostgresStore, position: number): Promise<void> => {
  const deadline = Date.now() + 30_000;
  while ((await standby.headPosition()) < position) {
    if (Date.now() > deadline) throw new Error(`the standby did not reach position ${position} in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

it('a hot-standby replica opens read-only, shows the primary’s log with the same hashes and digest, follows it by polling, refuses appends, and carries the ledger on once promoted', async () => {
  const schema = 'ledger';
  const primary = await createPostgresStore({ connectionString: primaryUrl, schema });
  let standby: PostgresStore | undefined;
  try {
    // History before the standby exists (in its base backup) ...
    for (let n = 0; n < 5; n += 1) await primary.append(`partner-${n % 2}`, [event(`before-${n}`, n)]);
    const standbyUrl = await server.standby();
    // ... and after (streamed): appends alone, a group commit of concurrent appends, a tagged append.
    await primary.append('partner-0', [event('after-0', 10), event('after-1', 11)]);
    await Promise.all(
      Array.from({ length: 8 }, (_, w) => primary.append(`writer-${w}`, [event(`group-${w}`, 20 + w)])),
    );
    await primary.append('tagged', [event('tagged-0', 40)], { tags: ['t'] });
    const head = await primary.headPosition();
    expect(head).toBe(5 + 2 + 8 + 1 - 1);

    // It is a standby indeed: in recovery, fed by the primary's WAL sender.
    const probe = new Client({ connectionString: standbyUrl });
    await probe.connect();
    try {
      const { rows } = await probe.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering');
      expect(rows[0]?.recovering).toBe(true);
    } finally {
      await probe.end();
    }
    standby = await createPostgresStore({ connectionString: standbyUrl, schema, pollIntervalMs: 50 });
    // Nothing to migrate: the schema came with the backup and the replication.
    expect(standby.migrationsApplied).toEqual([]);
    await reached(standby, head);

    const onPrimary = await collect(primary.readAll());
    const onStandby = await collect(standby.readAll());
    expect(shapeOf(onStandby)).toEqual(shapeOf(onPrimary));
    const verified = await verifyStore(standby);
    expect(verified).toMatchObject({ ok: true, eventsChecked: head + 1 });
    expect(verified.digest).toBe((await verifyStore(primary)).digest);

    // As known at a position the standby has reached: the same events, and the same digest up to it.
    const asKnownAt = { position: 7 };
    expect(shapeOf(await collect(standby.readAll({ asKnownAt })))).toEqual(
      shapeOf(await collect(primary.readAll({ asKnownAt }))),
    );
    expect(await computeDigest(standby, { upToPosition: 7 })).toEqual(
      await computeDigest(primary, { upToPosition: 7 }),
    );

    // A subscription on the standby: catches up, then sees what the primary appends later (its poll).
    const controller = new AbortController();
    const seen: string[] = [];
    let caughtUp: number | undefined;
    const following = (async () => {
      for await (const message of standby.subscribe({ signal: controller.signal })) {
        if (message.kind === 'caughtUp') caughtUp = message.position;
        else {
          seen.push(message.event.id);
          if (message.event.id === 'later-1') controller.abort();
        }
      }
    })();
    while (caughtUp === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(caughtUp).toBe(head);
    await primary.append('partner-1', [event('later-0', 50)]);
    await primary.append('partner-0', [event('later-1', 51)]);
    const timeout = setTimeout(() => controller.abort(), 30_000);
    await following;
    clearTimeout(timeout);
    expect(seen).toEqual([...onPrimary.map((e) => e.id), 'later-0', 'later-1']);

    // The server refuses a write on a standby (25006, read_only_sql_transaction); nothing is stored there
    // or, through it, on the primary.
    const before = await primary.headPosition();
    await expect(standby.append('refused', [event('refused-0', 60)])).rejects.toMatchObject({
      code: '25006',
    });
    expect(await primary.headPosition()).toBe(before);
    expect(await collect(primary.readStream('refused'))).toEqual([]);

    // Failover: the standby, caught up, is promoted; the ledger carries on there. Opening it seals and
    // migrates nothing new; appends continue the same dense positions and the same hash chain, so the
    // digest of the history up to the old head is the one kept before.
    const oldHead = await primary.headPosition();
    const kept = await computeDigest(primary, { upToPosition: oldHead });
    await reached(standby, oldHead);
    await standby.close();
    standby = undefined;
    await primary.close();
    const admin = new Client({ connectionString: standbyUrl });
    await admin.connect();
    try {
      await admin.query('SELECT pg_promote(true, 60)');
    } finally {
      await admin.end();
    }
    const promoted = await createPostgresStore({ connectionString: standbyUrl, schema });
    try {
      expect(promoted.migrationsApplied).toEqual([]);
      const appended = await promoted.append('partner-0', [event('after-failover-0', 70)]);
      expect(appended.events[0]?.position).toBe(oldHead + 1);
      const verifiedAfter = await verifyStore(promoted);
      expect(verifiedAfter).toMatchObject({ ok: true, eventsChecked: oldHead + 2 });
      expect(await computeDigest(promoted, { upToPosition: oldHead })).toEqual(kept);
    } finally {
      await promoted.close();
    }
  } finally {
    await standby?.close();
    await primary.close();
  }
}, 120_000);

it('with synchronous replication, every acknowledged append survives the loss of the primary and a failover to the standby', async () => {
  const schema = 'synchronous';
  const standbyUrl = await server.standby();
  const admin = new Client({ connectionString: primaryUrl });
  await admin.connect();
  try {
    // Commits now wait until the standby has flushed their WAL (synchronous_commit is on by default).
    await admin.query(`ALTER SYSTEM SET synchronous_standby_names = '*'`);
    await admin.query('SELECT pg_reload_conf()');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_replication WHERE sync_state = 'sync'`,
      );
      if ((rows[0]?.n ?? 0) > 0) break;
      if (Date.now() > deadline) throw new Error('the standby did not become synchronous in 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await admin.end();
  }

  const primary = await createPostgresStore({ connectionString: primaryUrl, schema });
  const acknowledged: string[] = [];
  try {
    // The paths an append can take: alone, grouped with concurrent ones, tagged, several events at once.
    acknowledged.push(...(await primary.append('solo', [event('solo-0', 0)])).events.map((e) => e.id));
    const group = await Promise.all(
      Array.from({ length: 16 }, (_, w) => primary.append(`writer-${w}`, [event(`group-${w}`, w)])),
    );
    acknowledged.push(...group.flatMap((r) => r.events.map((e) => e.id)));
    acknowledged.push(
      ...(await primary.append('tagged', [event('tagged-0', 30)], { tags: ['t'] })).events.map((e) => e.id),
    );
    acknowledged.push(
      ...(await primary.append('solo', [event('solo-1', 31), event('solo-2', 32)])).events.map((e) => e.id),
    );
  } finally {
    // The primary is lost right after the last acknowledgement: nothing gets to leave it any more.
    await server.crash();
    await primary.close().catch(() => undefined);
  }

  const promoting = new Client({ connectionString: standbyUrl });
  await promoting.connect();
  try {
    await promoting.query('SELECT pg_promote(true, 60)');
  } finally {
    await promoting.end();
  }
  const promoted = await createPostgresStore({ connectionString: standbyUrl, schema });
  try {
    const ids = (await collect(promoted.readAll())).map((e) => e.id);
    expect([...ids].sort()).toEqual([...acknowledged].sort());
    expect(await verifyStore(promoted)).toMatchObject({ ok: true, eventsChecked: acknowledged.length });
  } finally {
    await promoted.close();
  }
  // Back up, so that the server can be stopped; with no standby left, it must write nothing more.
  await server.restart();
}, 120_000);
