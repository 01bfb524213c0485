import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { builtInProjections, createSession, parseCheckpoint } from '@partner-ledger/projections';
import type { Checkpoint, ProjectionSession } from '@partner-ledger/projections';
import type { EventStore } from '@partner-ledger/store';
import { Pool } from 'pg';
import type { PoolClient } from 'pg';
import { emptyFacts, readModelFacts } from './facts';
import type { FactsState, FactsTracker } from './facts';
import {
  SCHEMA_PATTERN,
  controlDdl,
  deleteRows,
  factsDdl,
  generationDdl,
  generationSchema,
  stateDdl,
  swapViews,
  upsertRows,
  viewsDdl,
  writeFacts,
  writeStateParts,
} from './sql';
import { diffParts, digestOf, joinState, splitState } from './state-parts';
import {
  FACT_TABLES,
  TABLES,
  derivedRowsOf,
  lineChangeRow,
  lineRow,
  movementRow,
  partnerRow,
  revenueMovementRow,
} from './tables';
import type { ProjectedResults, Row, TableDefinition } from './tables';

/**
 * The version of the tables' code: what the rows are made of and how. A projector whose CODE_VERSION differs
 * from the live generation's builds a new generation beside it and swaps when it has caught up.
 */
export const CODE_VERSION = '7';

/** The reader-facing schema when none is given. */
export const DEFAULT_READ_SCHEMA = 'partner_ledger_read';

/** Where the projector writes: a pg Pool you own, or a connection string (the projector's own pool). */
export interface ProjectorDatabase {
  /** A `pg` Pool you own: the projector does not end it. */
  readonly pool?: Pool;
  /** A `postgres://` or `postgresql://` URL: the projector opens and ends its own pool. */
  readonly connectionString?: string;
  /** The reader-facing schema (default `partner_ledger_read`); generations are `<schema>_g<n>`. */
  readonly schema?: string;
}

/** The options of `startProjector`. */
export interface ProjectorOptions extends ProjectorDatabase {
  /** The store to follow: any adapter of the EventStore port. */
  readonly source: EventStore;
  /** The reporting currency of the revenue and health rows; default the program's, as in the CLI's reports. */
  readonly reportingCurrency?: string;
  /**
   * Events read and written per transaction (default 5,000). During a catch-up a batch grows to half of
   * the events already projected (unless growBatches is false): a commit writes only what changed, but it
   * still serialises the built-in projections' whole state and recomputes their tables' rows to find it, so
   * a catch-up of n events does that O(log n) times instead of n / batchSize times (about twice the final
   * state's worth in all, against four times with batches of a quarter).
   */
  readonly batchSize?: number;
  /** Let catch-up batches grow with the events projected (default true). */
  readonly growBatches?: boolean;
  /** How long to wait between polls of the store's head once caught up (default 500 ms). */
  readonly pollIntervalMs?: number;
  /** How long the lease lasts unless renewed (default 15 s): a projector killed holds it that long. */
  readonly leaseSeconds?: number;
  /** Who holds the lease (default host, pid and a random part): a restart under the same name takes it back at once. */
  readonly holder?: string;
  /** Stop once caught up with the store's head (and any rebuild swapped in), instead of following it. */
  readonly exitWhenCaughtUp?: boolean;
  /** Overrides CODE_VERSION: a different value builds a new generation and swaps it in. */
  readonly codeVersion?: string;
  /** Called after every transaction the projector commits, with the status it wrote. */
  readonly onProgress?: (status: ProjectorStatus) => void;
  /** Called while another projector holds the lease and this one waits. */
  readonly onWaiting?: (holder: string | null) => void;
  /**
   * How many times in a row the projector reconnects after it lost its connection to the database (or the
   * store) before it gives up and fails with the last error (default 10; 0: fail at once). A commit resets
   * the count. After a reconnect it resumes from its last committed checkpoint.
   */
  readonly reconnectAttempts?: number;
  /** The wait before the first reconnect (default 500 ms); it doubles with every attempt, up to 30 s. */
  readonly reconnectDelayMs?: number;
  /** Called before each reconnect, with the error that broke the connection and the wait before trying. */
  readonly onReconnect?: (reconnect: ProjectorReconnect) => void;
}

