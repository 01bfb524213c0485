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

/** The name of the append function this version calls (migration 6). */
export const APPEND_V6 = 'append_v6';

/** The name of the group append function this version calls (migration 7). */
export const APPEND_GROUP_V7 = 'append_group_v7';

/** Migration 4's additions to the append function: its variables. */
const DIRECT_DECLARE = `        v_head bigint;
        v_count bigint;
        v_first bigint;
`;

/**
 * Migration 4's additions to the append function: when the seal lock is free, the append takes it and
 * numbers itself, after every committed append still waiting for its numbers, then commits synchronously
 * with the lock held, as a seal does. Its events are then written once, with their positions, in one
 * transaction. When the lock is taken (another writer is sealing) it writes as migration 3 did, without
 * positions and without a flush, and a seal numbers it.
 */
const directNumbering = (s: string, lean = false): string => `        v_first := NULL;
        IF pg_try_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext('${lockKey(s, 'seal')}')) THEN
          -- Under the lock, after every seal's commit: the head is the last position given.
${
  lean
    ? `          -- Migration 6: the numbering of waiting appends only when there are some (one probe of the small
          -- index of unsealed rows, read in the same statement as the head), not a plan of a window, a
          -- join and an update started and ended for every append.
          SELECT coalesce((SELECT max(e.position) FROM ${s}.events e), -1),
            EXISTS (SELECT 1 FROM ${s}.events e WHERE e.position IS NULL)
            INTO v_head, v_pending;
          v_count := 0;
          IF v_pending THEN
${numberPending(s).replace(/^(?=.)/gm, '  ')}          END IF;`
    : `          SELECT coalesce(max(e.position), -1) INTO v_head FROM ${s}.events e;
${numberPending(s).trimEnd()}`
}
          v_first := v_head + v_count + 1;
          -- Visible only once flushed, like a seal: the client's SET LOCAL synchronous_commit = off undone.
          PERFORM set_config('synchronous_commit', 'on', true);
        END IF;
`;

/** Numbers the committed appends still waiting for their positions, after v_head; counts them in v_count. */
const numberPending = (s: string): string => `          WITH pending AS (
            SELECT e.batch, e.batch_index, row_number() OVER (ORDER BY e.batch, e.batch_index) AS n
            FROM ${s}.events e WHERE e.position IS NULL
          ),
          numbered AS (
            UPDATE ${s}.events e SET position = v_head + pending.n
            FROM pending
            WHERE e.batch = pending.batch AND e.batch_index = pending.batch_index
            RETURNING e.position
          )
          SELECT count(*) INTO v_count FROM numbered;
`;

/** Migration 4's additions to the append function: the notification and the count its seal reports. */
const directNotify = (s: string, lean = false): string =>
  lean
    ? `        IF v_first IS NOT NULL THEN
          PERFORM pg_notify('${notifyChannel(s)}', (v_first + cardinality(p_ids) - 1)::text);
        END IF;
`
    : `        IF v_first IS NOT NULL THEN
          PERFORM pg_notify('${notifyChannel(s)}', (v_first + cardinality(p_ids) - 1)::text);
          PERFORM set_config('partner_ledger.sealed', (v_count + cardinality(p_ids))::text, false);
        ELSE
          PERFORM set_config('partner_ledger.sealed', '', false);
        END IF;
`;

/** Migrations 3 to 5: the stream's row locked by an upsert that updates it (a new tuple version). */
const lockStreamUpsert = (
  s: string,
): string => `        INSERT INTO ${s}.streams AS st (stream, last_revision) VALUES (p_stream, -1)
          ON CONFLICT (stream) DO UPDATE SET last_revision = st.last_revision
          RETURNING st.last_revision, st.last_hash INTO v_last, v_hash;
`;

/**
 * Migration 6: the stream's row locked with SELECT ... FOR UPDATE, which only marks the tuple, and created
 * (by the upsert, which also locks it, and is safe when two appends create the stream together) only when
 * missing. The append's one UPDATE of the row comes at its end.
 */
const lockStreamLean = (
  s: string,
): string => `        SELECT st.last_revision, st.last_hash INTO v_last, v_hash
          FROM ${s}.streams st WHERE st.stream = p_stream FOR UPDATE;
        IF NOT FOUND THEN
${lockStreamUpsert(s).replace(/^(?=.)/gm, '  ')}        END IF;
`;

