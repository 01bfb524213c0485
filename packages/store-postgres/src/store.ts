import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import {
  AppendConditionFailedError,
  StoreClosedError,
  assertAppendable,
  StoreError,
  assertTagsAndCondition,
  canonicalDataOf,
  chainEvents,
  checkExpectedRevision,
  classifyAppend,
  knownAtFilter,
} from '@partner-ledger/store';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  SubscriptionMessage,
} from '@partner-ledger/store';
import { DatabaseError, Pool } from 'pg';
import type { PoolClient, PoolConfig, QueryResult, QueryResultRow } from 'pg';
import { createListener } from './listener';
import type { Listener } from './listener';
import { DEFAULT_SCHEMA, assertSchemaName, migrate, notifyChannel } from './schema';

/** What `createPostgresStore` takes: a connection string or a pool, and the schema. */
export interface PostgresStoreOptions {
  /** A `postgres://` or `postgresql://` URL. Give this or `pool`. */
  readonly connectionString?: string;
  /** A pool the application already has. The store does not end it on close. */
  readonly pool?: Pool;
  /** The schema of the store's tables, created if missing. Default `partner_ledger`. */
  readonly schema?: string;
  /** How many events readAll and subscribe fetch per query, when the caller does not say. Default 500. */
  readonly defaultPageSize?: number;
  /**
   * How often a waiting subscription looks for new events even without a notification (a lost
   * connection, a NOTIFY that a pooler dropped), and seals appends that a crashed writer committed but
   * did not seal. Default 1,000 ms.
   */
  readonly pollIntervalMs?: number;
}

/** The PostgreSQL store: the EventStore port, and what else the store can tell. */
export interface PostgresEventStore extends EventStore {
  /** The schema holding the store's tables. */
  readonly schema: string;
  /** The migrations applied when this store opened (empty when the schema was up to date). */
  readonly migrationsApplied: readonly number[];
}

const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** How often an append starts over after losing a race on a unique id or an unsealed tag. */
const MAX_ATTEMPTS = 5;

/** The columns of a stored event, in the order the queries below select them. */
const EVENT_COLUMNS =
  'position::text AS position_text, id, stream, revision, type, schema_version, occurred_at, recorded_at, actor, correlation_id, causation_id, data_text, prev_hash, hash';

interface EventRow {
  readonly position_text: string | null;
  readonly id: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly schema_version: number;
  readonly occurred_at: string;
  readonly recorded_at: string;
  readonly actor: string;
  readonly correlation_id: string;
  readonly causation_id: string | null;
  readonly data_text: string;
  readonly prev_hash: string | null;
  readonly hash: string;
}

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
};

/** A stored row as the port's RecordedEvent; `position` is required (callers read sealed rows only). */
const toEvent = (row: EventRow): RecordedEvent =>
  Object.freeze({
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    stream: row.stream,
    revision: row.revision,
    position: Number(row.position_text),
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
    actor: row.actor,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    data: deepFreeze(JSON.parse(row.data_text) as unknown),
    prevHash: row.prev_hash,
    hash: row.hash,
  });

const checkIntegerOption = (name: string, value: number | undefined, min: number): void => {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
};

const isUniqueViolation = (error: unknown, constraint: string): boolean =>
  typeof error === 'object' &&
  error !== null &&
  (error as { code?: unknown }).code === '23505' &&
  (error as { constraint?: unknown }).constraint === constraint;

/** Thrown inside an append's transaction to start it over (after a seal); never leaves the store. */
class StartOver extends Error {
  constructor(
    /** The tag whose last append was committed but not yet numbered. */
    readonly tag: string,
    readonly batch: string,
  ) {
    super(`the last append tagged ${tag} is not numbered yet`);
  }
}

/**
 * Opens a store on a PostgreSQL database: creates or migrates its schema, then serves the EventStore port.
 *
 * How the global order is kept (see docs/stores.md): an append commits its events without positions, then
 * a sealer, one at a time under an advisory lock, numbers every committed, unsealed append in one short
 * transaction. Positions are therefore dense (0, 1, 2, ...) and become visible in order, so a reader that
 * has seen position p has seen everything below it, whatever order the appends committed in.
 */
