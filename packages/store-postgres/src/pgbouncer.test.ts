import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import {
  AppendConditionFailedError,
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  verifyStore,
} from '@partner-ledger/store';
import type { AppendResult, EventStore } from '@partner-ledger/store';
import { describeEventStoreContract } from '@partner-ledger/store/contract';
import { Client, Pool } from 'pg';
import { createListener } from './listener';
import type { Listener } from './listener';
import { PreparedStatementError, createPostgresStore } from './store';
import type { PostgresEventStore } from './store';
import { dropSchema, testDatabaseUrl, uniqueSchema } from './testing/database';
import { until } from './testing/wait';
import { findPgBouncer, startPgBouncer } from './testing/pgbouncer';
import { spiedPool } from './testing/spied-pool';
import { sqlTampering } from './testing/tamper';
import type { PgBouncer, PoolMode } from './testing/pgbouncer';

// What docs/stores.md promises through PgBouncer (1.18, Debian's package), live: the store pointed at a
// PgBouncer in session mode and in transaction mode, in front of the test server. Under CI=true a missing
// pgbouncer fails these tests; elsewhere they are skipped, with a message saying how to install it.

const installed = findPgBouncer() !== undefined;
const skip = !installed && process.env.CI !== 'true';
if (skip) {
  console.warn(
    'pgbouncer.test.ts skipped: pgbouncer is not installed (Debian: apt-get install -y pgbouncer; CI=true fails instead)',
  );
}

const event = (id: string, n = 0): NewEvent => ({
  id,
  type: 'PgBouncerChecked',
  schemaVersion: 1,
  data: { n, amount: `${n}.25` },
  occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  recordedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  actor: 'test:pgbouncer',
  correlationId: 'corr-pgbouncer',
  causationId: null,
});

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

const serverUrl = testDatabaseUrl();