/** The events' rows, from the arrays, with their positions when the append numbered itself (`direct`). */
const insertEvents = (
  s: string,
  direct: boolean,
): string => `        INSERT INTO ${s}.events (batch, batch_index, id, stream, revision, type, schema_version, occurred_at,
          recorded_at, actor, correlation_id, causation_id, data_text, data, prev_hash, hash, tags${direct ? ', position' : ''})
        SELECT v_batch, u.ord - 1, u.id, p_stream, u.revision, u.type, u.schema_version, u.occurred_at,
          u.recorded_at, u.actor, u.correlation_id, u.causation_id, u.data_text, u.data_json::jsonb,
          u.prev_hash, u.hash, p_tags${direct ? ', v_first + u.ord - 1' : ''}
        FROM unnest(p_ids, p_revisions, p_types, p_schema_versions, p_occurred_at, p_recorded_at, p_actors,
          p_correlation_ids, p_causation_ids, p_data_texts, p_data_json, p_prev_hashes, p_hashes)
          WITH ORDINALITY AS u(id, revision, type, schema_version, occurred_at, recorded_at, actor,
            correlation_id, causation_id, data_text, data_json, prev_hash, hash, ord);
`;

/**
 * Migration 6: one event (the common append) is inserted from the arrays' first elements, without the
 * unnest of thirteen arrays, which the server runs as thirteen function scans, each gathering its one row
 * in a tuplestore of its own: creating them took 10% of the server process's CPU samples in a profile of
 * single-event appends (perf, docs/benchmarks.md), mostly allocating and faulting in their memory.
 */
const insertLean = (s: string): string => `        IF cardinality(p_ids) = 1 THEN
          INSERT INTO ${s}.events (batch, batch_index, id, stream, revision, type, schema_version, occurred_at,
            recorded_at, actor, correlation_id, causation_id, data_text, data, prev_hash, hash, tags, position)
          VALUES (v_batch, 0, p_ids[1], p_stream, p_revisions[1], p_types[1], p_schema_versions[1],
            p_occurred_at[1], p_recorded_at[1], p_actors[1], p_correlation_ids[1], p_causation_ids[1],
            p_data_texts[1], p_data_json[1]::jsonb, p_prev_hashes[1], p_hashes[1], p_tags, v_first);
        ELSE
${insertEvents(s, true).replace(/^(?=.)/gm, '  ')}        END IF;
`;

/**
 * The `append` function: migration 3 creates it; migration 4 replaces it with one that numbers the append
 * itself when the seal lock is free (`direct`).
 */
const appendFunction = (
  s: string,
  direct: boolean,
  form: 'table' | 'record' = 'table',
  lean = false,
): string => {
  const answer = (values: string, last = false): string =>
    form === 'table'
      ? `RETURN QUERY SELECT ${values};${last ? '' : '\n          RETURN;'}`
      : `SELECT ${values} INTO r_status, r_batch, r_last_revision, r_last_hash, r_tag, r_tag_position;\n          RETURN;`;
  return `      CREATE ${direct && form === 'table' ? 'OR REPLACE ' : ''}FUNCTION ${s}.${lean ? APPEND_V6 : 'append'}(
        p_stream text, p_expected text, p_head_revision integer, p_head_hash text,
        p_tags text[], p_fail_if_tagged text[], p_after bigint,
        p_ids text[], p_revisions integer[], p_types text[], p_schema_versions integer[],
        p_occurred_at text[], p_recorded_at text[], p_actors text[], p_correlation_ids text[],
        p_causation_ids text[], p_data_texts text[], p_data_json text[], p_prev_hashes text[], p_hashes text[]${
          form === 'table'
            ? `
      ) RETURNS TABLE (r_status text, r_batch bigint, r_last_revision integer, r_last_hash text, r_tag text, r_tag_position bigint)
      LANGUAGE plpgsql AS $append$`
            : `,
        OUT r_status text, OUT r_batch bigint, OUT r_last_revision integer, OUT r_last_hash text, OUT r_tag text,
        OUT r_tag_position bigint${lean ? ', OUT r_first_position bigint, OUT r_sealed bigint' : ''}
      ) LANGUAGE plpgsql SET enable_seqscan = off AS $append$`
        }
      DECLARE
        v_last integer;
        v_hash text;
        v_tag text;
        v_batch bigint;
        v_max bigint;
        v_unsealed boolean;
        v_locked text[];
${direct ? DIRECT_DECLARE : ''}${lean ? '        v_pending boolean;\n' : ''}      BEGIN
${
  lean
    ? ''
    : `        -- What the seal that follows in the same round trip numbers: nothing unless this call writes.
        PERFORM set_config('partner_ledger.batch', '', false);