/** A reconnect of the projector: why, which attempt in a row, and how long it waits first. */
export interface ProjectorReconnect {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: Error;
}

/** The lag row: where a projector is, against the store's head. */
export interface ProjectorStatus {
  /** The generation written (the live one, or the one being rebuilt). */
  readonly generation: number;
  readonly codeVersion: string;
  /** `live` (caught up, serving), `catching-up`, or `rebuilding` (a new generation, not yet swapped in). */
  readonly state: 'live' | 'catching-up' | 'rebuilding';
  /** The position of the last event projected (-1 before the first). */
  readonly position: number;
  readonly eventsRead: number;
  readonly headPosition: number;
  /** headPosition - position: events on stores with dense positions (file, PostgreSQL, in-memory). */
  readonly eventsBehind: number;
  /** recordedAt of the head event minus recordedAt of the last event projected, in seconds (0 when caught up). */
  readonly secondsBehind: number;
  readonly lastRecordedAt: string | null;
  readonly headRecordedAt: string | null;
  /** The moment the figures describe: the latest occurredAt projected, as the CLI's reports say it. */
  readonly asOf: string | null;
  readonly reportingCurrency: string | null;
  /** When the row was written (database clock). */
  readonly updatedAt: string;
}

/** A running projector. */
export interface Projector {
  /** Settles when the projector stops (stopped, caught up with exitWhenCaughtUp, or failed). */
  readonly done: Promise<void>;
  /** Stops after the transaction under way, releases the lease, and waits for it. */
  stop(): Promise<void>;
}

/** The projector no longer holds the lease (another took it after it expired): it stops, writing nothing. */
export class LeaseLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseLostError';
  }
}

const projectionsOf = (tracker: FactsTracker) => ({
  ...builtInProjections({ granularity: 'month' }),
  facts: readModelFacts(tracker),
});
type Projections = ReturnType<typeof projectionsOf>;

/** Rows by table, keyed by their primary key (JSON), with the row's JSON to tell changes. */
type Keyed = Map<string, Map<string, { readonly json: string; readonly row: Row }>>;

const keyOf = (table: TableDefinition): ((row: Row) => string) => {
  const keyIndexes = table.key.map((name) => table.columns.findIndex((column) => column.name === name));
  return (row) => JSON.stringify(keyIndexes.map((i) => row[i]));
};

/** The rows of the tables made from the built-in projections' results (all but the FACT_TABLES). */
const keyedRows = (session: ProjectionSession<Projections>): Keyed => {
  const rows = derivedRowsOf(session.results() as unknown as ProjectedResults);
  const keyed: Keyed = new Map();
  for (const table of TABLES) {
    if (FACT_TABLES.has(table.name)) continue;
    const key = keyOf(table);
    const map = new Map<string, { json: string; row: Row }>();
    for (const row of rows.get(table.name)!) map.set(key(row), { json: JSON.stringify(row), row });
    keyed.set(table.name, map);
  }
  return keyed;
};

/**
 * The application_name of the projector's own connections (as pg_stat_activity shows them), so that an
 * operator can tell them apart; PostgreSQL keeps 63 bytes of it.
 */
export const projectorApplicationName = (schema: string): string =>
  `partner-ledger projector ${schema}`.slice(0, 63);

// SQLSTATE classes 08 (connection exception) and 57P (the server shut the session down or is starting).
const CONNECTION_SQLSTATE = /^(08|57P0)/;
const CONNECTION_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);
// pg's own errors when the socket closes or a connection cannot be had in time.
const CONNECTION_MESSAGE =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

/** Whether an error means the connection went away (worth reconnecting), not that the work was wrong. */
export const isConnectionError = (error: unknown): boolean => {
  // Not `instanceof Error`: errors made by another realm (node's own, under a test runner's vm) are not.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (CONNECTION_SQLSTATE.test(code) || CONNECTION_ERRNO.has(code))) return true;
  return typeof message === 'string' && CONNECTION_MESSAGE.test(message);
};

