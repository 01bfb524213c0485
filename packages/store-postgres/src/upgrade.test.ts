import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import { canonicalDataOf, chainEvents, verifyStore } from '@partner-ledger/store';
import { Client } from 'pg';
import type { QueryResult, QueryResultRow } from 'pg';
import { APPEND_GROUP_V7, APPEND_V6 } from './schema';
import { createPostgresStore } from './store';
import type { PostgresEventStore } from './store';
import { dropSchema, testDatabaseUrl, uniqueSchema } from './testing/database';

// A rolling upgrade: instances of the previous version (migration 5's client) keep appending while an
// instance of this version opens the schema, applies migration 6, and appends beside them. The previous
// version's client is driven here by the exact messages it sent (its store.ts before migration 6): a single
// append as `BEGIN; SET LOCAL synchronous_commit = off; SELECT ... append(<literals>) ...; COMMIT; SELECT ...
// seal_written()`, a group as the same transaction with one call per append, then `seal_wait` of the
// group's newest batch and a query of its positions.

const url = testDatabaseUrl();

const event = (id: string, n: number): NewEvent => ({
  id,
  type: 'UpgradeChecked',
  schemaVersion: 1,
  data: { n, amount: `${n}.50`, note: 'it\'s {quoted}, \\ and "so"' },
  occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  recordedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  actor: 'test:upgrade',
  correlationId: 'corr-upgrade',
  causationId: null,
});

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

interface Acknowledged {
  readonly id: string;
  readonly position: number;
}