`
}${
    lean
      ? `        -- Called alone, in a transaction of its own: its commit waits for the disk only when it numbers
        -- itself (below), as when the client set this before calling it.
        PERFORM set_config('synchronous_commit', 'off', true);
`
      : ''
  }        -- The stream's row, created if missing and locked: appends to one stream take turns from here.
${lean ? lockStreamLean(s) : lockStreamUpsert(s)}        -- An id already stored: a retry or a duplicate, which the client classifies on its longer path.
        IF EXISTS (SELECT 1 FROM ${s}.events e WHERE e.id = ANY(p_ids)) THEN
          ${answer(`'ids'::text, NULL::bigint, v_last, v_hash, NULL::text, NULL::bigint`)}
        END IF;
        IF NOT (p_expected = 'any'
            OR (p_expected = 'noStream' AND v_last < 0)
            OR (p_expected = 'streamExists' AND v_last >= 0)
            OR (p_expected ~ '^[0-9]+$' AND p_expected::integer = v_last)) THEN
          ${answer(`'revision'::text, NULL::bigint, v_last, v_hash, NULL::text, NULL::bigint`)}
        END IF;
        -- The client chained its events on another head: it chains them again on this one.
        IF v_last <> p_head_revision OR v_hash IS DISTINCT FROM p_head_hash THEN
          ${answer(`'stale'::text, NULL::bigint, v_last, v_hash, NULL::text, NULL::bigint`)}
        END IF;
${
  lean
    ? `        -- Only when there are tags: the query runs an unnest and a sort, each with memory of its own.
        IF cardinality(p_tags) + cardinality(p_fail_if_tagged) > 0 THEN
          v_locked := ARRAY(SELECT DISTINCT u FROM unnest(p_tags || p_fail_if_tagged) AS u ORDER BY u);
        END IF;
        IF cardinality(v_locked) > 0 THEN`
    : `        v_locked := ARRAY(SELECT DISTINCT u FROM unnest(p_tags || p_fail_if_tagged) AS u ORDER BY u);
        IF cardinality(v_locked) > 0 THEN`
}
          -- Created if missing and locked in sorted order: no deadlock between two appends.
          INSERT INTO ${s}.tags AS g (tag) SELECT unnest(v_locked) ORDER BY 1
            ON CONFLICT (tag) DO UPDATE SET last_batch = g.last_batch;
          -- The condition's tags in its own order, so that the error names the first one that fails.
          FOREACH v_tag IN ARRAY p_fail_if_tagged LOOP
            SELECT g.last_batch INTO v_batch FROM ${s}.tags g WHERE g.tag = v_tag;
            CONTINUE WHEN v_batch IS NULL;
            SELECT max(e.position), bool_or(e.position IS NULL) INTO v_max, v_unsealed
              FROM ${s}.events e WHERE e.batch = v_batch;
            IF v_unsealed THEN
              ${answer(`'unsealed'::text, v_batch, v_last, v_hash, v_tag, NULL::bigint`).replace('\n', '\n    ')}
            END IF;
            IF v_max > p_after THEN
              ${answer(`'condition'::text, v_batch, v_last, v_hash, v_tag, v_max`).replace('\n', '\n    ')}
            END IF;
          END LOOP;
        END IF;
        v_batch := nextval('${s}.batches');
${direct ? directNumbering(s, lean) : ''}${lean ? insertLean(s) : insertEvents(s, direct)}        v_last := p_revisions[cardinality(p_revisions)];
        v_hash := p_hashes[cardinality(p_hashes)];
        UPDATE ${s}.streams st SET last_revision = v_last, last_hash = v_hash WHERE st.stream = p_stream;
        IF cardinality(p_tags) > 0 THEN
          UPDATE ${s}.tags g SET last_batch = v_batch WHERE g.tag = ANY(p_tags);
        END IF;
${lean ? '' : `        PERFORM set_config('partner_ledger.batch', v_batch::text, false);\n`}${direct ? directNotify(s, lean) : ''}${
    lean
      ? `        -- The positions and the count a seal would report, when the append numbered itself (the client
        -- names the batch it seals otherwise: nothing is left on the session).
        r_first_position := v_first;
        r_sealed := v_count + cardinality(p_ids);
