import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { builtInProjections, createSession, parseCheckpoint } from '@partner-ledger/projections';
import type { Checkpoint, ProjectionSession } from '@partner-ledger/projections';
import type { EventStore } from '@partner-ledger/store';
import type { PoolClient } from 'pg';
import { inTransaction, isConnectionError, keepClientErrorsHeard, openDatabase } from './database';
import type { ProjectorDatabase } from './database';
import { emptyFacts, readModelFacts } from './facts';
import type { FactsState, FactsTracker } from './facts';
import {
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
import { iso, statusOf } from './status';
import type { ProjectorStatus, StatusRow } from './status';
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

// The connection and the lag row live in database.ts and status.ts; the two functions and the type the
// projector's own tests take from this file are exported from it as well.
export { projectorApplicationName } from './database';
export { readProjectorStatus } from './status';
export type { ProjectorStatus } from './status';

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
