import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import {
  AppendConditionFailedError,
  WrongExpectedRevisionError,
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
import { createHash } from 'node:crypto';
import { DatabaseError, Pool } from 'pg';
import type { PoolClient, PoolConfig, QueryResult, QueryResultRow } from 'pg';
import { createListener } from './listener';
import type { Listener } from './listener';
import {
  APPEND_GROUP_V7,
  APPEND_V6,
  DEFAULT_SCHEMA,
  assertSchemaName,
  migrate,
  notifyChannel,
} from './schema';

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
  /**
   * Refuse to open a schema that holds no store (a {@link SchemaNotFoundError}) instead of creating it:
   * what read-only tools ask, so that a misspelled schema name fails rather than reads an empty ledger.
   */
  readonly mustExist?: boolean;
  /**
   * Whether the statements that write an append (the call of `append_v6` for an append alone, of
   * `append_group_v7` for a group) go as named prepared statements: parsed, analysed and planned once per
   * connection, then only bound and executed. Less server CPU per append.
   *
   * Unset (the default): named, and safe behind any pooler. The first time a server connection refuses a
   * named append statement because it does not have it (a pooler in transaction mode that does not keep
   * prepared statements, such as PgBouncer before 1.21; `DISCARD ALL` or `DEALLOCATE` on the connection),
   * nothing of that append ran: the store sends the same append again, unnamed, on another connection, and
   * sends every append unnamed for as long as it is open.
   *
   * `true`: named, strictly, for a connection known to keep its statements (direct, PgBouncer in session
   * mode, PgBouncer 1.21 and later with `max_prepared_statements` above 0): a lost statement fails that
   * append with a {@link PreparedStatementError} (nothing appended) instead of being retried, so that a
   * setting that does not hold is heard of. `false`: every statement unnamed. See docs/stores.md,
   * "Prepared statements".
   */
  readonly preparedStatements?: boolean;
}

/**
 * With `preparedStatements: true` (given explicitly), the server connection that ran a statement did not
 * have the statement this client prepared under that name (or already had another under it): a pooler in
 * transaction mode that does not keep prepared statements sent it to another server connection, or someone
 * ran `DEALLOCATE` or `DISCARD ALL` on the connection. Nothing of the statement ran, so nothing was
 * appended. The store drops that connection (a new one prepares its statements afresh). With the option
 * unset, the store never throws this: it retries the append unnamed and stops naming statements.
 */
export class PreparedStatementError extends Error {
  override readonly name = 'PreparedStatementError';
  /** Says what this is without a dependency on this package. */
  readonly code = 'PREPARED_STATEMENT_LOST';
  constructor(
    /** The name the store prepared the statement under. */
    readonly statement: string,
    cause: DatabaseError,
  ) {
    super(
      `preparedStatements is true, and the server connection refused the prepared statement ${JSON.stringify(statement)} (${cause.message}): ` +
        'a pooler in transaction mode that does not keep prepared statements (PgBouncer before 1.21, or max_prepared_statements = 0) ' +
        "runs them on other server connections, or the connection's statements were deallocated (DEALLOCATE, DISCARD ALL); " +
        'nothing was appended, and the store dropped that connection; behind such a pooler, connect directly or in session mode, ' +
        'or leave preparedStatements unset (named statements, falling back to unnamed ones when one is lost) or false',
      { cause },
    );
  }
}

/** A statement of the append path, and the name it is prepared under while statements are named. */
interface Statement {
  readonly name: string;
  readonly text: string;
}

/**
 * The name a statement is prepared under: the function it calls, whose name carries its version
 * (`append_v6`, `append_group_v7`), then a hash of the statement's whole text, which names the schema. So
 * one name never stands for two texts: not for two stores on different schemas sharing one pool
 * (node-postgres refuses a name sent again with another text), nor for two versions of this package on one
 * server during a rolling upgrade. At most 35 characters: PostgreSQL compares only the first 63 bytes of a
 * statement's name.
 */