/** Opens the pool the options name, checking the schema. */
export const openDatabase = (options: ProjectorDatabase): { pool: Pool; owned: boolean; schema: string } => {
  const schema = options.schema ?? DEFAULT_READ_SCHEMA;
  if (!SCHEMA_PATTERN.test(schema))
    throw new RangeError(
      `schema: expected a lower-case SQL identifier of at most 48 characters, got ${JSON.stringify(schema)}`,
    );
  if ((options.pool === undefined) === (options.connectionString === undefined))
    throw new RangeError('Give exactly one of pool and connectionString');
  if (options.pool !== undefined) return { pool: options.pool, owned: false, schema };
  const pool = new Pool({
    connectionString: options.connectionString,
    max: 2,
    application_name: projectorApplicationName(schema),
  });
  return { pool, owned: true, schema };
};

// A connection that dies while checked out emits 'error' on its client: unheard, it ends the process. The
// query under way fails with it too, which is what the projector acts on.
const ignoreClientError = (): void => undefined;
const keepClientErrorsHeard = (client: PoolClient): void => {
  client.on('error', ignoreClientError);
};

const inTransaction = async <T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect();
  client.on('error', ignoreClientError);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (isConnectionError(error)) broken = error as Error;
    else await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', ignoreClientError);
    // A broken connection is destroyed, not given back to the pool.
    client.release(broken);
  }
};

/** The position and recordedAt of the store's last event. */
const headOf = async (store: EventStore): Promise<{ position: number; recordedAt: string | null }> => {
  const position = await store.headPosition();
  if (position < 0) return { position, recordedAt: null };
  for await (const event of store.readAll({ fromPosition: position, pageSize: 1 }))
    return { position, recordedAt: event.recordedAt };
  return { position, recordedAt: null };
};

/**
 * Starts a projector: it takes the lease (waiting while another projector holds it), picks the live
 * generation or builds a new one beside it, and keeps the tables current with the store, writing each
 * batch's rows, its checkpoint and the lag row in one transaction.
 */