`
      : ''
  }        ${answer(`'written'::text, v_batch, v_last, v_hash, NULL::text, NULL::bigint`, true)}
      END
      $append$;
`;
};

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
  {
    version: 3,
    name: 'append function',
    // A whole append in one call, so that the client sends an append and its seal in one round trip. The
    // client chains the events (revisions, hash links) on the stream head it expects; the function checks,
    // under the stream's lock, every rule the store enforces, and writes only when they all hold. When it
    // cannot decide alone (an id already stored, a tag whose last append is not numbered yet) or the
    // client's head was stale, it writes nothing and says so: the client then takes the longer path.
    sql: (s) => `
${appendFunction(s, false)}      -- The seal of the batch the last append call on this connection wrote, or nothing at all. (A writer
      -- that finds its append already numbered by another writer's seal returns at once, without the lock:
      -- a seal's update is visible only once its commit is flushed.)
      CREATE FUNCTION ${s}.seal_written() RETURNS TABLE (sealed bigint, own_positions bigint[])
      LANGUAGE plpgsql AS $sealw$
      DECLARE
        v_own bigint := nullif(current_setting('partner_ledger.batch', true), '')::bigint;
      BEGIN
        IF v_own IS NULL THEN
          RETURN QUERY SELECT 0::bigint, NULL::bigint[];
        ELSIF NOT EXISTS (SELECT 1 FROM ${s}.events e WHERE e.batch = v_own AND e.position IS NULL) THEN
          RETURN QUERY SELECT 0::bigint,
            (SELECT array_agg(e.position ORDER BY e.batch_index) FROM ${s}.events e WHERE e.batch = v_own);
        ELSE
          RETURN QUERY SELECT * FROM ${s}.seal(v_own);
        END IF;
      END
      $sealw$;
    `,
  },
  {
    version: 4,
    name: 'seal without a queue',
    // Migration 3's writers queued for the seal lock one after another, each waiting for the previous
    // holder's commit, even when the seal running ahead of them had already numbered their appends: with
    // many writers most of their time went to that queue. Here a writer whose append is not numbered yet
    // takes the seal lock only if it is free; if a seal is running it waits for that seal's commit on a
    // shared lock, which every such writer holds together (so they all wake at once), then looks again.
    // The shared lock is taken in a subtransaction that is rolled back at once, which releases it
    // however the wait ends. After a few rounds it queues for the lock as before, so a writer cannot
    // keep missing a free lock.
    sql: (s) => `
      CREATE FUNCTION ${s}.seal_wait(p_own bigint) RETURNS TABLE (sealed bigint, own_positions bigint[])
      LANGUAGE plpgsql AS $sealwait$
      DECLARE
        v_round integer := 0;
      BEGIN
        LOOP
          -- A new snapshot each time round: a seal that committed meanwhile is seen.
          IF NOT EXISTS (SELECT 1 FROM ${s}.events e WHERE e.batch = p_own AND e.position IS NULL) THEN
            RETURN QUERY SELECT 0::bigint,
              (SELECT array_agg(e.position ORDER BY e.batch_index) FROM ${s}.events e WHERE e.batch = p_own);
            RETURN;
          END IF;
          v_round := v_round + 1;
          IF v_round > ${SEAL_WAIT_ROUNDS}
              OR pg_try_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext('${lockKey(s, 'seal')}')) THEN
            RETURN QUERY SELECT * FROM ${s}.seal(p_own);
            RETURN;
          END IF;
          BEGIN
            PERFORM pg_advisory_xact_lock_shared(${LOCK_NAMESPACE}, hashtext('${lockKey(s, 'seal')}'));
            RAISE EXCEPTION USING ERRCODE = 'PLSW0';
          EXCEPTION WHEN SQLSTATE 'PLSW0' THEN
            NULL;
          END;
        END LOOP;
      END
      $sealwait$;
${appendFunction(s, true)}      CREATE OR REPLACE FUNCTION ${s}.seal_written() RETURNS TABLE (sealed bigint, own_positions bigint[])
      LANGUAGE plpgsql AS $sealw$
      DECLARE
        v_own bigint := nullif(current_setting('partner_ledger.batch', true), '')::bigint;
        v_direct bigint := nullif(current_setting('partner_ledger.sealed', true), '')::bigint;
      BEGIN
        IF v_own IS NULL THEN
          RETURN QUERY SELECT 0::bigint, NULL::bigint[];
        ELSIF v_direct IS NOT NULL THEN
          -- The append numbered itself (and what was waiting): its positions, committed and flushed.
          RETURN QUERY SELECT v_direct,
            (SELECT array_agg(e.position ORDER BY e.batch_index) FROM ${s}.events e WHERE e.batch = v_own);
        ELSE
          RETURN QUERY SELECT * FROM ${s}.seal_wait(v_own);
        END IF;
      END
      $sealw$;
    `,
  },
  {
    version: 5,
    name: 'append returns one record',
    // Migration 4's append function returned its answer as a table (RETURN QUERY), which the server
    // gathers in a tuplestore and the caller's FROM reads from another one; this one returns a single
    // record through OUT parameters, which the client reads as a value (`SELECT (append(...)).*` would
    // call it once per column, so the client selects the record in a subquery that is not flattened).
    // Same arguments, same checks, same writes. `SET enable_seqscan = off` on the function: every statement
    // in it can find its rows by an index (id, stream, tag, batch, position, the unsealed rows), but the
    // plans a connection keeps are made while a new schema's tables are small, when scanning a whole table
    // is cheapest, and stay in use as the tables grow (the likely cause; not checked with EXPLAIN). Measured in one run
    // (BENCH_AB, docs/benchmarks.md) against the function without it: 1.17x, 1.38x and 2.11x the appends
    // per second with 1, 8 and 64 writers. `SET plan_cache_mode = force_generic_plan` was measured too and
    // not kept: the function without it appended 1.16x, 1.20x and 1.47x faster.
    sql: (s) => `
      DROP FUNCTION ${s}.append(text, text, integer, text, text[], text[], bigint, text[], integer[], text[],
        integer[], text[], text[], text[], text[], text[], text[], text[], text[], text[]);
${appendFunction(s, true, 'record')}    `,
  },
  {
    version: 6,
    name: 'append_v6, the append with less work per event',
    // A new function beside migration 5's, same arguments, checks and writes, with less work per append,
    // each change measured (docs/benchmarks.md): the stream's row locked with SELECT ... FOR UPDATE and
    // updated once (before: an upsert that updated it, then the UPDATE at the end: two new tuple versions
    // per append); a single event inserted from the arrays' first elements instead of an unnest of thirteen
    // arrays; the tags sorted and the waiting appends numbered only when there are some. It is called alone,
    // one statement with parameters in a transaction of its own: it turns the synchronous commit off itself
    // (on again when it numbers itself, as before), returns its first position and the count a seal would
    // report (no seal call when the append numbered itself), and leaves nothing on the session.
    // Migration 5's `append` (and `seal_written`, which reads what it leaves on the session) stay as they
    // were, for instances of the previous version still running during a rolling upgrade: replacing the
    // function in place made their calls that raced the migration's commit fail with "cache lookup failed
    // for function" (upgrade.test.ts, which drives the previous version's messages beside this version).
    sql: (s) => `
${appendFunction(s, true, 'record', true)}    `,
  },
  {
    version: 7,
    name: 'append_group_v7, a group of appends in one INSERT',
    // The group commit as one call of a fixed text (before: one append_v6 call per append, joined by UNION
    // ALL, a statement whose text and parameter count grew with the group, parsed and planned anew for
    // every size, each call inserting its own events). A new function beside append_v6, which stays, for
    // single appends and for instances of the previous version during a rolling upgrade (upgrade.test.ts).
    sql: (s) => `
${appendGroupFunction(s)}    `,
  },
];