/** The calls of the two append functions a spied pool saw, in the order sent. */
const appendCalls = (sent: readonly { name?: string; text: string; values?: unknown }[]) =>
  sent.filter((q) => q.text.startsWith('SELECT') && /\.append_(v6|group_v7)\(/.test(q.text));
/** The SQLSTATE of each failure a spied pool saw. */
const codesOf = (failures: readonly unknown[]) => failures.map((e) => (e as { code?: unknown }).code);

(skip ? describe.skip : describe).each<PoolMode>(['session', 'transaction'])(
  'through PgBouncer, pool_mode = %s',
  (mode) => {
    let bouncer: PgBouncer;
    let schema: string;
    const opened: PostgresEventStore[] = [];
    const open = async (
      options: { pollIntervalMs?: number; preparedStatements?: boolean } = {},
    ): Promise<PostgresEventStore> => {
      const store = await createPostgresStore({ connectionString: bouncer.url, schema, ...options });
      opened.push(store);
      return store;
    };

    beforeAll(async () => {
      // Enough server connections for every store's pool in session mode (each client keeps its own).
      bouncer = await startPgBouncer(serverUrl, mode, { default_pool_size: '60' });
    });
    afterAll(async () => {
      await bouncer?.stop();
    });
    beforeEach(() => {
      schema = uniqueSchema(`bouncer_${mode.slice(0, 5)}`);
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await dropSchema(serverUrl, schema);
    });

    it('migrates a new schema once when two stores open it at the same time', async () => {
      const [a, b] = await Promise.all([open(), open()]);
      const applied = [a.migrationsApplied, b.migrationsApplied].sort((x, y) => y.length - x.length);
      expect(applied).toEqual([[1, 2, 3, 4, 5, 6, 7], []]);
      await a.append('s', [event('m-0')]);
      expect((await collect(b.readAll())).map((e) => e.id)).toEqual(['m-0']);
    });

    it('sends its groups of appends without a failed statement (a group that failed would be retried alone, unseen)', async () => {
      const { pool, sent, failures } = spiedPool(bouncer.url);
      try {
        const store = await createPostgresStore({ pool, schema });
        opened.push(store);
        for (let round = 0; round < 5; round += 1) {
          await Promise.all(
            Array.from({ length: 12 }, (_, i) => store.append(`grp-${i}`, [event(`grp-${round}-${i}`, i)])),
          );
        }
        expect(failures).toEqual([]);
        expect(
          sent.filter((q) => q.text.startsWith('SELECT') && q.text.includes('append_group_v7(')).length,
        ).toBeGreaterThanOrEqual(5);
        expect((await collect(store.readAll())).map((e) => e.position)).toEqual(
          Array.from({ length: 60 }, (_, i) => i),
        );
      } finally {
        await Promise.all(opened.splice(0).map((store) => store.close()));
        await pool.end();
      }
    });

    it('decides concurrent appends: expected revisions, groups, conditions, retries; readAll and verify agree', async () => {
      const [a, b, reader] = [await open(), await open(), await open()];
      const acknowledged: AppendResult[] = [];
      // Two stores race for each revision of one stream: exactly one append wins each round.
      for (let round = 0; round < 10; round += 1) {
        const expectedRevision = round === 0 ? ('noStream' as const) : round - 1;
        const outcomes = await Promise.allSettled(
          [a, b].map((store, k) =>
            store.append('shared', [event(`shared-${round}-${k}`, round)], { expectedRevision }),
          ),
        );
        const won = outcomes.filter(
          (o): o is PromiseFulfilledResult<AppendResult> => o.status === 'fulfilled',
        );
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost[0]?.reason).toBeInstanceOf(WrongExpectedRevisionError);
        acknowledged.push(...won.map((o) => o.value));
      }
      // Many appends at once through each store: grouped into one statement per group.
      const many = await Promise.all(
        [a, b].flatMap((store, k) =>
          Array.from({ length: 30 }, (_, i) =>
            store.append(`own-${k}-${i % 10}`, [event(`own-${k}-${i}`, i)]),
          ),
        ),
      );
      acknowledged.push(...many);
      // Conditional appends on one tag: exactly one wins.
      const conditional = await Promise.allSettled(
        [a, b, a, b].map((store, k) =>
          store.append(`cond-${k}`, [event(`cond-${k}`, k)], {
            tags: ['partner:p1'],
            condition: { failIfTagged: ['partner:p1'], after: -1 },
          }),
        ),
      );
      const condWon = conditional.filter(
        (o): o is PromiseFulfilledResult<AppendResult> => o.status === 'fulfilled',
      );
      expect(condWon).toHaveLength(1);
      for (const o of conditional) {
        if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(AppendConditionFailedError);
      }
      acknowledged.push(...condWon.map((o) => o.value));
      // A retry of an acknowledged append (the same id and body) is recognised; another body is refused.
      const first = acknowledged[0] as AppendResult;
      const retried = await b.append('shared', [event(first.events[0]?.id as string, 0)]);
      expect(retried).toMatchObject({ alreadyStored: true, lastPosition: first.lastPosition });
      await expect(b.append('shared', [event(first.events[0]?.id as string, 99)])).rejects.toBeInstanceOf(
        DuplicateEventIdError,
      );

      const all = await collect(reader.readAll());
      const ids = acknowledged.flatMap((r) => r.events.map((e) => e.id));
      expect(all.map((e) => e.position)).toEqual(Array.from({ length: ids.length }, (_, i) => i));
      expect(new Set(all.map((e) => e.id))).toEqual(new Set(ids));
      for (const r of acknowledged) {
        for (const e of r.events) expect(all[e.position]?.id).toBe(e.id);
      }
      expect((await verifyStore(reader)).ok).toBe(true);
    });

    if (mode === 'session') {
      it('with the option unset (named statements): appends alone and in groups from two stores, racing on one stream, all by name, none refused; readAll and verify agree', async () => {
        const spied = [spiedPool(bouncer.url), spiedPool(bouncer.url)];
        // One after the other: the schema is new (the test of two stores opening it at once is above).
        const a = await createPostgresStore({
          pool: (spied[0] as ReturnType<typeof spiedPool>).pool,
          schema,
        });
        opened.push(a);
        const b = await createPostgresStore({
          pool: (spied[1] as ReturnType<typeof spiedPool>).pool,
          schema,
        });
        opened.push(b);
        let count = 0;
        for (let round = 0; round < 8; round += 1) {
          const outcomes = await Promise.allSettled([
            ...[a, b].map((store, k) =>
              store.append('ps-shared', [event(`ps-shared-${round}-${k}`, round)], {
                expectedRevision: round === 0 ? 'noStream' : round - 1,
              }),
            ),
            ...[a, b].flatMap((store, k) =>
              Array.from({ length: 6 }, (_, i) =>
                store.append(`ps-${k}-${i}`, [event(`ps-${round}-${k}-${i}`, i)]),
              ),
            ),
          ]);
          const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
          expect(lost).toHaveLength(1);
          expect(lost[0]?.reason).toBeInstanceOf(WrongExpectedRevisionError);
          count += outcomes.length - 1;
        }
        const all = await collect(a.readAll());
        expect(all.map((e) => e.position)).toEqual(Array.from({ length: count }, (_, i) => i));
        expect((await verifyStore(b)).ok).toBe(true);
        // Session mode keeps each client's server connection, so its statements: every call went by name.
        for (const { sent, failures } of spied) {
          expect(failures).toEqual([]);
          const calls = appendCalls(sent);
          expect(calls.some((q) => q.text.includes('.append_group_v7('))).toBe(true);
          expect(calls.filter((q) => q.name === undefined)).toEqual([]);
        }
        await Promise.all(opened.splice(0).map((store) => store.close()));
        await Promise.all(spied.map(({ pool }) => pool.end()));
      });
    } else {
      it('with preparedStatements: true (strict, what docs/stores.md warns against here): a statement prepared on one server connection meets another, the append is refused with PreparedStatementError and stores nothing', async () => {
        // A PgBouncer of its own, so that the test knows its server connections: one at first, a second
        // only when the first is taken.
        const small = await startPgBouncer(serverUrl, 'transaction', { default_pool_size: '2' });
        const pools = [1, 2].map(() => {
          const pool = new Pool({ connectionString: small.url, max: 1 });
          pool.on('error', () => undefined);
          return pool;
        });
        const holder = new Client({ connectionString: small.url });
        const refusal = async (appending: Promise<unknown>): Promise<Error> => {
          const error: unknown = await appending.then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(PreparedStatementError);
          return error as Error;
        };
        try {
          const [a, b] = await Promise.all(
            pools.map((pool) => createPostgresStore({ pool, schema, preparedStatements: true })),
          );
          opened.push(a as PostgresEventStore, b as PostgresEventStore);
          // a prepares its append on the one server connection.
          await a?.append('pt-a', [event('pt-0')]);
          // b prepares the same statement (same schema, same name) on that connection, which has it.
          expect((await refusal(b?.append('pt-b', [event('pt-1', 1)]) as Promise<unknown>)).message).toMatch(
            /prepared statement "pl_append_v6_[0-9a-f]{16}" already exists/,
          );
          // Another client holds that server connection in a transaction: a's next append runs on a
          // second one, which never saw the statement.
          await holder.connect();
          await holder.query('BEGIN');
          await holder.query('SELECT 1');
          expect((await refusal(a?.append('pt-a', [event('pt-2', 2)]) as Promise<unknown>)).message).toMatch(
            /prepared statement "pl_append_v6_[0-9a-f]{16}" does not exist/,
          );
          await holder.query('COMMIT');
          // What was refused stored nothing; unnamed statements work through the same PgBouncer.
          const plain = await open({ preparedStatements: false });
          await plain.append('pt-plain', [event('pt-3', 3)]);
          expect((await collect(plain.readAll())).map((e) => e.id)).toEqual(['pt-0', 'pt-3']);
          expect((await verifyStore(plain)).ok).toBe(true);
        } finally {
          await holder.end().catch(() => undefined);
          await Promise.all(opened.splice(0).map((store) => store.close()));
          await Promise.all(pools.map((pool) => pool.end()));
          await small.stop();
        }
      });
    }

    if (mode === 'transaction') {
      it('with the option unset: a statement met on a server connection that has it (already exists) or lacks it (does not exist) is sent again unnamed; each append stored once, and each store names nothing from then on', async () => {
        // As in the test above: one server connection at first, a second only when a client holds the first.
        const small = await startPgBouncer(serverUrl, 'transaction', { default_pool_size: '2' });
        const spied = [spiedPool(small.url, 1), spiedPool(small.url, 1)];
        const holder = new Client({ connectionString: small.url });
        try {
          const [a, b] = [
            await createPostgresStore({ pool: (spied[0] as ReturnType<typeof spiedPool>).pool, schema }),
            await createPostgresStore({ pool: (spied[1] as ReturnType<typeof spiedPool>).pool, schema }),
          ];
          opened.push(a, b);
          const [sa, sb] = spied as [ReturnType<typeof spiedPool>, ReturnType<typeof spiedPool>];
          // a prepares its append on the one server connection.
          await a.append('pt-a', [event('pt-0')]);
          expect(codesOf(sa.failures)).toEqual([]);
          // b's client sends Parse under the same name on that connection, which has it: refused, then
          // the same append unnamed.
          await b.append('pt-b', [event('pt-1', 1)]);
          expect(codesOf(sb.failures)).toEqual(['42P05']);
          expect(appendCalls(sb.sent).map((q) => q.name)).toEqual([
            expect.stringMatching(/^pl_append_v6_/),
            undefined,
          ]);
          // Another client holds that server connection in a transaction: a's next append runs on a second
          // one, which never saw the statement: refused at Bind, then sent again unnamed.
          await holder.connect();
          await holder.query('BEGIN');
          await holder.query('SELECT 1');
          const second = await a.append('pt-a', [event('pt-2', 2)]);
          expect(second).toMatchObject({ alreadyStored: false, nextExpectedRevision: 1 });
          expect(codesOf(sa.failures)).toEqual(['26000']);
          await holder.query('COMMIT');
          // From then on both stores send everything unnamed, alone and in groups, and nothing is refused.
          const before = [sa, sb].map((x) => appendCalls(x.sent).length);
          await Promise.all(
            [a, b].flatMap((store, k) =>
              Array.from({ length: 10 }, (_, i) => store.append(`pt-${k}-${i}`, [event(`pt-${k}-${i}`, i)])),
            ),
          );
          [sa, sb].forEach((x, k) => {
            const later = appendCalls(x.sent).slice(before[k]);
            expect(later.length).toBeGreaterThan(0);
            expect(later.filter((q) => q.name !== undefined)).toEqual([]);
          });
          expect(codesOf(sa.failures)).toEqual(['26000']);
          expect(codesOf(sb.failures)).toEqual(['42P05']);
          const all = await collect(a.readAll());
          expect(all.slice(0, 3).map((e) => e.id)).toEqual(['pt-0', 'pt-1', 'pt-2']);
          expect(new Set(all.map((e) => e.id)).size).toBe(23);
          expect(all.map((e) => e.position)).toEqual(Array.from({ length: 23 }, (_, i) => i));
          expect(await verifyStore(b)).toMatchObject({ ok: true, eventsChecked: 23 });
        } finally {
          await holder.end().catch(() => undefined);
          await Promise.all(opened.splice(0).map((store) => store.close()));
          await Promise.all(spied.map(({ pool }) => pool.end()));
          await small.stop();
        }
      });

      it('with the option unset: six store instances, eight writers each, through three server connections: every acknowledged event present once, dense, verify ok', async () => {
        const small = await startPgBouncer(serverUrl, 'transaction', { default_pool_size: '3' });
        const spied = Array.from({ length: 6 }, () => spiedPool(small.url, 4));
        try {
          const stores: PostgresEventStore[] = [];
          for (const { pool } of spied) stores.push(await createPostgresStore({ pool, schema }));
          opened.push(...stores);
          const acknowledged: string[] = [];
          await Promise.all(
            stores.flatMap((store, s) =>
              Array.from({ length: 8 }, async (_, w) => {
                for (let i = 0; i < 12; i += 1) {
                  // Own streams (grouped), and one stream all writers share (no expected revision).
                  const stream = i % 4 === 3 ? 'shared' : `w-${s}-${w}`;
                  const result = await store.append(stream, [event(`c-${s}-${w}-${i}`, i)]);
                  acknowledged.push(...result.events.map((e) => e.id));
                }
              }),
            ),
          );
          const all = await collect((stores[0] as PostgresEventStore).readAll());
          const ids = all.map((e) => e.id);
          expect(acknowledged).toHaveLength(6 * 8 * 12);
          expect(ids).toHaveLength(acknowledged.length);
          expect(new Set(ids)).toEqual(new Set(acknowledged));
          expect(all.map((e) => e.position)).toEqual(ids.map((_, i) => i));
          expect(await verifyStore(stores[5] as PostgresEventStore)).toMatchObject({
            ok: true,
            eventsChecked: acknowledged.length,
          });
          // Statements were lost (the stores share names, and three server connections serve them all), and
          // a refusal of a lost statement is the only failure any store met.
          const codes = spied.flatMap(({ failures }) => codesOf(failures));
          expect(codes.length).toBeGreaterThan(0);
          expect(codes.filter((code) => code !== '26000' && code !== '42P05')).toEqual([]);
          // At most one loss per store and statement in flight; the rest unnamed.
          for (const { sent, failures } of spied) {
            const named = appendCalls(sent).filter((q) => q.name !== undefined).length;
            if (failures.length > 0) expect(appendCalls(sent).length).toBeGreaterThan(named);
          }
        } finally {
          await Promise.all(opened.splice(0).map((store) => store.close()));
          await Promise.all(spied.map(({ pool }) => pool.end()));
          await small.stop();
        }
      });
    }

    it(
      mode === 'session'
        ? 'wakes a subscription by LISTEN/NOTIFY (the poll an hour away) with every event once, in order'
        : 'delivers every event once, in order, to a subscription woken by its poll (LISTEN is not used)',
      async () => {
        const subscriber = await open({ pollIntervalMs: mode === 'session' ? 3_600_000 : 200 });
        const appender = await open();
        const controller = new AbortController();
        const seen: RecordedEvent[] = [];
        let caughtUp = false;
        const subscription = (async () => {
          for await (const message of subscriber.subscribe({ signal: controller.signal })) {
            if (message.kind === 'caughtUp') caughtUp = true;
            else seen.push(message.event);
          }
        })();
        await until(
          () => caughtUp,
          () => 'never caught up',
          10_000,
        );
        // Let the listener connect and probe (or give up) before the appends.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const total = 40;
        await Promise.all(
          Array.from({ length: total }, (_, i) => appender.append(`live-${i % 7}`, [event(`live-${i}`, i)])),
        );
        await until(
          () => seen.length >= total,
          () => `saw ${seen.length} of ${total} events`,
          10_000,
        );
        controller.abort();
        await subscription;
        expect(seen.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => i));
        expect(seen).toEqual(await collect(appender.readAll()));
      },
    );

    it(
      mode === 'session'
        ? 'the listener finds that notifications reach it, and listens'
        : 'the listener finds that notifications do not reach it, and never listens on the store channel',
      async () => {
        const admin = new Client({ connectionString: bouncer.url });
        await admin.connect();
        let woken = 0;
        let listener: Listener | undefined;
        try {
          const channel = `partner_ledger_${schema}`;
          listener = createListener({
            poolConfig: { connectionString: bouncer.url },
            channel,
            pollIntervalMs: 3_600_000,
            probeTimeoutMs: 2_000,
            onWake: () => {
              woken += 1;
            },
            onPoll: async () => undefined,
            probe: async (probeChannel, payload) => {
              await admin.query('SELECT pg_notify($1, $2)', [probeChannel, payload]);
            },
          });
          const current = listener;
          await until(
            () => current.connected() || !current.notificationsArrive(),
            () => 'the listener neither listened nor gave up',
            10_000,
          );
          if (mode === 'session') {
            expect(listener.connected()).toBe(true);
            const before = woken;
            await admin.query('SELECT pg_notify($1, $2)', [channel, '7']);
            await until(
              () => woken > before,
              () => 'no wake-up from a NOTIFY',
              5_000,
            );
          } else {
            expect(listener.notificationsArrive()).toBe(false);
            expect(listener.connected()).toBe(false);
            expect(listener.connections()).toBe(0);
          }
        } finally {
          await listener?.stop();
          await admin.end();
        }
      },
    );
  },
);