export const startProjector = (options: ProjectorOptions): Projector => {
  const store = options.source;
  const batchSize = options.batchSize ?? 5_000;
  const pollMs = options.pollIntervalMs ?? 500;
  const leaseSeconds = options.leaseSeconds ?? 15;
  const codeVersion = options.codeVersion ?? CODE_VERSION;
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const reconnectAttempts = options.reconnectAttempts ?? 10;
  const reconnectDelayMs = options.reconnectDelayMs ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize: expected a positive integer, got ${batchSize}`);
  if (!Number.isInteger(reconnectAttempts) || reconnectAttempts < 0)
    throw new RangeError(`reconnectAttempts: expected a non-negative integer, got ${reconnectAttempts}`);
  if (!Number.isFinite(reconnectDelayMs) || reconnectDelayMs < 0)
    throw new RangeError(`reconnectDelayMs: expected a non-negative number, got ${reconnectDelayMs}`);
  const { pool, owned, schema } = openDatabase(options);
  // An idle connection the server closes makes the pool emit 'error': unheard, it ends the process. The
  // pool drops that connection; the next query opens another.
  const onPoolError = (): void => undefined;
  pool.on('error', onPoolError);
  // And every connection the pool opens hears its own 'error' for as long as it lives, not only while a
  // transaction holds it: a session ended by the server between two queries (pg_terminate_backend, a
  // failover) emits 'error' on its client whoever holds it then, and one unheard ended the process (seen once
  // under load in the reconnect test). The query that meets the dead session fails too, which is what the
  // projector acts on.
  pool.on('connect', keepClientErrorsHeard);
  // Consecutive reconnects since the last commit.
  let failures = 0;
  let stopping = false;
  let wake: (() => void) | null = null;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });
  let token = -1;

  const fence = async (client: PoolClient): Promise<void> => {
    const renewed = await client.query(
      `UPDATE ${schema}.projector_lease SET expires_at = now() + make_interval(secs => $3)
        WHERE id = 1 AND holder = $1 AND token = $2 RETURNING token`,
      [holder, token, leaseSeconds],
    );
    if (renewed.rowCount !== 1)
      throw new LeaseLostError(
        `The projector ${holder} lost its lease on ${schema}: another projector took it`,
      );
  };

  const acquire = async (): Promise<boolean> => {
    for (;;) {
      if (stopping) return false;
      const taken = await pool.query(
        `UPDATE ${schema}.projector_lease
            SET holder = $1, token = token + 1, expires_at = now() + make_interval(secs => $2)
          WHERE id = 1 AND (holder IS NULL OR holder = $1 OR expires_at < now())
          RETURNING token`,
        [holder, leaseSeconds],
      );
      if (taken.rowCount === 1) {
        token = Number(taken.rows[0].token);
        return true;
      }
      const current = await pool.query(`SELECT holder FROM ${schema}.projector_lease WHERE id = 1`);
      options.onWaiting?.((current.rows[0]?.holder as string | null) ?? null);
      await sleep(Math.max(100, Math.min(pollMs, leaseSeconds * 250)));
    }
  };

  const setUp = async (): Promise<void> => {
    await inTransaction(pool, async (client) => {
      // Two projectors started together must not both create the control tables.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`partner-ledger-read:${schema}`]);
      for (const statement of controlDdl(schema)) await client.query(statement);
    });
  };

  /** Picks the generation to write: the live one if its code is current, else one built beside it. */
  const chooseGeneration = (): Promise<{ generation: number; live: boolean }> =>
    inTransaction(pool, async (client) => {
      await fence(client);
      const control = (
        await client.query(`SELECT * FROM ${schema}.projector_control WHERE id = 1 FOR UPDATE`)
      ).rows[0] as {
        live_generation: number | null;
        live_code_version: string | null;
        building_generation: number | null;
        building_code_version: string | null;
        last_generation: number;
      };
      if (control.live_generation !== null && control.live_code_version === codeVersion)
        return { generation: control.live_generation, live: true };
      if (control.building_generation !== null && control.building_code_version === codeVersion)
        return { generation: control.building_generation, live: false };
      if (control.building_generation !== null)
        await client.query(
          `DROP SCHEMA IF EXISTS ${generationSchema(schema, control.building_generation)} CASCADE`,
        );
      const generation = control.last_generation + 1;
      const target = generationSchema(schema, generation);
      await client.query(`DROP SCHEMA IF EXISTS ${target} CASCADE`);
      for (const statement of generationDdl(target)) await client.query(statement);
      if (control.live_generation === null) {
        // The first generation: readers get its (empty, then filling) tables at once.
        for (const statement of viewsDdl(schema, target)) await client.query(statement);
        await client.query(
          `UPDATE ${schema}.projector_control SET live_generation = $1, live_code_version = $2,
             building_generation = NULL, building_code_version = NULL, last_generation = $1 WHERE id = 1`,
          [generation, codeVersion],
        );
        return { generation, live: true };
      }
      await client.query(
        `UPDATE ${schema}.projector_control SET building_generation = $1, building_code_version = $2,
           last_generation = $1 WHERE id = 1`,
        [generation, codeVersion],
      );
      return { generation, live: false };
    });

  const loadCheckpoint = async (
    target: string,
  ): Promise<{
    checkpoint: Checkpoint | undefined;
    lastRecordedAt: string | null;
    stored: Map<string, string>;
    facts: FactsState;
  }> => {
    await pool.query(stateDdl(target));
    await pool.query(factsDdl(target));
    const found = await pool.query(
      `SELECT checkpoint, last_recorded_at FROM ${target}.projector_checkpoint WHERE id = 1`,
    );
    const stored = new Map<string, string>();
    const facts = emptyFacts();
    if (found.rowCount === 0) return { checkpoint: undefined, lastRecordedAt: null, stored, facts };
    for (const row of (await pool.query(`SELECT kind, id, body FROM ${target}.projector_facts`))
      .rows as Array<{
      kind: 'partner' | 'line' | 'payout' | 'last_payout';
      id: string;
      body: string;
    }>) {
      const entries: Record<string, unknown> =
        row.kind === 'partner'
          ? facts.partners
          : row.kind === 'line'
            ? facts.lines
            : row.kind === 'payout'
              ? facts.payouts
              : facts.lastPayout;
      entries[row.id] = JSON.parse(row.body);
    }
    const parts = new Map<string, string>();
    for (const row of (await pool.query(`SELECT part, body FROM ${target}.projector_state`)).rows as Array<{
      part: string;
      body: string;
    }>) {
      parts.set(row.part, row.body);
      stored.set(row.part, digestOf(row.body));
    }
    return {
      checkpoint: parseCheckpoint(JSON.stringify(joinState(found.rows[0].checkpoint as string, parts))),
      lastRecordedAt: iso(found.rows[0].last_recorded_at as Date | null),
      stored,
      facts,
    };
  };

  /** Projects from the last committed checkpoint until stopped (or caught up, with exitWhenCaughtUp). */
  const runFromCheckpoint = async (): Promise<void> => {
    await setUp();
    if (!(await acquire())) return;
    let target = await chooseGeneration();
    let targetSchema = generationSchema(schema, target.generation);
    const sessionOptions = {
      store,
      ...(options.reportingCurrency === undefined ? {} : { reportingCurrency: options.reportingCurrency }),
    };
    const loaded = await loadCheckpoint(targetSchema);
    // The facts' entries changed since the last commit: only those are written, with their rows.
    const tracker: FactsTracker = {
      state: loaded.facts,
      partners: new Set(),
      lines: new Set(),
      lastPayouts: new Set(),
      payouts: new Set(),
      movements: [],
      lineChanges: [],
      revenueMovements: [],
    };
    const session = createSession(projectionsOf(tracker), sessionOptions, loaded.checkpoint);
    let lastRecordedAt = loaded.lastRecordedAt;
    // The parts of the state as committed (id -> digest): a commit writes only those that differ.
    const stored = loaded.stored;
    // The latest occurredAt projected (the checkpoint's), as of the last commit.
    let asOf = loaded.checkpoint?.lastOccurredAt ?? null;
    let previous = keyedRows(session);
    const factsState = tracker.state;
    const partnersTable = TABLES.find((table) => table.name === 'partners')!;
    const linesTable = TABLES.find((table) => table.name === 'commission_lines')!;
    const movementsTable = TABLES.find((table) => table.name === 'balance_movements')!;
    const lineChangesTable = TABLES.find((table) => table.name === 'commission_line_changes')!;
    const revenueMovementsTable = TABLES.find((table) => table.name === 'revenue_movements')!;
    /** The facts' entries and rows of the partners and lines the batch changed (or removed). */
    const writeFactRows = async (client: PoolClient): Promise<void> => {
      const entries: Array<[string, string, string | null]> = [];
      const partners: Row[] = [];
      const goneLines: Row[] = [];
      const lines: Row[] = [];
      for (const id of tracker.partners) {
        const fact = factsState.partners[id];
        entries.push(['partner', id, fact === undefined ? null : JSON.stringify(fact)]);
        if (fact !== undefined) partners.push(partnerRow(id, fact));
      }
      for (const id of tracker.lines) {
        const fact = factsState.lines[id];
        entries.push(['line', id, fact === undefined ? null : JSON.stringify(fact)]);
        if (fact === undefined) goneLines.push([id]);
        else lines.push(lineRow(id, fact));
      }
      // (A payout's row is made from the statements with these times: it is diffed with the derived rows.)
      for (const id of tracker.payouts) {
        const fact = factsState.payouts[id];
        entries.push(['payout', id, fact === undefined ? null : JSON.stringify(fact)]);
      }
      for (const id of tracker.lastPayouts) {
        const fact = factsState.lastPayout[id];
        entries.push(['last_payout', id, fact === undefined ? null : JSON.stringify(fact)]);
      }
      if (partners.length > 0) await upsertRows(client, targetSchema, partnersTable, partners);
      if (goneLines.length > 0) await deleteRows(client, targetSchema, linesTable, goneLines);
      if (lines.length > 0) await upsertRows(client, targetSchema, linesTable, lines);
      // Appended with the checkpoint that covers their events: a restart re-reads only events not committed.
      if (tracker.movements.length > 0)
        await upsertRows(client, targetSchema, movementsTable, tracker.movements.map(movementRow));
      if (tracker.lineChanges.length > 0)
        await upsertRows(client, targetSchema, lineChangesTable, tracker.lineChanges.map(lineChangeRow));
      if (tracker.revenueMovements.length > 0)
        await upsertRows(
          client,
          targetSchema,
          revenueMovementsTable,
          tracker.revenueMovements.map(revenueMovementRow),
        );
      await writeFacts(client, targetSchema, entries);
    };
    let lastWritten = -2;

    for (;;) {
      if (stopping) return;
      const from = session.position + 1;
      const limit =
        options.growBatches === false ? batchSize : Math.max(batchSize, Math.floor(session.eventsRead / 2));
      let read = 0;
      for await (const event of store.readAll({ fromPosition: from, pageSize: Math.min(batchSize, 1_000) })) {
        if (event.type === 'ConversionReversed') await session.prepare(event);
        session.handle(event);
        lastRecordedAt = event.recordedAt;
        read += 1;
        if (read >= limit) break;
      }
      const head = await headOf(store);
      const caughtUp = session.position >= head.position;
      const swap = caughtUp && !target.live;
      const next = read > 0 ? keyedRows(session) : previous;
      const writing = read > 0 || lastWritten !== session.position;
      // Idle polls write only the lag row: the state is split and compared only when it has moved.
      const checkpoint = writing ? session.checkpoint() : null;
      if (checkpoint !== null) asOf = checkpoint.lastOccurredAt;
      const split = checkpoint === null ? null : splitState(checkpoint);
      const { upserts, deletes } =
        split === null ? { upserts: [], deletes: [] } : diffParts(stored, split.parts);
      const status = await inTransaction(pool, async (client) => {
        await fence(client);
        if (split !== null) {
          for (const table of TABLES) {
            if (FACT_TABLES.has(table.name)) continue;
            const before = previous.get(table.name)!;
            const after = next.get(table.name)!;
            const changed: Row[] = [];
            for (const [key, value] of after)
              if (before.get(key)?.json !== value.json) changed.push(value.row);
            const gone: Row[] = [];
            for (const key of before.keys()) if (!after.has(key)) gone.push(JSON.parse(key) as Row);
            if (gone.length > 0) await deleteRows(client, targetSchema, table, gone);
            if (changed.length > 0) await upsertRows(client, targetSchema, table, changed);
          }
          await writeFactRows(client);
          await writeStateParts(client, targetSchema, upserts, deletes);
          await client.query(
            `INSERT INTO ${targetSchema}.projector_checkpoint (id, position, code_version, checkpoint, last_recorded_at)
             VALUES (1, $1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET position = EXCLUDED.position, code_version = EXCLUDED.code_version,
               checkpoint = EXCLUDED.checkpoint, last_recorded_at = EXCLUDED.last_recorded_at`,
            [session.position, codeVersion, split.root, lastRecordedAt],
          );
        }
        if (swap) {
          const control = await client.query(
            `SELECT live_generation FROM ${schema}.projector_control WHERE id = 1 FOR UPDATE`,
          );
          const old = control.rows[0].live_generation as number | null;
          await swapViews(client, schema, targetSchema);
          if (old !== null)
            await client.query(`DROP SCHEMA IF EXISTS ${generationSchema(schema, old)} CASCADE`);
          await client.query(
            `UPDATE ${schema}.projector_control SET live_generation = $1, live_code_version = $2,
               building_generation = NULL, building_code_version = NULL WHERE id = 1`,
            [target.generation, codeVersion],
          );
        }
        const live = target.live || swap;
        const secondsBehind =
          caughtUp || head.recordedAt === null || lastRecordedAt === null
            ? 0
            : Math.max(0, (Date.parse(head.recordedAt) - Date.parse(lastRecordedAt)) / 1000);
        const written = await client.query(
          `INSERT INTO ${schema}.projector_status AS s (id, generation, code_version, state, position, events_read,
             head_position, events_behind, seconds_behind, last_recorded_at, head_recorded_at, as_of,
             reporting_currency, updated_at)
           VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, clock_timestamp())
           ON CONFLICT (id) DO UPDATE SET generation = EXCLUDED.generation, code_version = EXCLUDED.code_version,
             state = EXCLUDED.state, position = EXCLUDED.position, events_read = EXCLUDED.events_read,
             head_position = EXCLUDED.head_position, events_behind = EXCLUDED.events_behind,
             seconds_behind = EXCLUDED.seconds_behind, last_recorded_at = EXCLUDED.last_recorded_at,
             head_recorded_at = EXCLUDED.head_recorded_at, as_of = EXCLUDED.as_of,
             reporting_currency = EXCLUDED.reporting_currency, updated_at = EXCLUDED.updated_at
           RETURNING *`,
          [
            target.generation,
            codeVersion,
            !live ? 'rebuilding' : caughtUp ? 'live' : 'catching-up',
            session.position,
            session.eventsRead,
            head.position,
            Math.max(0, head.position - session.position),
            secondsBehind.toFixed(3),
            lastRecordedAt,
            head.recordedAt,
            asOf,
            session.reference.reportingCurrency ?? null,
          ],
        );
        return statusOf(written.rows[0] as StatusRow);
      });
      previous = next;
      tracker.partners.clear();
      tracker.lines.clear();
      tracker.lastPayouts.clear();
      tracker.payouts.clear();
      tracker.movements.length = 0;
      tracker.lineChanges.length = 0;
      tracker.revenueMovements.length = 0;
      for (const id of deletes) stored.delete(id);
      for (const [id, , digest] of upserts) stored.set(id, digest);
      lastWritten = session.position;
      failures = 0;
      if (swap) {
        target = { generation: target.generation, live: true };
        targetSchema = generationSchema(schema, target.generation);
      }
      options.onProgress?.(status);
      if (caughtUp) {
        if (options.exitWhenCaughtUp === true) return;
        await sleep(pollMs);
      }
    }
  };

  /**
   * Runs from the last checkpoint, and again from the then last one whenever the connection breaks: the
   * state in memory may be ahead of what was committed (a COMMIT whose answer was lost may or may not have
   * happened), so it is reloaded from the database, which holds the truth.
   */
  const run = async (): Promise<void> => {
    for (;;) {
      try {
        await runFromCheckpoint();
        return;
      } catch (error) {
        if (stopping || !isConnectionError(error) || failures >= reconnectAttempts) throw error;
        failures += 1;
        const delayMs = Math.min(reconnectDelayMs * 2 ** (failures - 1), 30_000);
        options.onReconnect?.({ attempt: failures, delayMs, error: error as Error });
        await sleep(delayMs);
        if (stopping) return;
      }
    }
  };

  const release = async (): Promise<void> => {
    if (token < 0) return;
    await pool
      .query(
        `UPDATE ${schema}.projector_lease SET holder = NULL, expires_at = '-infinity'
          WHERE id = 1 AND holder = $1 AND token = $2`,
        [holder, token],
      )
      .catch(() => undefined);
  };

  const done = (async () => {
    try {
      await run();
      await release();
    } finally {
      if (owned) await pool.end();
      pool.off('error', onPoolError);
      pool.off('connect', keepClientErrorsHeard);
    }
  })();
  done.catch(() => undefined);
  return {
    done,
    stop: async () => {
      stopping = true;
      wake?.();
      await done.catch(() => undefined);
    },
  };
};

interface StatusRow {
  generation: number;
  code_version: string;
  state: ProjectorStatus['state'];
  position: string;
  events_read: string;
  head_position: string;
  events_behind: string;
  seconds_behind: string;
  last_recorded_at: Date | null;
  head_recorded_at: Date | null;
  as_of: Date | null;
  reporting_currency: string | null;
  updated_at: Date;
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

const statusOf = (row: StatusRow): ProjectorStatus => ({
  generation: row.generation,
  codeVersion: row.code_version,
  state: row.state,
  position: Number(row.position),
  eventsRead: Number(row.events_read),
  headPosition: Number(row.head_position),
  eventsBehind: Number(row.events_behind),
  secondsBehind: Number(row.seconds_behind),
  lastRecordedAt: iso(row.last_recorded_at),
  headRecordedAt: iso(row.head_recorded_at),
  asOf: iso(row.as_of),
  reportingCurrency: row.reporting_currency,
  updatedAt: row.updated_at.toISOString(),
});

/** Reads the lag row of the projector writing into the schema: null when none has written yet. */
export const readProjectorStatus = async (database: ProjectorDatabase): Promise<ProjectorStatus | null> => {
  const { pool, owned, schema } = openDatabase(database);
  try {
    const exists = await pool.query(`SELECT to_regclass($1) AS t`, [`${schema}.projector_status`]);
    if (exists.rows[0].t === null) return null;
    const found = await pool.query(`SELECT * FROM ${schema}.projector_status WHERE id = 1`);
    return found.rowCount === 0 ? null : statusOf(found.rows[0] as StatusRow);
  } finally {
    if (owned) await pool.end();
  }
};
