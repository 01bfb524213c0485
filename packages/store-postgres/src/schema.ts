import type { PoolClient } from 'pg';

// The store's tables, created and migrated by the store itself. Migrations are numbered, applied in order,
// each recorded in `schema_migrations`, all in one transaction under an advisory lock: when several
// service instances start together, one migrates and the others wait, then find nothing left to do.

/** A schema name the store accepts: a plain lower-case SQL identifier, so that it never needs escaping. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema the store uses when none is given. */
export const DEFAULT_SCHEMA = 'partner_ledger';

export const assertSchemaName = (schema: string): void => {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new RangeError(
      `schema must be a lower-case SQL identifier (letters, digits, _; at most 63; not starting with a digit), got ${JSON.stringify(schema)}`,
    );
  }
};

/** One step of the schema: applied once, in version order, under an advisory lock. */
export interface Migration {
  /** Its place in the order; recorded in the schema once applied. */
  readonly version: number;
  /** What it does, in a few words. */
  readonly name: string;
  /** Its SQL, for the schema the store was given. */
  readonly sql: (schema: string) => string;
}

/** Every migration of the store's schema, oldest first (docs/stores.md describes the tables). */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, streams, tags',
    sql: (s) => `
      -- One row per stream: the lock an append takes (SELECT ... FOR UPDATE), and the stream's last
      -- revision and hash, from which the next events are chained.
      CREATE TABLE ${s}.streams (
        stream text PRIMARY KEY,
        last_revision integer NOT NULL,
        last_hash text
      );
      -- One value per append, taken under the stream's lock: the order in which the sealer numbers
      -- committed appends.
      CREATE SEQUENCE ${s}.batches;
      CREATE TABLE ${s}.events (
        batch bigint NOT NULL,
        batch_index integer NOT NULL,
        -- NULL until sealed: a committed append is given its global positions by the sealer.
        position bigint,
        id text NOT NULL,
        stream text NOT NULL,
        revision integer NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        occurred_at text NOT NULL,
        recorded_at text NOT NULL,
        actor text NOT NULL,
        correlation_id text NOT NULL,
        causation_id text,
        -- The canonical JSON that the hash covers, byte for byte; verify recomputes the hash from it.
        data_text text NOT NULL,
        -- A copy for SQL queries; NULL only for data that jsonb cannot hold (a string with a NUL character).
        data jsonb,
        prev_hash text,
        hash text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        PRIMARY KEY (batch, batch_index),
        CONSTRAINT events_id_key UNIQUE (id),
        CONSTRAINT events_stream_revision_key UNIQUE (stream, revision),
        CONSTRAINT events_position_key UNIQUE (position)
      );
      -- What the sealer has left to number: small, since rows leave it as soon as they are sealed.
      CREATE INDEX events_unsealed ON ${s}.events (batch, batch_index) WHERE position IS NULL;
      -- One row per tag: the lock a tagged or conditional append takes, and the last append with the tag.
      CREATE TABLE ${s}.tags (
        tag text PRIMARY KEY,
        last_batch bigint
      );
    `,
  },
  {
    version: 2,
    name: 'seal function',
    // The seal runs inside the server, in one statement: it holds the seal lock only for its own work and
    // its commit, never across a round trip to a client. A writer whose append an earlier seal numbered
    // seals nothing (no write, no flush), so under load one seal's flush serves many appends.
    sql: (s) => `
      CREATE FUNCTION ${s}.seal(p_own bigint) RETURNS TABLE (sealed bigint, own_positions bigint[])
      LANGUAGE plpgsql AS $seal$
      DECLARE
        v_head bigint;
        v_count bigint := 0;
        v_last bigint;
      BEGIN
        PERFORM pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext('${lockKey(s, 'seal')}'));
        -- Each statement below takes its snapshot after the lock: it sees every append committed before.
        IF p_own IS NULL OR EXISTS (SELECT 1 FROM ${s}.events e WHERE e.batch = p_own AND e.position IS NULL) THEN
          SELECT coalesce(max(e.position), -1) INTO v_head FROM ${s}.events e;
          WITH pending AS (
            SELECT e.batch, e.batch_index, row_number() OVER (ORDER BY e.batch, e.batch_index) AS n
            FROM ${s}.events e WHERE e.position IS NULL
          ),
          numbered AS (
            UPDATE ${s}.events e SET position = v_head + pending.n
            FROM pending
            WHERE e.batch = pending.batch AND e.batch_index = pending.batch_index
            RETURNING e.position
          )
          SELECT count(*), max(numbered.position) INTO v_count, v_last FROM numbered;
          IF v_count > 0 THEN
            PERFORM pg_notify('${notifyChannel(s)}', v_last::text);
          END IF;
        END IF;
        RETURN QUERY SELECT v_count,
          (SELECT array_agg(e.position ORDER BY e.batch_index) FROM ${s}.events e WHERE e.batch = p_own);
      END
      $seal$;
    `,
  },
];

/** The channel on which the seal notifies listeners of new events. */
export const notifyChannel = (schema: string): string => `partner_ledger_${schema}`;

/** The advisory-lock keys of a schema: one namespace for this library, one key per schema and purpose. */
export const LOCK_NAMESPACE = 0x504c; // "PL"
export const lockKey = (schema: string, purpose: 'migrate' | 'seal'): string => `${purpose}:${schema}`;

/** Creates the schema and applies the migrations it lacks; returns the versions applied now. */
export const migrate = async (client: PoolClient, schema: string): Promise<number[]> => {
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      LOCK_NAMESPACE,
      lockKey(schema, 'migrate'),
    ]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${schema}.schema_migrations`,
    );
    const done = new Set(rows.map((row) => row.version));
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    const newer = [...done].filter((version) => version > known);
    if (newer.length > 0) {
      throw new Error(
        `schema ${schema} has migration ${Math.max(...newer)}, newer than this version of @partner-ledger/store-postgres knows (${known}): upgrade the package`,
      );
    }
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql(schema));
      await client.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
};