// The shared contract suite through PgBouncer 1.18 in transaction mode, with the default options (named
// statements): three server connections for all the clients of each test's store, so that a statement
// prepared on one meets another that lacks it (or has it already), and the store falls back to unnamed
// statements in the middle of the test. A large stream of 10,000 events instead of 100,000: the suite's
// other tests are what this run is for.
(skip ? describe.skip : describe)('the contract suite through PgBouncer, pool_mode = transaction', () => {
  let small: PgBouncer;
  beforeAll(async () => {
    small = await startPgBouncer(serverUrl, 'transaction', { default_pool_size: '3' });
  });
  afterAll(async () => {
    await small?.stop();
  });
  describeEventStoreContract(
    'PostgreSQL store through PgBouncer in transaction mode, preparedStatements unset',
    async () => {
      const schema = uniqueSchema('contract_bouncer');
      const open = () => createPostgresStore({ connectionString: small.url, schema, pollIntervalMs: 200 });
      let current: EventStore = await open();
      const tampering = sqlTampering(serverUrl, schema);
      const reopenAfter = (change: () => Promise<void>) => async (): Promise<EventStore> => {
        await current.close();
        await change();
        current = await open();
        return current;
      };
      return {
        store: current,
        reopen: reopenAfter(async () => undefined),
        cleanup: async () => {
          await current.close();
          await dropSchema(serverUrl, schema);
        },
        tamper: {
          editEventData: (position, data) => reopenAfter(() => tampering.editEventData(position, data))(),
          deleteEvent: (position) => reopenAfter(() => tampering.deleteEvent(position))(),
          swapEvents: (a, b) => reopenAfter(() => tampering.swapEvents(a, b))(),
          insertEvent: (position, event) => reopenAfter(() => tampering.insertEvent(position, event))(),
        },
      };
    },
    { canReopen: true, canTamper: true, largeStreamEvents: 10_000 },
  );
});