/**
 * Migration 7: a group of appends (to distinct streams, without tags or condition) in one call, on
 * parameters of a fixed form: one array per append field (stream, expected revision, the head the client
 * chained on) and one per event column, each event naming its append (1-based) in `p_appends`. Under each
 * stream's lock, in the given order (the client sorts them, so that two groups never lock two streams in
 * opposite orders), every append gets the checks of `append_v6` and its own answer; then the events of all
 * the appends that pass are written by ONE `INSERT ... SELECT ... FROM unnest(...)`, their streams' heads by
 * one UPDATE, numbered at once when the seal lock is free (as `append_v6` does). Answers come back as arrays,
 * one element per append, in the given order.
 */
const appendGroupFunction = (s: string): string => `      CREATE FUNCTION ${s}.${APPEND_GROUP_V7}(
        p_streams text[], p_expected text[], p_head_revisions integer[], p_head_hashes text[],
        p_appends integer[],
        p_ids text[], p_revisions integer[], p_types text[], p_schema_versions integer[],
        p_occurred_at text[], p_recorded_at text[], p_actors text[], p_correlation_ids text[],
        p_causation_ids text[], p_data_texts text[], p_data_json text[], p_prev_hashes text[], p_hashes text[],
        OUT r_status text[], OUT r_batch bigint[], OUT r_last_revision integer[], OUT r_last_hash text[],
        OUT r_first_position bigint[], OUT r_sealed bigint
      ) LANGUAGE plpgsql SET enable_seqscan = off AS $group$
      DECLARE
        v_n integer := cardinality(p_streams);
        v_events integer := cardinality(p_ids);
        v_last integer;
        v_hash text;
        v_with_ids integer[];
        -- Every array sized at once: an element assigned past the end of an empty array would start the
        -- array at that subscript instead of 1.
        v_starts integer[] := array_fill(NULL::integer, ARRAY[v_n]);
        v_ends integer[] := array_fill(NULL::integer, ARRAY[v_n]);
        v_base bigint[] := array_fill(NULL::bigint, ARRAY[v_n]);
        v_written integer := 0;
        v_head bigint;
        v_count bigint := 0;
        v_first bigint;
        v_pending boolean;
        v_i integer;
        v_k integer;
      BEGIN
        -- Its own transaction: its commit waits for the disk only when it numbers itself, as append_v6.
        PERFORM set_config('synchronous_commit', 'off', true);
        r_status := array_fill(NULL::text, ARRAY[v_n]);
        r_batch := array_fill(NULL::bigint, ARRAY[v_n]);
        r_last_revision := array_fill(NULL::integer, ARRAY[v_n]);
        r_last_hash := array_fill(NULL::text, ARRAY[v_n]);
        r_first_position := array_fill(NULL::bigint, ARRAY[v_n]);
        r_sealed := 0;
        -- Where each append's events are in the arrays (the client sends them append by append).
        FOR v_k IN 1..v_events LOOP
          v_i := p_appends[v_k];
          IF v_i IS NULL OR v_i < 1 OR v_i > v_n OR (v_k > 1 AND v_i <> p_appends[v_k - 1] AND v_i <> p_appends[v_k - 1] + 1)
              OR (v_k = 1 AND v_i <> 1) THEN
            RAISE EXCEPTION 'append_group_v7: event % names append %, out of order', v_k, v_i;
          END IF;
          IF v_starts[v_i] IS NULL THEN
            v_starts[v_i] := v_k;
          END IF;
          v_ends[v_i] := v_k;
        END LOOP;
        -- Each stream's row, created if missing and locked, in the given order: from here the group's
        -- streams are its own until it commits.
        FOR v_i IN 1..v_n LOOP
          IF v_starts[v_i] IS NULL THEN
            RAISE EXCEPTION 'append_group_v7: append % has no events', v_i;
          END IF;
          SELECT st.last_revision, st.last_hash INTO v_last, v_hash
            FROM ${s}.streams st WHERE st.stream = p_streams[v_i] FOR UPDATE;
          IF NOT FOUND THEN
            INSERT INTO ${s}.streams AS st (stream, last_revision) VALUES (p_streams[v_i], -1)
              ON CONFLICT (stream) DO UPDATE SET last_revision = st.last_revision
              RETURNING st.last_revision, st.last_hash INTO v_last, v_hash;
          END IF;
          r_last_revision[v_i] := v_last;
          r_last_hash[v_i] := v_hash;
        END LOOP;
        -- Under the streams' locks: the appends with an id already stored (a retry or a duplicate, which the
        -- client classifies on its longer path), in one probe of the id index.
        v_with_ids := ARRAY(SELECT DISTINCT u.a FROM unnest(p_ids, p_appends) AS u(id, a)
          WHERE EXISTS (SELECT 1 FROM ${s}.events e WHERE e.id = u.id));
        FOR v_i IN 1..v_n LOOP
          v_last := r_last_revision[v_i];
          v_hash := r_last_hash[v_i];
          IF v_i = ANY(v_with_ids) THEN
            r_status[v_i] := 'ids';
          ELSIF NOT (p_expected[v_i] = 'any'
              OR (p_expected[v_i] = 'noStream' AND v_last < 0)
              OR (p_expected[v_i] = 'streamExists' AND v_last >= 0)
              OR (p_expected[v_i] ~ '^[0-9]+$' AND p_expected[v_i]::integer = v_last)) THEN
            r_status[v_i] := 'revision';
          ELSIF v_last <> p_head_revisions[v_i] OR v_hash IS DISTINCT FROM p_head_hashes[v_i] THEN
            -- The client chained its events on another head: it chains them again on this one.
            r_status[v_i] := 'stale';
          ELSE
            r_status[v_i] := 'written';
            r_batch[v_i] := nextval('${s}.batches');
            r_last_revision[v_i] := p_revisions[v_ends[v_i]];
            r_last_hash[v_i] := p_hashes[v_ends[v_i]];
            -- The position of the append's first event, less its index in the arrays, once v_first is known.
            v_base[v_i] := v_written - v_starts[v_i] + 1;
            v_written := v_written + v_ends[v_i] - v_starts[v_i] + 1;
          END IF;
        END LOOP;
        IF v_written = 0 THEN
          RETURN;
        END IF;
${directNumbering(s, true)}        -- Every written append's events: one INSERT from the arrays, numbered when the group holds the lock.
        INSERT INTO ${s}.events (batch, batch_index, id, stream, revision, type, schema_version, occurred_at,
          recorded_at, actor, correlation_id, causation_id, data_text, data, prev_hash, hash, position)
        SELECT r_batch[u.a], u.ord - v_starts[u.a], u.id, p_streams[u.a], u.revision, u.type, u.schema_version,
          u.occurred_at, u.recorded_at, u.actor, u.correlation_id, u.causation_id, u.data_text,
          u.data_json::jsonb, u.prev_hash, u.hash, v_first + v_base[u.a] + u.ord - 1
        FROM unnest(p_appends, p_ids, p_revisions, p_types, p_schema_versions, p_occurred_at, p_recorded_at,
          p_actors, p_correlation_ids, p_causation_ids, p_data_texts, p_data_json, p_prev_hashes, p_hashes)
          WITH ORDINALITY AS u(a, id, revision, type, schema_version, occurred_at, recorded_at, actor,
            correlation_id, causation_id, data_text, data_json, prev_hash, hash, ord)
        WHERE r_status[u.a] = 'written';
        -- The written streams' new heads: one UPDATE.
        UPDATE ${s}.streams st SET last_revision = h.last_revision, last_hash = h.last_hash
          FROM unnest(p_streams, r_status, r_last_revision, r_last_hash) AS h(stream, status, last_revision, last_hash)
          WHERE h.status = 'written' AND st.stream = h.stream;
        IF v_first IS NOT NULL THEN
          PERFORM pg_notify('${notifyChannel(s)}', (v_first + v_written - 1)::text);
          FOR v_i IN 1..v_n LOOP
            IF r_status[v_i] = 'written' THEN
              r_first_position[v_i] := v_first + v_base[v_i] + v_starts[v_i] - 1;
            END IF;
          END LOOP;
          r_sealed := v_count + v_written;
        END IF;
      END
      $group$;
`;