export const createPostgresStore = async (options: PostgresStoreOptions): Promise<PostgresEventStore> => {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  assertSchemaName(schema);
  const defaultPageSize = options.defaultPageSize ?? DEFAULT_PAGE_SIZE;
  checkIntegerOption('defaultPageSize', defaultPageSize, 1);
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  checkIntegerOption('pollIntervalMs', pollIntervalMs, 1);
  if ((options.connectionString === undefined) === (options.pool === undefined)) {
    throw new TypeError('createPostgresStore needs exactly one of connectionString and pool');
  }
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ??
    new Pool({ connectionString: options.connectionString, application_name: 'partner-ledger' });
  // An idle connection that breaks (a server restart) is reported on the pool; the next query reconnects.
  // Without a listener node would exit on it, so the store listens on a pool it made.
  if (ownsPool) pool.on('error', () => undefined);
  const poolConfig: PoolConfig = ownsPool
    ? { connectionString: options.connectionString }
    : (pool as unknown as { options: PoolConfig }).options;

  const t = (table: string): string => `${schema}.${table}`;
  const channel = notifyChannel(schema);

  let migrationsApplied: number[];
  {
    const client = await pool.connect();
    try {
      migrationsApplied = await migrate(client, schema);
    } catch (error) {
      client.release();
      if (ownsPool) await pool.end();
      throw error;
    }
    client.release();
  }

  let closed = false;
  /** Bumped by every wake-up (a notification, a local seal, a poll, close): what a waiting reader awaits. */
  let generation = 0;
  const waiting = new Set<() => void>();
  const wakeAll = (): void => {
    generation += 1;
    const wake = [...waiting];
    waiting.clear();
    wake.forEach((resolve) => resolve());
  };
  let listener: Listener | undefined;

  const assertOpen = (): void => {
    if (closed) throw new StoreClosedError();
  };
  // Rejects when the store closes: a read that is waiting for a connection or a row then ends with
  // StoreClosedError instead of waiting on a pool that is shutting down.
  let rejectOnClose: (error: Error) => void = () => undefined;
  const closing = new Promise<never>((_, reject) => {
    rejectOnClose = reject;
  });
  closing.catch(() => undefined);
  const query = <R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<QueryResult<R>> => {
    assertOpen();
    return Promise.race([pool.query<R>(sql, params), closing]);
  };

  const withClient = async <T>(work: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      // A connection that failed (not a statement the server refused, nor the store's own decision) is
      // not handed out again.
      const decided =
        error instanceof DatabaseError ||
        error instanceof StoreError ||
        error instanceof StartOver ||
        error instanceof TypeError ||
        error instanceof RangeError;
      if (!decided) broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
  };

  /** Reads what the seal function returned. */
  const sealResult = (
    row: { sealed: string; own_positions: string[] | null } | undefined,
  ): { readonly sealed: number; readonly positions: number[] | null } => ({
    sealed: Number(row?.sealed ?? 0),
    positions:
      row?.own_positions === null || row?.own_positions === undefined ? null : row.own_positions.map(Number),
  });
  const SEAL_SELECT = `SELECT sealed::text AS sealed, own_positions::text[] AS own_positions FROM ${t('seal')}`;

  /**
   * Numbers every committed append that has no positions yet, in batch order, after the highest position
   * given so far: one sealer at a time (the advisory lock, held to the commit), so positions become
   * visible in order and with no gap. Durable: it commits synchronously, which also makes durable the
   * appends it seals, whose commits precede it in the write-ahead log.
   */
  const seal = async (): Promise<number> => {
    const { rows } = await query<{ sealed: string; own_positions: string[] | null }>(`${SEAL_SELECT}(NULL)`);
    const { sealed } = sealResult(rows[0]);
    if (sealed > 0) wakeAll();
    return sealed;
  };

  type Attempt =
    | {
        readonly kind: 'written';
        readonly batch: string;
        readonly chained: readonly Omit<RecordedEvent, 'position'>[];
      }
    | { readonly kind: 'retry'; readonly ids: readonly string[] };

  /** One try of an append's transaction. */
  const decideAndWrite = async (
    client: PoolClient,
    stream: string,
    events: readonly NewEvent[],
    dataTexts: readonly string[],
    appendOptions: AppendOptions,
  ): Promise<Attempt> => {
    // The stream's row, created if missing, locked (the upsert locks it), read: one statement.
    const streamRow = await client.query<{ last_revision: number; last_hash: string | null }>(
      `INSERT INTO ${t('streams')} AS s (stream, last_revision) VALUES ($1, -1)
         ON CONFLICT (stream) DO UPDATE SET last_revision = s.last_revision
         RETURNING last_revision, last_hash`,
      [stream],
    );
    const { last_revision: lastRevision, last_hash: lastHash } = streamRow.rows[0] as {
      last_revision: number;
      last_hash: string | null;
    };
    // Under the stream's lock, an earlier append of the same ids to this stream has committed or failed.
    const ids = events.map((event) => event.id);
    const found = await client.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${t('events')} WHERE id = ANY($1::text[])`,
      [ids],
    );
    const byId = new Map(found.rows.map((row) => [row.id, row]));
    const decision = classifyAppend(
      stream,
      events,
      // Positions do not take part in the classification; an unsealed row reads as position NaN here.
      ids.map((id) => {
        const row = byId.get(id);
        return row === undefined ? undefined : toEvent(row);
      }),
    );
    if (decision.kind === 'retry') return { kind: 'retry', ids };
    checkExpectedRevision(
      stream,
      appendOptions.expectedRevision ?? 'any',
      lastRevision < 0 ? 'noStream' : lastRevision,
    );

    const ownTags = [...new Set(appendOptions.tags ?? [])];
    const condition = appendOptions.condition;
    const lockedTags = [...new Set([...ownTags, ...(condition?.failIfTagged ?? [])])].sort();
    if (lockedTags.length > 0) {
      // Created if missing and locked, in sorted order (no deadlock between two appends), in one statement.
      const tagRows = await client.query<{ tag: string; last_batch: string | null }>(
        `INSERT INTO ${t('tags')} AS g (tag) SELECT unnest($1::text[])
           ON CONFLICT (tag) DO UPDATE SET last_batch = g.last_batch
           RETURNING tag, last_batch::text AS last_batch`,
        [lockedTags],
      );
      if (condition !== undefined) {
        const asked = new Set(condition.failIfTagged);
        const lastBatches = new Map(
          tagRows.rows
            .filter((row) => asked.has(row.tag) && row.last_batch !== null)
            .map((row) => [row.tag, row.last_batch as string]),
        );
        if (lastBatches.size > 0) {
          const positions = await client.query<{ batch: string; last: string | null; unsealed: boolean }>(
            `SELECT batch::text AS batch, max(position)::text AS last, bool_or(position IS NULL) AS unsealed
               FROM ${t('events')} WHERE batch = ANY($1::bigint[]) GROUP BY batch`,
            [[...new Set(lastBatches.values())]],
          );
          const byBatch = new Map(positions.rows.map((row) => [row.batch, row]));
          // The tags in the condition's own order, so that the error names the first one that fails.
          for (const tag of condition.failIfTagged) {
            const batch = lastBatches.get(tag);
            const row = batch === undefined ? undefined : byBatch.get(batch);
            if (row === undefined) continue;
            // Committed but not yet numbered: its position will be past every position a reader saw;
            // seal it and decide again, to report the exact position.
            if (row.unsealed) throw new StartOver(tag, batch as string);
            const position = Number(row.last);
            if (position > condition.after) {
              throw new AppendConditionFailedError(stream, tag, position, condition.after);
            }
          }
        }
      }
    }

    const previous = lastRevision < 0 ? undefined : { revision: lastRevision, hash: lastHash as string };
    const chained = chainEvents(stream, previous, events);
    const last = chained[chained.length - 1] as { revision: number; hash: string };
    // The batch number, the events, the stream's new head and the tags' last batch: one statement.
    const inserted = await client.query<{ batch: string }>(
      `WITH b AS (SELECT nextval('${t('batches')}') AS batch),
         ins AS (
           INSERT INTO ${t('events')} (batch, batch_index, id, stream, revision, type, schema_version, occurred_at,
             recorded_at, actor, correlation_id, causation_id, data_text, data, prev_hash, hash, tags)
           SELECT b.batch, u.ord - 1, u.id, $1, u.revision, u.type, u.schema_version, u.occurred_at,
             u.recorded_at, u.actor, u.correlation_id, u.causation_id, u.data_text, u.data_json::jsonb,
             u.prev_hash, u.hash, $2::text[]
           FROM b, unnest($3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[],
             $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[])
             WITH ORDINALITY AS u(id, revision, type, schema_version, occurred_at, recorded_at, actor,
               correlation_id, causation_id, data_text, data_json, prev_hash, hash, ord)
         ),
         head AS (UPDATE ${t('streams')} SET last_revision = $16, last_hash = $17 WHERE stream = $1),
         tagged AS (UPDATE ${t('tags')} SET last_batch = (SELECT batch FROM b) WHERE tag = ANY($2::text[]))
         SELECT batch::text AS batch FROM b`,
      [
        stream,
        ownTags,
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
        // jsonb refuses a NUL character in a string; such data keeps its text only.
        dataTexts.map((text) => (text.includes('\\u0000') ? null : text)),
        chained.map((e) => e.prevHash),
        chained.map((e) => e.hash),
        last.revision,
        last.hash,
      ],
    );
    const batch = (inserted.rows[0] as { batch: string }).batch;
    return { kind: 'written', batch, chained };
  };

  /**
   * One try of an append, on one connection: its transaction (decide and write), then, in the same round
   * trip as its commit, the seal that numbers it. The append's commit need not wait for the disk: it is
   * acknowledged only after the seal, whose synchronous commit comes later in the log and so flushes it
   * too. One flush per seal, shared by every append it numbers.
   */
  const tryAppend = (
    stream: string,
    events: readonly NewEvent[],
    dataTexts: readonly string[],
    appendOptions: AppendOptions,
  ): Promise<{ readonly attempt: Attempt; readonly positions: number[] | null; readonly sealed: number }> =>
    withClient(async (client) => {
      await client.query('BEGIN; SET LOCAL synchronous_commit = off');
      let attempt: Attempt;
      try {
        attempt = await decideAndWrite(client, stream, events, dataTexts, appendOptions);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      if (attempt.kind === 'retry') {
        await client.query('ROLLBACK');
        return { attempt, positions: null, sealed: 0 };
      }
      // The commit, then the seal in a transaction of its own (synchronous): one round trip. The batch
      // number comes from the sequence (digits only), so it can be written into the statement.
      const results = (await client.query(`COMMIT; ${SEAL_SELECT}(${attempt.batch})`)) as unknown as Array<
        QueryResult<{ sealed: string; own_positions: string[] | null }>
      >;
      const { sealed, positions } = sealResult(results[results.length - 1]?.rows[0]);
      return { attempt, positions, sealed };
    });

  const append = async (
    stream: string,
    events: readonly NewEvent[],
    appendOptions: AppendOptions = {},
  ): Promise<AppendResult> => {
    assertOpen();
    assertAppendable(stream, events, appendOptions.expectedRevision ?? 'any');
    const { tags, condition } = appendOptions;
    if (tags !== undefined || condition !== undefined) assertTagsAndCondition(stream, appendOptions);
    // The canonical text of each event's data (what its hash covers, what is stored), computed before any
    // round trip: data with no JSON form is refused here, with a TypeError naming the event.
    const dataTexts = events.map((event, index) => canonicalDataOf(stream, index, event));
    for (let attempt = 1; ; attempt += 1) {
      let outcome: Attempt;
      let positions: number[] | null;
      try {
        const tried = await tryAppend(stream, events, dataTexts, appendOptions);
        outcome = tried.attempt;
        positions = tried.positions;
        if (tried.sealed > 0) wakeAll();
      } catch (error) {
        // Lost a race: the same id committed by an append to another stream (the unique index waited for
        // it), or a tag's last append not yet numbered. Start over: the next try sees what won.
        if (error instanceof StartOver && condition !== undefined) {
          // Number it, then compare: a position no reader could have seen before, so past `after`.
          await seal();
          const { rows } = await query<{ last: string | null }>(
            `SELECT max(position)::text AS last FROM ${t('events')} WHERE batch = $1`,
            [error.batch],
          );
          const position = Number(rows[0]?.last);
          if (position > condition.after)
            throw new AppendConditionFailedError(stream, error.tag, position, condition.after);
        }
        const raced = error instanceof StartOver || isUniqueViolation(error, 'events_id_key');
        if (!raced || attempt >= MAX_ATTEMPTS) throw error;
        continue;
      }
      // An append is acknowledged once sealed: numbered, visible to readers, and durable.
      let recorded: RecordedEvent[];
      if (outcome.kind === 'written') {
        if (positions === null || positions.length !== outcome.chained.length) {
          throw new Error(
            `append ${outcome.batch} in schema ${schema} was sealed without positions: a bug in the store`,
          );
        }
        recorded = outcome.chained.map((event, index) =>
          Object.freeze({ ...event, position: positions[index] as number }),
        );
      } else {
        // A retry: the first append may have been committed but not sealed yet (its writer crashed).
        await seal();
        const { rows } = await query<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM ${t('events')} WHERE id = ANY($1::text[])`,
          [outcome.ids],
        );
        const byId = new Map(rows.map((row) => [row.id, toEvent(row)]));
        recorded = outcome.ids.map((id) => byId.get(id) as RecordedEvent);
      }
      const lastEvent = recorded.reduce((a, b) => (b.position > a.position ? b : a));
      return {
        stream,
        events: recorded,
        nextExpectedRevision: lastEvent.revision,
        lastPosition: lastEvent.position,
        alreadyStored: outcome.kind === 'retry',
      };
    }
  };

  const headPosition = async (): Promise<number> => {
    const { rows } = await query<{ head: string }>(
      `SELECT coalesce(max(position), -1)::text AS head FROM ${t('events')}`,
    );
    return Number(rows[0]?.head ?? -1);
  };

  async function* readStream(
    stream: string,
    readOptions: ReadStreamOptions = {},
  ): AsyncGenerator<RecordedEvent> {
    assertOpen();
    const { direction = 'forwards', fromRevision, maxCount, asKnownAt } = readOptions;
    checkIntegerOption('fromRevision', fromRevision, 0);
    checkIntegerOption('maxCount', maxCount, 0);
    const known = knownAtFilter(asKnownAt);
    const limit = maxCount ?? Number.POSITIVE_INFINITY;
    if (limit === 0) return;
    // The stream as it is now: its last sealed revision bounds the read.
    const { rows: ends } = await query<{ last: number | null }>(
      `SELECT max(revision) AS last FROM ${t('events')} WHERE stream = $1 AND position IS NOT NULL`,
      [stream],
    );
    const end = ends[0]?.last ?? null;
    if (end === null) return;
    const forwards = direction === 'forwards';
    let next = forwards ? (fromRevision ?? 0) : Math.min(fromRevision ?? end, end);
    let count = 0;
    while (count < limit && (forwards ? next <= end : next >= 0)) {
      assertOpen();
      const { rows } = await query<EventRow>(
        forwards
          ? `SELECT ${EVENT_COLUMNS} FROM ${t('events')} WHERE stream = $1 AND revision >= $2 AND revision <= $3
             ORDER BY revision LIMIT $4`
          : `SELECT ${EVENT_COLUMNS} FROM ${t('events')} WHERE stream = $1 AND revision <= $2
             ORDER BY revision DESC LIMIT $3`,
        forwards ? [stream, next, end, defaultPageSize] : [stream, next, defaultPageSize],
      );
      if (rows.length === 0) return;
      for (const row of rows) {
        const event = toEvent(row);
        next = forwards ? event.revision + 1 : event.revision - 1;
        if (!known(event)) continue;
        count += 1;
        yield event;
        if (count >= limit) return;
      }
    }
  }

  async function* readAll(readOptions: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    assertOpen();
    const { fromPosition = 0, pageSize = defaultPageSize, asKnownAt } = readOptions;
    checkIntegerOption('fromPosition', fromPosition, 0);
    checkIntegerOption('pageSize', pageSize, 1);
    const known = knownAtFilter(asKnownAt);
    // Up to the head when the read starts (and no further than asKnownAt.position).
    const head = await headPosition();
    const end = asKnownAt?.position === undefined ? head : Math.min(head, asKnownAt.position);
    let cursor = fromPosition;
    while (cursor <= end) {
      assertOpen();
      const { rows } = await query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM ${t('events')} WHERE position >= $1 AND position <= $2
         ORDER BY position LIMIT $3`,
        [cursor, end, pageSize],
      );
      if (rows.length === 0) return;
      for (const row of rows) {
        const event = toEvent(row);
        cursor = event.position + 1;
        if (known(event)) yield event;
      }
    }
  }

  /** Resolves on the next wake-up after generation `seen` (or at once if one already came). */
  const nextWake = (seen: number, signal: AbortSignal | undefined): Promise<void> =>
    new Promise<void>((resolve) => {
      if (generation !== seen || closed || signal?.aborted === true) {
        resolve();
        return;
      }
      const wake = (): void => {
        waiting.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      waiting.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });

  /** Starts the LISTEN connection and the poll timer with the first subscription that waits. */
  const ensureListener = (): void => {
    if (listener !== undefined || closed) return;
    listener = createListener({
      poolConfig,
      channel,
      pollIntervalMs,
      onWake: wakeAll,
      // The poll also seals appends that a writer committed but could not seal (it crashed in between).
      onPoll: async () => {
        if (waiting.size === 0) return;
        const sealed = await seal().catch(() => 0);
        if (sealed === 0) wakeAll();
      },
    });
  };

  async function* subscribe(subscribeOptions: SubscribeOptions = {}): AsyncGenerator<SubscriptionMessage> {
    assertOpen();
    const { fromPosition = 0, signal } = subscribeOptions;
    checkIntegerOption('fromPosition', fromPosition, 0);
    // One loop for catch-up and live delivery: the cursor walks the numbered log, which only ever grows at
    // its end, so an event is delivered once, in order, whenever it was appended.
    let cursor = fromPosition;
    let caughtUp = false;
    const aborted = (): boolean => signal?.aborted === true;
    while (!aborted()) {
      assertOpen();
      const seen = generation;
      const { rows } = await query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM ${t('events')} WHERE position >= $1 ORDER BY position LIMIT $2`,
        [cursor, defaultPageSize],
      );
      if (rows.length > 0) {
        for (const row of rows) {
          if (aborted()) return;
          const event = toEvent(row);
          cursor = event.position + 1;
          yield { kind: 'event', event };
        }
        continue;
      }
      if (!caughtUp) {
        const head = await headPosition();
        if (head >= cursor) continue;
        caughtUp = true;
        yield { kind: 'caughtUp', position: head };
        continue;
      }
      ensureListener();
      await nextWake(seen, signal);
    }
  }

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    rejectOnClose(new StoreClosedError());
    wakeAll();
    await listener?.stop();
    if (ownsPool) await pool.end();
  };

  // Appends that a crashed writer committed but did not number become visible now.
  await seal();

  const guarded =
    <A extends unknown[], R>(run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      assertOpen();
      return run(...args);
    };

  return {
    schema,
    migrationsApplied,
    append,
    readStream,
    readAll,
    subscribe,
    headPosition: guarded(headPosition),
    close,
  };
};