export const statementName = (calls: string, text: string): string =>
  `pl_${calls}_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;

/** The server no longer (or already) has a statement under that name on this connection. */
const isLostStatement = (error: unknown): error is DatabaseError =>
  error instanceof DatabaseError && (error.code === '26000' || error.code === '42P05');

/** `mustExist` was asked and the schema holds no store's tables (it is missing, or something else). */
export class SchemaNotFoundError extends Error {
  override readonly name = 'SchemaNotFoundError';
  /** Says what this is without a dependency on this package (open-ledger reads it). */
  readonly code = 'SCHEMA_NOT_FOUND';
  constructor(
    /** The schema that was asked for. */
    readonly schema: string,
  ) {
    super(
      `no ledger in PostgreSQL schema ${JSON.stringify(schema)}: the schema has no partner-ledger tables (is ?schema= spelled right?)`,
    );
  }
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
/** How many times an append tries its one-round-trip path on a fresh head before taking the longer path. */
const MAX_FAST_ATTEMPTS = 3;
/** How many stream heads a store remembers (then it forgets them all and learns them again). */
const MAX_CACHED_HEADS = 10_000;
/** How many concurrent appends one group commit takes at most. */
const MAX_GROUP = 64;
/** How many groups of appends one store sends at the same time (each on its own connection). */
const MAX_GROUPS_IN_FLIGHT = 1;

/**
 * The events of an append as thirteen arrays, one per column, in the order both append paths pass them:
 * id, revision, type, schema version, occurred at, recorded at, actor, correlation id, causation id, the
 * canonical data text, the same text for the jsonb copy, previous hash, hash.
 */
const eventColumns = (
  chained: readonly Omit<RecordedEvent, 'position'>[],
  dataTexts: readonly string[],
): (readonly (string | number | null)[])[] => [
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
];

/**
 * The arguments of `append_group_v7` for a group's calls: each call's stream, expected revision and head,
 * then every event's append number (1-based) and its columns, the calls' events one after the other.
 */
const groupArguments = (
  calls: readonly {
    readonly stream: string;
    readonly args: readonly (string | number | null | readonly (string | number | null)[])[];
  }[],
): unknown[] => {
  const columns: (string | number | null)[][] = Array.from({ length: 13 }, () => []);
  const appends: number[] = [];
  calls.forEach((call, k) => {
    // The call's arguments are those of append_v6: 4 fields, tags, condition (none in a group), 13 columns.
    const own = call.args.slice(7) as (readonly (string | number | null)[])[];
    own.forEach((values, c) => (columns[c] as (string | number | null)[]).push(...values));
    for (let i = 0; i < (own[0] as readonly unknown[]).length; i += 1) appends.push(k + 1);
  });
  return [
    calls.map((call) => call.args[0]),
    calls.map((call) => call.args[1]),
    calls.map((call) => call.args[2]),
    calls.map((call) => call.args[3]),
    appends,
    ...columns,
  ];
};

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

/**
 * A stored row as the port's RecordedEvent; `position` is required (callers read sealed rows only). Its data
 * is parsed afresh for each read and shared with nobody, so it is not frozen (freezing every nested object
 * cost readAll a large share of its time): a caller that changes it changes its own copy only, never what
 * the store holds or what another read returns.
 */
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
    data: JSON.parse(row.data_text) as unknown,
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

/** Heard on a client the store holds: the failure reaches the caller through the query instead. */
const ignoreSessionError = (): void => undefined;

/**
 * Heard on every connection the pool opens while the store is open, from the moment it connects: a session
 * ended right after it was established can deliver its FATAL error in the same read as the end of the
 * handshake, so pg emits 'error' after the pool has handed the client over (the pool's own listener
 * removed) and before the code that asked for it has run to add its own. Unheard, node ends the process.
 */
const quietNewSession = (client: { on: (event: 'error', listener: () => void) => unknown }): void => {
  client.on('error', ignoreNewSessionError);
};
const ignoreNewSessionError = (): void => undefined;

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
  if (options.preparedStatements !== undefined && typeof options.preparedStatements !== 'boolean') {
    throw new TypeError(
      `preparedStatements must be true or false, got ${JSON.stringify(options.preparedStatements)}`,
    );
  }
  // Unset: named, falling back to unnamed for good at the first lost statement; true: named, strictly.
  const strictlyNamed = options.preparedStatements === true;
  let named = options.preparedStatements !== false;
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
  pool.on('connect', quietNewSession);
  const poolConfig: PoolConfig = ownsPool
    ? { connectionString: options.connectionString }
    : (pool as unknown as { options: PoolConfig }).options;

  const t = (table: string): string => `${schema}.${table}`;
  const channel = notifyChannel(schema);

  let migrationsApplied: number[];
  {
    const client = await pool.connect();
    client.on('error', ignoreSessionError);
    try {
      if (options.mustExist === true) {
        const { rows } = await client.query<{ found: boolean }>(
          'SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS found',
          [`${schema}.schema_migrations`, `${schema}.events`],
        );
        if (rows[0]?.found !== true) throw new SchemaNotFoundError(schema);
      }
      migrationsApplied = await migrate(client, schema);
    } catch (error) {
      client.off('error', ignoreSessionError);
      client.release();
      pool.off('connect', quietNewSession);
      if (ownsPool) await pool.end();
      throw error;
    }
    client.off('error', ignoreSessionError);
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
  // The queries under way, each rejected when the store closes: a read that is waiting for a connection or
  // a row then ends with StoreClosedError instead of waiting on a pool that is shutting down. Each leaves
  // the set when it settles. (Not Promise.race against one promise that settles at close: each race left a
  // reaction on that promise, holding the query's result, so every page ever read stayed in memory as long
  // as the store was open, and readAll spent its time in the garbage collector.)
  const underway = new Set<(error: Error) => void>();
  const query = <R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<QueryResult<R>> => {
    assertOpen();
    return new Promise<QueryResult<R>>((resolve, reject) => {
      underway.add(reject);
      pool.query<R>(sql, params).then(
        (result) => {
          underway.delete(reject);
          resolve(result);
        },
        (error: unknown) => {
          underway.delete(reject);
          reject(error);
        },
      );
    });
  };

  const withClient = async <T>(work: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    // A session the server ends while the store holds it (a failover, pg_terminate_backend) emits 'error'
    // on its client, also between two queries: unheard, node ends the process. The query that meets the
    // dead session fails as well, and that failure is what the caller sees; the pool hears the client again
    // once it is released.
    client.on('error', ignoreSessionError);
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
      client.off('error', ignoreSessionError);
      client.release(broken);
    }
  };

  /** A statement of the append path, with its name (used only while statements are named). */
  const statement = (calls: string, text: string): Statement => ({ name: statementName(calls, text), text });

  /**
   * Sends a statement of the append path on a client: named while `named` holds (node-postgres parses it
   * on the first use on each connection, a new connection after a reconnect included, then only binds and
   * executes it), else unnamed. A statement that failed while running stays prepared (prepared statements
   * outlive an aborted transaction), so the connection is as good as before. A connection on which the
   * server lacks the statement (or already has one under that name) fails with a
   * {@link PreparedStatementError}, which is not a DatabaseError: `withClient` then drops the connection,
   * whose node-postgres client would otherwise go on believing the statement prepared. Unless the option
   * was `true`, the store also stops naming statements for good: a pooler that lost one statement will
   * lose others, each costing a failed round trip, and a connection reset by `DISCARD ALL` once will be
   * again. Nothing is logged: the store has no logger, and the fallback changes nothing but speed.
   *
   * Only for a statement that is a whole append in a transaction of its own (never sent inside BEGIN):
   * see {@link withAppendClient} for why the server's refusal then proves that nothing ran.
   */
  const run = async <R extends QueryResultRow>(
    client: PoolClient,
    { name, text }: Statement,
    values: unknown[],
  ): Promise<QueryResult<R>> => {
    if (!named) return client.query<R>(text, values);
    try {
      return await client.query<R>({ name, text, values });
    } catch (error) {
      if (!isLostStatement(error)) throw error;
      if (!strictlyNamed) named = false;
      throw new PreparedStatementError(name, error);
    }
  };

  /**
   * `withClient` for work whose one write is a {@link run} of an append statement: when that statement
   * was lost, and names were not asked for strictly, the same work again on another connection, unnamed
   * this time (`run` has turned names off), so that the caller never sees the loss.
   *
   * Why sending the same append again is safe, and only then: the statement is sent outside any BEGIN, so
   * it is a transaction of its own (node-postgres sends Parse on a connection's first use, then Bind,
   * Execute, Sync; the server runs everything up to Sync as one implicit transaction). The two refusals
   * recognised as a lost statement come before anything executes: 26000 "prepared statement ... does not
   * exist" is the server's answer to Bind (what PgBouncer 1.18 in transaction mode, or a connection after
   * `DISCARD ALL`, gets), 42P05 "prepared statement ... already exists" its answer to Parse (another client
   * of the pooler prepared it on that server connection). The error aborts the implicit transaction, which
   * ends at Sync having run nothing: no row, no sequence number, no seal; the server connection is idle
   * again. Any other failure (one while the statement ran, or during its commit, after which the append
   * may be stored) is not retried here. Nothing named is ever sent after the commit (the wait for the
   * seal stays unnamed), so a lost statement can never be met by an append that is already stored. Were an
   * append statement ever sent inside BEGIN ... COMMIT, the refusal would abort that transaction with
   * whatever it had done before: it would have to be rolled back, and the whole transaction sent again, not
   * the one statement; `run` is not used so. The retry takes another client from the pool: the one that
   * met the loss was dropped by `withClient`, as its node-postgres client lists names its server connection
   * does not have (its session, or its link to the pooler, closed: nothing of the refused statement was
   * left open in it, the implicit transaction having ended at Sync).
   */
  const withAppendClient = async <T>(work: (client: PoolClient) => Promise<T>): Promise<T> => {
    try {
      return await withClient(work);
    } catch (error) {
      if (!(error instanceof PreparedStatementError) || strictlyNamed) throw error;
      return withClient(work);
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
      [stream, ownTags, ...eventColumns(chained, dataTexts), last.revision, last.hash],
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

  /** What the client last saw of each stream's head: the guess on which an append chains its events. */
  const heads = new Map<string, { readonly revision: number; readonly hash: string | null }>();
  const rememberHead = (stream: string, revision: number, hash: string | null): void => {
    if (heads.size >= MAX_CACHED_HEADS && !heads.has(stream)) heads.clear();
    heads.set(stream, { revision, hash });
  };

  type FastOutcome =
    | {
        readonly kind: 'written';
        readonly chained: readonly Omit<RecordedEvent, 'position'>[];
        readonly positions: number[] | null;
        readonly sealed: number;
      }
    | { readonly kind: 'stale' }
    | { readonly kind: 'slow' };

  /** One append, ready to send: the call of the schema's `append_v6` function on events chained on a head. */
  interface FastCall {
    readonly stream: string;
    readonly chained: readonly Omit<RecordedEvent, 'position'>[];
    readonly expected: AppendOptions['expectedRevision'] & {};
    readonly condition: AppendOptions['condition'];
    /** The function's arguments, in order. */
    readonly args: readonly AppendArgument[];
  }
  type AppendArgument = string | number | null | readonly (string | number | null)[];

  /** The SQL types of the `append` function's arguments, in order. */
  const APPEND_TYPES = [
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
  ] as const;

  /**
   * `SELECT ... FROM append(...)`: the function returns one record (migration 5), read as a value, OFFSET 0
   * keeping the subquery from being flattened into one call per column.
   */
  const appendSelect = (records: string): string =>
    `SELECT (r).r_status AS status, (r).r_batch::text AS batch, (r).r_last_revision AS last_revision, (r).r_last_hash AS last_hash, (r).r_tag AS tag, (r).r_tag_position::text AS tag_position, (r).r_first_position::text AS first_position, (r).r_sealed::text AS sealed FROM (${records} OFFSET 0) AS a`;

  /** A call of `append` on parameters $first ... $first+19, each cast to its type. */
  const appendCall = (first: number): string =>
    `${t(APPEND_V6)}(${APPEND_TYPES.map((type, i) => `$${first + i}::${type}`).join(', ')})`;

  /** One call with parameters: one statement, sent alone. */
  const APPEND_WITH_PARAMETERS: Statement = statement(
    APPEND_V6,
    appendSelect(`SELECT ${appendCall(1)} AS r`),
  );

  /** The SQL types of the event columns ({@link eventColumns}), in order. */
  const EVENT_TYPES = ['text', 'integer', 'text', 'integer', ...Array.from({ length: 9 }, () => 'text')];

  /**
   * A group's appends in one call of `append_group_v7` (migration 7): one array parameter per append field
   * and per event column, whatever the group's size, so the text never changes (the previous group
   * statement, one `append_v6` call per append joined by UNION ALL, had a text and 20 parameters more per
   * append, parsed and planned for every group). Named like the single append (see {@link run}): PgBouncer
   * before 1.21 in transaction mode may run it on a server connection where it was never prepared, and
   * the group is then sent again, unnamed.
   */
  const GROUP_STATEMENT: Statement = statement(
    APPEND_GROUP_V7,
    `SELECT r_status AS status, r_batch::text[] AS batch, r_last_revision AS last_revision, r_last_hash AS last_hash, r_first_position::text[] AS first_position FROM ${t(APPEND_GROUP_V7)}($1::text[], $2::text[], $3::integer[], $4::text[], $5::integer[], ${EVENT_TYPES.map((type, i) => `$${i + 6}::${type}[]`).join(', ')})`,
  );

  /** Chains the events on the head this client remembers and gives the arguments of `append` for them. */
  const fastCall = (
    stream: string,
    events: readonly NewEvent[],
    dataTexts: readonly string[],
    appendOptions: AppendOptions,
  ): FastCall => {
    const head = heads.get(stream) ?? { revision: -1, hash: null };
    const previous = head.revision < 0 ? undefined : { revision: head.revision, hash: head.hash as string };
    const chained = chainEvents(stream, previous, events);
    const expected = appendOptions.expectedRevision ?? 'any';
    const condition = appendOptions.condition;
    const args: AppendArgument[] = [
      stream,
      String(expected),
      head.revision,
      head.hash,
      [...new Set(appendOptions.tags ?? [])],
      condition?.failIfTagged ?? [],
      condition?.after ?? -1,
      ...eventColumns(chained, dataTexts),
    ];
    return { stream, chained, expected, condition, args };
  };

  /** What the `append` function answered, and the positions its seal gave (when it wrote), as an outcome. */
  const fastOutcome = (
    { stream, chained, expected, condition }: FastCall,
    answer: {
      status: string;
      batch: string | null;
      last_revision: number;
      last_hash: string | null;
      tag: string | null;
      tag_position: string | null;
    },
    sealed: number,
    positions: number[] | null,
  ): FastOutcome => {
    rememberHead(stream, answer.last_revision, answer.last_hash);
    switch (answer.status) {
      case 'written':
        return { kind: 'written', chained, positions, sealed };
      case 'stale':
        return { kind: 'stale' };
      case 'revision':
        throw new WrongExpectedRevisionError(
          stream,
          expected,
          answer.last_revision < 0 ? 'noStream' : answer.last_revision,
        );
      case 'condition':
        throw new AppendConditionFailedError(
          stream,
          answer.tag as string,
          Number(answer.tag_position),
          condition?.after ?? -1,
        );
      default:
        // 'ids' (a retry or a duplicate id) or 'unsealed' (a tag's last append not numbered yet).
        return { kind: 'slow' };
    }
  };

  /**
   * One try of an append, alone (migration 6): one call of the schema's `append_v6` function with parameters,
   * on events chained on the head this client expects, a transaction of its own. When the seal lock was
   * free the function numbered the append itself and its commit waited for the disk: one round trip, the
   * positions in its answer. Otherwise its commit was not flushed, and the seal that numbers it (a
   * transaction of its own, synchronous) follows.
   */
  const tryAppendFast = (
    stream: string,
    events: readonly NewEvent[],
    dataTexts: readonly string[],
    appendOptions: AppendOptions,
  ): Promise<FastOutcome> =>
    withAppendClient(async (client) => {
      const prepared = fastCall(stream, events, dataTexts, appendOptions);
      let answer: Parameters<typeof fastOutcome>[1] & {
        first_position: string | null;
        sealed: string | null;
      };
      try {
        const { rows } = await run<typeof answer>(client, APPEND_WITH_PARAMETERS, prepared.args as unknown[]);
        answer = rows[0] as typeof answer;
      } catch (error) {
        // The statement was its own transaction: nothing of it was committed (unless the connection failed
        // during the commit; a retry of the same events is then recognised as one). The head it was chained
        // on may be wrong, so it is forgotten; unless the statement was lost, which proves nothing ran and
        // nothing was learnt: the retry chains on the same head.
        if (!(error instanceof PreparedStatementError)) heads.delete(stream);
        throw error;
      }
      if (answer.status === 'written' && answer.first_position !== null) {
        const first = Number(answer.first_position);
        const positions = prepared.chained.map((_, index) => first + index);
        return fastOutcome(prepared, answer, Number(answer.sealed), positions);
      }
      if (answer.status !== 'written') return fastOutcome(prepared, answer, 0, null);
      // Its batch named, not read from the session: under transaction pooling (PgBouncer) this second
      // message may run on another server connection than the append did. Never a named statement: the
      // append is committed by now, and a statement the server connection lacked would fail an append that
      // is stored (PreparedStatementError promises that nothing was; the fallback would send it again).
      const { rows } = await client.query<{ sealed: string; own_positions: string[] | null }>(
        `SELECT sealed::text AS sealed, own_positions::text[] AS own_positions FROM ${t('seal_wait')}($1::bigint)`,
        [answer.batch],
      );
      const { sealed, positions } = sealResult(rows[0]);
      return fastOutcome(prepared, answer, sealed, positions);
    });

  /** An append waiting to join the next group. */
  interface Queued {
    readonly stream: string;
    readonly events: readonly NewEvent[];
    readonly dataTexts: readonly string[];
    readonly appendOptions: AppendOptions;
    readonly resolve: (outcome: FastOutcome) => void;
    readonly reject: (error: unknown) => void;
  }
  let queued: Queued[] = [];
  /** How many groups are on their way to the server now. */
  let sending = 0;

  /**
   * Group commit of the appends made concurrently through this store: the appends that arrive while
   * {@link MAX_GROUPS_IN_FLIGHT} groups are on their way to the server wait, then go together in one call of
   * `append_group_v7` (migration 7), one statement of a fixed text, its own transaction: each append its
   * own checks and its own outcome, the written appends' events in one INSERT, with one seal and one flush
   * (no seal call when the group numbered itself). At most one append per stream in a group, in stream
   * order (so that two groups never lock two streams in opposite orders), and only appends without tags or
   * condition (whose tag locks could be taken in opposite orders). An append that arrives when fewer groups
   * are under way goes at once, alone, through `append_v6`. If the group's transaction fails as a whole (an
   * id that another append committed meanwhile, a lost connection), each append is tried again alone.
   */
  const tryAppendGrouped = (
    stream: string,
    events: readonly NewEvent[],
    dataTexts: readonly string[],
    appendOptions: AppendOptions,
  ): Promise<FastOutcome> =>
    new Promise<FastOutcome>((resolve, reject) => {
      queued.push({ stream, events, dataTexts, appendOptions, resolve, reject });
      if (sending < MAX_GROUPS_IN_FLIGHT) void sendGroups();
    });

  /** Sends groups while appends wait; one of at most MAX_GROUPS_IN_FLIGHT such loops. */
  const sendGroups = async (): Promise<void> => {
    sending += 1;
    try {
      while (queued.length > 0) {
        const group: Queued[] = [];
        const rest: Queued[] = [];
        const streams = new Set<string>();
        for (const member of queued) {
          if (group.length < MAX_GROUP && !streams.has(member.stream)) {
            group.push(member);
            streams.add(member.stream);
          } else rest.push(member);
        }
        queued = rest;
        group.sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
        await sendGroup(group);
        // The group's writers are told their outcomes; let those that append again join the next group
        // instead of finding it gone (one turn of the event loop, not a timer).
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      sending -= 1;
    }
  };

  const alone = (member: Queued): void => {
    tryAppendFast(member.stream, member.events, member.dataTexts, member.appendOptions).then(
      member.resolve,
      member.reject,
    );
  };

  const sendGroup = async (group: readonly Queued[]): Promise<void> => {
    if (group.length === 1) {
      const [member] = group as [Queued];
      await tryAppendFast(member.stream, member.events, member.dataTexts, member.appendOptions).then(
        member.resolve,
        member.reject,
      );
      return;
    }
    let calls: FastCall[];
    try {
      calls = group.map((m) => fastCall(m.stream, m.events, m.dataTexts, m.appendOptions));
    } catch {
      // Not expected (the events were checked before they were queued); each decides alone.
      group.forEach(alone);
      return;
    }
    type GroupAnswer = Parameters<typeof fastOutcome>[1] & { first_position: string | null };
    interface GroupArrays {
      readonly status: readonly string[];
      readonly batch: readonly (string | null)[];
      readonly last_revision: readonly number[];
      readonly last_hash: readonly (string | null)[];
      readonly first_position: readonly (string | null)[];
    }
    let answers: GroupAnswer[];
    let positionOf: Map<string, string | null> | undefined;
    try {
      // A lost group statement: the whole group again, unnamed (withAppendClient).
      [answers, positionOf] = await withAppendClient(async (client) => {
        // One statement, its own transaction: the appends in stream order, each numbered when the group
        // took the seal lock.
        const { rows: arrays } = await run<GroupArrays>(client, GROUP_STATEMENT, groupArguments(calls));
        const answer = arrays[0] as GroupArrays;
        const rows: GroupAnswer[] = calls.map((_, k) => ({
          status: answer.status[k] as string,
          batch: answer.batch[k] ?? null,
          last_revision: answer.last_revision[k] as number,
          last_hash: answer.last_hash[k] ?? null,
          tag: null,
          tag_position: null,
          first_position: answer.first_position[k] ?? null,
        }));
        const written = rows.filter((row) => row.status === 'written');
        if (written.every((row) => row.first_position !== null)) return [rows, undefined] as const;
        // The seal lock was busy when the group wrote: its commit was not flushed, and a seal numbers its
        // appends. The group's batches committed together, so the seal that numbers the newest numbers them
        // all.
        const batches = written.map((row) => row.batch as string);
        await client.query(
          `SELECT sealed FROM ${t('seal_wait')}((SELECT max(b) FROM unnest($1::bigint[]) AS b))`,
          [batches],
        );
        const { rows: stored } = await client.query<{ id: string; position_text: string | null }>(
          `SELECT id, position::text AS position_text FROM ${t('events')} WHERE batch = ANY($1::bigint[])`,
          [batches],
        );
        return [rows, new Map(stored.map((row) => [row.id, row.position_text]))] as const;
      });
    } catch {
      // Nothing of the group was acknowledged (and, unless the connection failed after the commit, nothing
      // committed): each append is tried again alone, and reports its own error (a retry of an append that
      // was committed is recognised as one).
      calls.forEach((c) => heads.delete(c.stream));
      group.forEach(alone);
      return;
    }
    let written = false;
    group.forEach((member, index) => {
      const call = calls[index] as FastCall;
      const answer = answers[index] as GroupAnswer;
      try {
        const first = answer.first_position === null ? Number.NaN : Number(answer.first_position);
        const positions =
          answer.status !== 'written'
            ? null
            : positionOf === undefined
              ? call.chained.map((_, k) => first + k)
              : call.chained.map((e) => {
                  const position = positionOf?.get(e.id);
                  return position === null || position === undefined ? Number.NaN : Number(position);
                });
        if (answer.status === 'written') written = true;
        member.resolve(fastOutcome(call, answer, 1, positions));
      } catch (error) {
        member.reject(error);
      }
    });
    if (written) wakeAll();
  };

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
    // The short path first: one round trip when the head this client expects is the stream's.
    for (let attempt = 1; attempt <= MAX_FAST_ATTEMPTS; attempt += 1) {
      let fast: FastOutcome;
      try {
        fast = await (tags === undefined && condition === undefined ? tryAppendGrouped : tryAppendFast)(
          stream,
          events,
          dataTexts,
          appendOptions,
        );
      } catch (error) {
        // Lost a race on an id that an append to another stream committed first: the longer path decides.
        if (isUniqueViolation(error, 'events_id_key')) break;
        throw error;
      }
      if (fast.kind === 'written' && fast.sealed > 0) wakeAll();
      if (fast.kind === 'slow') break;
      if (fast.kind === 'stale') continue;
      const { chained, positions } = fast;
      if (positions === null || positions.length !== chained.length || positions.some(Number.isNaN)) {
        throw new Error(`an append in schema ${schema} was sealed without positions: a bug in the store`);
      }
      const recorded = chained.map((event, index) =>
        Object.freeze({ ...event, position: positions[index] as number }),
      );
      const lastEvent = recorded[recorded.length - 1] as RecordedEvent;
      return {
        stream,
        events: recorded,
        nextExpectedRevision: lastEvent.revision,
        lastPosition: lastEvent.position,
        alreadyStored: false,
      };
    }
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
        const head = outcome.chained[outcome.chained.length - 1] as { revision: number; hash: string };
        rememberHead(stream, head.revision, head.hash);
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
    // Positions are dense below the head, so each page's range is known before it is read: the next page
    // is fetched (on another connection) while the caller consumes this one.
    const page = (from: number): Promise<QueryResult<EventRow>> | undefined => {
      if (from > end) return undefined;
      const fetching = query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM ${t('events')} WHERE position >= $1 AND position <= $2
         ORDER BY position LIMIT $3`,
        [from, Math.min(end, from + pageSize - 1), pageSize],
      );
      // A caller that stops early never awaits the page fetched ahead: its failure is nobody's.
      fetching.catch(() => undefined);
      return fetching;
    };
    let from = fromPosition;
    let next = page(from);
    while (next !== undefined) {
      assertOpen();
      const { rows } = await next;
      from += pageSize;
      next = page(from);
      for (const row of rows) {
        const event = toEvent(row);
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
      // From the pool, not the listener's connection: whether notifications reach the listener from others.
      probe: async (probeChannel, payload) => {
        await query('SELECT pg_notify($1, $2)', [probeChannel, payload]);
      },
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
    const closedError = new StoreClosedError();
    underway.forEach((reject) => reject(closedError));
    underway.clear();
    wakeAll();
    await listener?.stop();
    pool.off('connect', quietNewSession);
    if (ownsPool) await pool.end();
  };

  // Appends that a crashed writer committed but did not number become visible now. A read-only session (a
  // hot-standby replica, default_transaction_read_only=on) may not seal: the server refuses the update
  // (read_only_sql_transaction), and the writers on the primary seal what they committed.
  try {
    await seal();
  } catch (error) {
    if (!(error instanceof DatabaseError && error.code === '25006')) {
      await close();
      throw error;
    }
  }

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