/** How many times a writer waits for a running seal before it queues for the seal lock (migration 4). */
const SEAL_WAIT_ROUNDS = 3;

/** The channel on which the seal notifies listeners of new events. */
export const notifyChannel = (schema: string): string => `partner_ledger_${schema}`;

/** The advisory-lock keys of a schema: one namespace for this library, one key per schema and purpose. */
export const LOCK_NAMESPACE = 0x504c; // "PL"
export const lockKey = (schema: string, purpose: 'migrate' | 'seal'): string => `${purpose}:${schema}`;

/** Refuses a schema that a newer version of the package migrated; says whether `done` lacks a migration. */
const lacksMigrations = (schema: string, done: ReadonlySet<number>): boolean => {
  const known = Math.max(...MIGRATIONS.map((m) => m.version));
  const newer = [...done].filter((version) => version > known);
  if (newer.length > 0) {
    throw new Error(
      `schema ${schema} has migration ${Math.max(...newer)}, newer than this version of @partner-ledger/store-postgres knows (${known}): upgrade the package`,
    );
  }
  return MIGRATIONS.some((migration) => !done.has(migration.version));
};

/**
 * The migrations recorded in the schema, read without a lock, a transaction or any write (undefined when
 * it has no `schema_migrations` table). Each migration commits with its record, so a recorded version is
 * a complete one.
 */