/** A writer of the previous version: one connection, the stream heads it learnt, its messages. */
const previousVersionWriter = (client: Client, schema: string) => {
  const heads = new Map<string, { revision: number; hash: string | null }>();
  const literal = (value: string | null): string => (value === null ? 'NULL' : client.escapeLiteral(value));
  const texts = (values: readonly (string | null)[]): string =>
    `ARRAY[${values.map(literal).join(',')}]::text[]`;
  const ints = (values: readonly number[]): string => `ARRAY[${values.join(',')}]::integer[]`;
  /** The previous version's `SELECT ... FROM append(...)` of one append, chained on the head it remembers. */
  const call = (stream: string, events: readonly NewEvent[]) => {
    const head = heads.get(stream) ?? { revision: -1, hash: null };
    const previous = head.revision < 0 ? undefined : { revision: head.revision, hash: head.hash as string };
    const chained = chainEvents(stream, previous, events);
    const dataTexts = events.map((e, i) => canonicalDataOf(stream, i, e));
    const args = [
      literal(stream),
      literal('any'),
      String(head.revision),
      literal(head.hash),
      texts([]),
      texts([]),
      '-1',
      texts(chained.map((e) => e.id)),
      ints(chained.map((e) => e.revision)),
      texts(chained.map((e) => e.type)),
      ints(chained.map((e) => e.schemaVersion)),
      texts(chained.map((e) => e.occurredAt)),
      texts(chained.map((e) => e.recordedAt)),
      texts(chained.map((e) => e.actor)),
      texts(chained.map((e) => e.correlationId)),
      texts(chained.map((e) => e.causationId)),
      texts(dataTexts),
      texts(dataTexts),
      texts(chained.map((e) => e.prevHash)),
      texts(chained.map((e) => e.hash)),
    ];
    const select = `SELECT (r).r_status AS status, (r).r_batch::text AS batch, (r).r_last_revision AS last_revision, (r).r_last_hash AS last_hash, (r).r_tag AS tag, (r).r_tag_position::text AS tag_position FROM (SELECT ${schema}.append(${args.join(',')}) AS r OFFSET 0) AS a`;
    return { stream, chained, select };
  };
  type Answer = { status: string; last_revision: number; last_hash: string | null };
  const learn = (stream: string, answer: Answer): void => {
    heads.set(stream, { revision: answer.last_revision, hash: answer.last_hash });
  };
  const send = async (sql: string): Promise<QueryResult<QueryResultRow>[]> => {
    try {
      return (await client.query(sql)) as unknown as QueryResult<QueryResultRow>[];
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  };
  return {
    /** One append alone; 'stale' when another instance appended to the stream meanwhile. */
    single: async (stream: string, events: readonly NewEvent[]): Promise<Acknowledged[] | 'stale'> => {
      const c = call(stream, events);
      const results = await send(
        `BEGIN; SET LOCAL synchronous_commit = off; ${c.select}; COMMIT; SELECT sealed::text AS sealed, own_positions::text[] AS own_positions FROM ${schema}.seal_written()`,
      );
      const answer = results[2]?.rows[0] as Answer;
      learn(stream, answer);
      if (answer.status === 'stale') return 'stale';
      if (answer.status !== 'written') throw new Error(`unexpected answer ${answer.status}`);
      const positions = (results[4]?.rows[0] as { own_positions: string[] | null }).own_positions;
      if (positions === null) throw new Error(`seal_written gave no positions for ${c.chained[0]?.id}`);
      return c.chained.map((e, i) => ({ id: e.id, position: Number(positions[i]) }));
    },
    /** A group of appends to distinct streams, in stream order, in one transaction. */
    group: async (
      appends: readonly (readonly [string, readonly NewEvent[]])[],
    ): Promise<(Acknowledged[] | 'stale')[]> => {
      const calls = [...appends].sort(([a], [b]) => (a < b ? -1 : 1)).map(([s, e]) => call(s, e));
      const ids = texts(calls.flatMap((c) => c.chained.map((e) => e.id)));
      const results = await send(
        `BEGIN; SET LOCAL synchronous_commit = off; ${calls.map((c) => `${c.select}; `).join('')}COMMIT; ` +
          `SELECT sealed::text AS sealed FROM ${schema}.seal_wait((SELECT max(batch) FROM ${schema}.events WHERE id = ANY(${ids}))); ` +
          `SELECT id, position::text AS position_text FROM ${schema}.events WHERE id = ANY(${ids})`,
      );
      const positionOf = new Map(
        (results[results.length - 1]?.rows as { id: string; position_text: string | null }[]).map((row) => [
          row.id,
          row.position_text,
        ]),
      );
      return calls.map((c, index) => {
        const answer = results[2 + index]?.rows[0] as Answer;
        learn(c.stream, answer);
        if (answer.status === 'stale') return 'stale';
        if (answer.status !== 'written') throw new Error(`unexpected answer ${answer.status}`);
        return c.chained.map((e) => {
          const position = positionOf.get(e.id);
          if (position === null || position === undefined) throw new Error(`${e.id} acknowledged unnumbered`);
          return { id: e.id, position: Number(position) };
        });
      });
    },
  };
};

let schema: string;
const opened: PostgresEventStore[] = [];
const clients: Client[] = [];
beforeEach(() => {
  schema = uniqueSchema('upgrade');
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  await Promise.all(clients.splice(0).map((client) => client.end()));
  await dropSchema(url, schema);
});

it('instances of the previous version (migration 5, seal_written) append beside this version while it applies migration 6 and after: every acknowledged event once, positions dense, verify ok', async () => {
  // The schema as the previous version left it: migrations 1 to 5.
  const admin = new Client({ connectionString: url });
  await admin.connect();
  clients.push(admin);
  await (await createPostgresStore({ connectionString: url, schema })).close();
  await admin.query(
    `DROP FUNCTION ${schema}.${APPEND_V6}; DELETE FROM ${schema}.schema_migrations WHERE version = 6`,
  );

  const acknowledged: Acknowledged[] = [];
  let stop = false;
  let n = 0;
  // Three writers of the previous version: each appends alone and in groups, to its own streams and to one
  // stream that every writer, old and new, appends to.
  const oldWriters = await Promise.all(
    [0, 1, 2].map(async (w) => {
      const client = new Client({ connectionString: url });
      await client.connect();
      clients.push(client);
      return { w, writer: previousVersionWriter(client, schema) };
    }),
  );
  let oldRounds = 0;
  const oldLoops = oldWriters.map(async ({ w, writer }) => {
    for (let round = 0; !stop || round < 10; round += 1) {
      oldRounds += 1;
      const k = (n += 1);
      if (round % 2 === 0) {
        let result = await writer.single('shared', [event(`old-${w}-${k}-shared`, k)]);
        while (result === 'stale') result = await writer.single('shared', [event(`old-${w}-${k}-shared`, k)]);
        acknowledged.push(...result);
      } else {
        const group = await writer.group([
          [`old-${w}-a`, [event(`old-${w}-${k}-a`, k)]],
          [`old-${w}-b`, [event(`old-${w}-${k}-b0`, k), event(`old-${w}-${k}-b1`, k)]],
        ]);
        for (const result of group) {
          if (result === 'stale') throw new Error('an old writer is the only writer of its own streams');
          acknowledged.push(...result);
        }
      }
    }
  });

  // While they run: this version opens the schema (migration 6), subscribes, and appends beside them.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const roundsBeforeUpgrade = oldRounds;
  const stores = await Promise.all([0, 1].map(() => createPostgresStore({ connectionString: url, schema })));
  opened.push(...stores);
  expect(stores.map((s) => s.migrationsApplied).flat()).toEqual([6]);
  const controller = new AbortController();
  const seen: RecordedEvent[] = [];
  const subscription = (async () => {
    for await (const message of (stores[0] as PostgresEventStore).subscribe({ signal: controller.signal })) {
      if (message.kind === 'event') seen.push(message.event);
    }
  })();
  const newLoops = stores.map(async (store, s) => {
    for (let round = 0; round < 40; round += 1) {
      const k = (n += 1);
      const results = await Promise.all([
        store.append('shared', [event(`new-${s}-${k}-shared`, k)]),
        store.append(`new-${s}-${round % 3}`, [event(`new-${s}-${k}-own`, k)]),
      ]);
      acknowledged.push(...results.flatMap((r) => r.events.map((e) => ({ id: e.id, position: e.position }))));
    }
  });
  await Promise.all(newLoops);
  stop = true;
  await Promise.all(oldLoops);
  expect(roundsBeforeUpgrade).toBeGreaterThan(0);
  expect(oldRounds).toBeGreaterThan(roundsBeforeUpgrade + 30);

  const all = await collect((stores[1] as PostgresEventStore).readAll());
  expect(all.map((e) => e.position)).toEqual(Array.from({ length: acknowledged.length }, (_, i) => i));
  for (const { id, position } of acknowledged) expect(all[position]?.id).toBe(id);
  // Each stream's revisions are dense and its hash chain holds.
  expect(await verifyStore(stores[1] as PostgresEventStore)).toMatchObject({
    ok: true,
    eventsChecked: acknowledged.length,
  });
  const deadline = Date.now() + 10_000;
  while (seen.length < all.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  controller.abort();
  await subscription;
  expect(seen).toEqual(all);
});

/**
 * A writer of the version before migration 7 (store.ts at 73ec723): a single append as one `append_v6` call
 * with parameters, a group as one statement of `append_v6` calls joined by UNION ALL; when the seal lock was
 * busy, `seal_wait` of its newest batch and a query of its positions.
 */
const v6Writer = (client: Client, schema: string) => {
  const heads = new Map<string, { revision: number; hash: string | null }>();
  const types = [
    'text',
    'text',
    'integer',
    'text',
    'text[]',
    'text[]',
    'bigint',
    'text[]',
    'integer[]',
    'text[]',
    'integer[]',
    ...Array.from({ length: 9 }, () => 'text[]'),
  ];
  const select = (first: number): string =>
    `SELECT (r).r_status AS status, (r).r_batch::text AS batch, (r).r_last_revision AS last_revision, (r).r_last_hash AS last_hash, (r).r_first_position::text AS first_position FROM (SELECT ${schema}.${APPEND_V6}(${types.map((type, i) => `$${first + i}::${type}`).join(', ')}) AS r OFFSET 0) AS a`;
  const args = (stream: string, events: readonly NewEvent[]) => {
    const head = heads.get(stream) ?? { revision: -1, hash: null };
    const previous = head.revision < 0 ? undefined : { revision: head.revision, hash: head.hash as string };
    const chained = chainEvents(stream, previous, events);
    const dataTexts = events.map((e, i) => canonicalDataOf(stream, i, e));
    return {
      stream,
      chained,
      values: [
        stream,
        'any',
        head.revision,
        head.hash,
        [],
        [],
        -1,
        chained.map((e) => e.id),
        chained.map((e) => e.revision),
        chained.map((e) => e.type),
        chained.map((e) => e.schemaVersion),
        chained.map((e) => e.occurredAt),
        chained.map((e) => e.recordedAt),
        chained.map((e) => e.actor),
        chained.map((e) => e.correlationId),
        chained.map((e) => e.causationId),
        dataTexts,
        dataTexts,
        chained.map((e) => e.prevHash),
        chained.map((e) => e.hash),
      ],
    };
  };
  type Answer = {
    status: string;
    batch: string | null;
    last_revision: number;
    last_hash: string | null;
    first_position: string | null;
  };
  /** Appends to distinct streams, alone (one) or as a group (several); 'stale' for an append on a stale head. */
  return async (
    appends: readonly (readonly [string, readonly NewEvent[]])[],
  ): Promise<(Acknowledged[] | 'stale')[]> => {
    const calls = [...appends]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([stream, events]) => args(stream, events));
    const { rows } = await client.query<Answer>(
      calls.map((_, k) => select(k * types.length + 1)).join(' UNION ALL '),
      calls.flatMap((c) => c.values),
    );
    const written = rows.filter((row) => row.status === 'written');
    let positionOf: Map<string, string | null> | undefined;
    if (written.some((row) => row.first_position === null)) {
      const batches = written.map((row) => row.batch as string);
      await client.query(
        `SELECT sealed FROM ${schema}.seal_wait((SELECT max(b) FROM unnest($1::bigint[]) AS b))`,
        [batches],
      );
      const stored = await client.query<{ id: string; position_text: string | null }>(
        `SELECT id, position::text AS position_text FROM ${schema}.events WHERE batch = ANY($1::bigint[])`,
        [batches],
      );
      positionOf = new Map(stored.rows.map((row) => [row.id, row.position_text]));
    }
    return calls.map((c, k) => {
      const answer = rows[k] as Answer;
      heads.set(c.stream, { revision: answer.last_revision, hash: answer.last_hash });
      if (answer.status === 'stale') return 'stale';
      if (answer.status !== 'written') throw new Error(`unexpected answer ${answer.status}`);
      return c.chained.map((e, i) => {
        const position =
          positionOf === undefined ? Number(answer.first_position) + i : Number(positionOf.get(e.id));
        if (!Number.isSafeInteger(position)) throw new Error(`${e.id} acknowledged unnumbered`);
        return { id: e.id, position };
      });
    });
  };
};

it('instances of the previous version (append_v6 alone and in UNION ALL groups) append beside this version while it applies migration 7 and after: every acknowledged event once, positions dense, verify ok', async () => {
  // The schema as the previous version left it: migrations 1 to 6.
  const admin = new Client({ connectionString: url });
  await admin.connect();
  clients.push(admin);
  await (await createPostgresStore({ connectionString: url, schema })).close();
  await admin.query(
    `DROP FUNCTION ${schema}.${APPEND_GROUP_V7}; DELETE FROM ${schema}.schema_migrations WHERE version = 7`,
  );
  const acknowledged: Acknowledged[] = [];
  let stop = false;
  let n = 0;
  let oldRounds = 0;
  const oldLoops = [0, 1, 2].map(async (w) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    const write = v6Writer(client, schema);
    for (let round = 0; !stop || round < 10; round += 1) {
      oldRounds += 1;
      const k = (n += 1);
      if (round % 2 === 0) {
        let [result] = await write([['shared', [event(`v6-${w}-${k}-shared`, k)]]]);
        while (result === 'stale') [result] = await write([['shared', [event(`v6-${w}-${k}-shared`, k)]]]);
        acknowledged.push(...(result as Acknowledged[]));
      } else {
        const group = await write([
          [`v6-${w}-a`, [event(`v6-${w}-${k}-a`, k)]],
          [`v6-${w}-b`, [event(`v6-${w}-${k}-b0`, k), event(`v6-${w}-${k}-b1`, k)]],
        ]);
        for (const result of group) {
          if (result === 'stale') throw new Error('an old writer is the only writer of its own streams');
          acknowledged.push(...result);
        }
      }
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const roundsBeforeUpgrade = oldRounds;
  const stores = await Promise.all([0, 1].map(() => createPostgresStore({ connectionString: url, schema })));
  opened.push(...stores);
  expect(stores.map((s) => s.migrationsApplied).flat()).toEqual([7]);
  // This version's appends at once through each store: groups (append_group_v7) beside the old writers.
  const newLoops = stores.map(async (store, s) => {
    for (let round = 0; round < 20; round += 1) {
      const k = (n += 1);
      const results = await Promise.all([
        store.append('shared', [event(`v7-${s}-${k}-shared`, k)]),
        ...[0, 1, 2, 3].map((i) =>
          store.append(
            `v7-${s}-${i}`,
            Array.from({ length: 1 + (i % 2) }, (_, j) => event(`v7-${s}-${k}-${i}-${j}`, k)),
          ),
        ),
      ]);
      acknowledged.push(...results.flatMap((r) => r.events.map((e) => ({ id: e.id, position: e.position }))));
    }
  });
  await Promise.all(newLoops);
  stop = true;
  await Promise.all(oldLoops);
  expect(roundsBeforeUpgrade).toBeGreaterThan(0);
  expect(oldRounds).toBeGreaterThan(roundsBeforeUpgrade + 30);
  const all = await collect((stores[1] as PostgresEventStore).readAll());
  expect(all.map((e) => e.position)).toEqual(Array.from({ length: acknowledged.length }, (_, i) => i));
  for (const { id, position } of acknowledged) expect(all[position]?.id).toBe(id);
  expect(await verifyStore(stores[1] as PostgresEventStore)).toMatchObject({
    ok: true,
    eventsChecked: acknowledged.length,
  });
});