const recordedMigrations = async (client: PoolClient, schema: string): Promise<Set<number> | undefined> => {
  const { rows: found } = await client.query<{ found: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS found',
    [`${schema}.schema_migrations`],
  );
  if (found[0]?.found !== true) return undefined;
  const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`);
  return new Set(rows.map((row) => row.version));
};

/**
 * What another session's creation, committed or not, of the schema or one of its objects raises in a
 * migration that did not see it: a unique index of the catalogs (23505 on pg_namespace_nspname_index and
 * the like) or the "already exists" errors (schema, table, object, function).
 */
const lostCreation = (error: unknown): boolean => {
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  if (code === '23505') return typeof constraint === 'string' && constraint.startsWith('pg_');
  return code === '42P06' || code === '42P07' || code === '42710' || code === '42723';
};

/** How many times a migration that lost a creation to another session is run again before its error stands. */
const MIGRATE_ATTEMPTS = 3;

/**
 * Creates the schema and applies the migrations it lacks; returns the versions applied now.
 *
 * A schema that has every migration is opened with reads only: `CREATE SCHEMA IF NOT EXISTS` is checked
 * against the CREATE privilege on the database even when the schema exists, and any DDL fails in a
 * read-only session (a hot-standby replica, default_transaction_read_only=on). So a runtime role without
 * CREATE, or a session on a replica, opens a store that an admin role migrated (privileges.test.ts).
 *
 * A migration that fails because another session created the schema or one of its objects without the
 * lock (an older tool, a person, a creation still uncommitted when this one looked) rolled back whole; it
 * is run again, in a new transaction under the lock, which reads what is there now (migrate.test.ts).
 */
export const migrate = async (client: PoolClient, schema: string): Promise<number[]> => {
  const recorded = await recordedMigrations(client, schema);
  if (recorded !== undefined && !lacksMigrations(schema, recorded)) return [];
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await migrateUnderLock(client, schema);
    } catch (error) {
      if (attempt >= MIGRATE_ATTEMPTS || !lostCreation(error)) throw error;
    }
  }
};

/** One transaction under the advisory lock: creates what is missing and applies the migrations not recorded. */
const migrateUnderLock = async (client: PoolClient, schema: string): Promise<number[]> => {
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      LOCK_NAMESPACE,
      lockKey(schema, 'migrate'),
    ]);
    // While this session waited for the lock, another instance may have created the schema and committed.
    // CREATE SCHEMA IF NOT EXISTS asks the session's catalog caches, which PostgreSQL brings up to date when
    // a transaction starts or a table is locked, not when an advisory lock is granted: on a session whose
    // caches were warm (one that had run CREATE SCHEMA before, as a pooler's server connection that served
    // another instance), it did not see that schema and failed on pg_namespace_nspname_index
    // (migrate.test.ts). This query's snapshot, taken after the lock, sees the commit, and locking
    // pg_namespace to read it brings the caches up to date for the statements that follow.
    const { rows: namespaces } = await client.query<{ found: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1) AS found',
      [schema],
    );
    if (namespaces[0]?.found !== true) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
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
    lacksMigrations(schema, done);
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
