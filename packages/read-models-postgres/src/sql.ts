import type { PoolClient } from 'pg';
import type { Row, TableDefinition } from './tables';
import { TABLES } from './tables';

/** A schema name the projector accepts: lower-case SQL identifier, short enough for `_g<n>` after it. */
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;

/** The schema of generation n of the reader-facing schema. */
export const generationSchema = (schema: string, generation: number): string => `${schema}_g${generation}`;

/** The control tables, in the reader-facing schema: created once, never swapped. */
export const controlDdl = (schema: string): string[] => [
  `CREATE SCHEMA IF NOT EXISTS ${schema}`,
  `CREATE TABLE IF NOT EXISTS ${schema}.projector_control (
     id integer PRIMARY KEY CHECK (id = 1),
     live_generation integer,
     live_code_version text,
     building_generation integer,
     building_code_version text,
     last_generation integer NOT NULL DEFAULT 0
   )`,
  `INSERT INTO ${schema}.projector_control (id) VALUES (1) ON CONFLICT (id) DO NOTHING`,
  `CREATE TABLE IF NOT EXISTS ${schema}.projector_lease (
     id integer PRIMARY KEY CHECK (id = 1),
     holder text,
     token bigint NOT NULL DEFAULT 0,
     expires_at timestamptz NOT NULL DEFAULT '-infinity'
   )`,
  `INSERT INTO ${schema}.projector_lease (id) VALUES (1) ON CONFLICT (id) DO NOTHING`,
  `CREATE TABLE IF NOT EXISTS ${schema}.projector_status (
     id integer PRIMARY KEY CHECK (id = 1),
     generation integer NOT NULL,
     code_version text NOT NULL,
     state text NOT NULL,
     position bigint NOT NULL,
     events_read bigint NOT NULL,
     head_position bigint NOT NULL,
     events_behind bigint NOT NULL,
     seconds_behind numeric NOT NULL,
     last_recorded_at timestamptz,
     head_recorded_at timestamptz,
     as_of timestamptz,
     reporting_currency text,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
];

/** The data tables and checkpoint of one generation. */
export const generationDdl = (schema: string): string[] => [
  `CREATE SCHEMA ${schema}`,
  ...TABLES.map(
    (table) =>
      `CREATE TABLE ${schema}.${table.name} (${table.columns
        .map((column) => `${column.name} ${column.type}`)
        .join(', ')}, PRIMARY KEY (${table.key.join(', ')}))`,
  ),
  `CREATE TABLE ${schema}.projector_checkpoint (
     id integer PRIMARY KEY CHECK (id = 1),
     position bigint NOT NULL,
     code_version text NOT NULL,
     checkpoint text NOT NULL,
     last_recorded_at timestamptz
   )`,
  stateDdl(schema),
  factsDdl(schema),
];

/** The facts' entries (partners, commission lines, last payouts), one row each, as JSON. */
export const factsDdl = (schema: string): string =>
  `CREATE TABLE IF NOT EXISTS ${schema}.projector_facts (kind text, id text, body text NOT NULL, PRIMARY KEY (kind, id))`;

/** Writes the facts' entries that changed (body) and deletes those gone (body null). */
export const writeFacts = async (
  client: PoolClient,
  schema: string,
  entries: ReadonlyArray<readonly [kind: string, id: string, body: string | null]>,
): Promise<void> => {
  const gone = entries.filter(([, , body]) => body === null);
  const kept = entries.filter(([, , body]) => body !== null);
  for (let i = 0; i < gone.length; i += ROWS_PER_STATEMENT) {
    const chunk = gone.slice(i, i + ROWS_PER_STATEMENT);
    await client.query(
      `DELETE FROM ${schema}.projector_facts WHERE (kind, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [chunk.map(([kind]) => kind), chunk.map(([, id]) => id)],
    );
  }
  for (let i = 0; i < kept.length; i += ROWS_PER_STATEMENT) {
    const chunk = kept.slice(i, i + ROWS_PER_STATEMENT);
    await client.query(
      `INSERT INTO ${schema}.projector_facts (kind, id, body)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body`,
      [chunk.map(([kind]) => kind), chunk.map(([, id]) => id), chunk.map(([, , body]) => body)],
    );
  }
};

/**
 * The parts of the checkpoint's state (see state-parts). A part is a few kB: kept in the row, uncompressed
 * (toast_tuple_target), rather than compressed into TOAST at every rewrite.
 */
export const stateDdl = (schema: string): string =>
  `CREATE TABLE IF NOT EXISTS ${schema}.projector_state (part text PRIMARY KEY, body text NOT NULL)
     WITH (toast_tuple_target = 8160)`;

/** Writes the parts that changed and deletes those gone, a few thousand per statement. */
export const writeStateParts = async (
  client: PoolClient,
  schema: string,
  upserts: ReadonlyArray<readonly [id: string, text: string, digest: string]>,
  deletes: readonly string[],
): Promise<void> => {
  for (let i = 0; i < deletes.length; i += ROWS_PER_STATEMENT)
    await client.query(`DELETE FROM ${schema}.projector_state WHERE part = ANY($1::text[])`, [
      deletes.slice(i, i + ROWS_PER_STATEMENT),
    ]);
  for (let i = 0; i < upserts.length; i += ROWS_PER_STATEMENT) {
    const chunk = upserts.slice(i, i + ROWS_PER_STATEMENT);
    await client.query(
      `INSERT INTO ${schema}.projector_state (part, body) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (part) DO UPDATE SET body = EXCLUDED.body`,
      [chunk.map(([id]) => id), chunk.map(([, text]) => text)],
    );
  }
};

/** The view readers query for one table of a generation. */
const tableViewSql = (schema: string, generation: string, table: string): string =>
  `CREATE OR REPLACE VIEW ${schema}.${table} AS SELECT * FROM ${generation}.${table}`;

/** The totals, which are queries over the rows (never rows of their own). */
const totalsViewSql = (schema: string): string =>
  `CREATE OR REPLACE VIEW ${schema}.commission_totals AS
     SELECT currency, sum(accrued) AS accrued, sum(reversed) AS reversed, sum(rejected) AS rejected,
            sum(paid) AS paid, sum(payouts_failed) AS payouts_failed, sum(adjustments) AS adjustments,
            sum(balance) AS balance, sum(pending) AS pending, sum(held) AS held, sum(payable) AS payable,
            count(*) FILTER (WHERE negative) AS partners_with_negative_balance
       FROM ${schema}.commission_balances GROUP BY currency`;

/** The views readers query, in the reader-facing schema: one per table of the generation, and the totals. */
export const viewsDdl = (schema: string, generation: string): string[] => [
  ...TABLES.map((table) => tableViewSql(schema, generation, table.name)),
  totalsViewSql(schema),
];

/**
 * Points the views at another generation. Each view is replaced in place, so that views of the readers' own
 * built on it stay; a view whose table's columns changed other than by new ones at the end cannot be (SQL
 * refuses), and is dropped with what depends on it (CASCADE) and made again.
 */
export const swapViews = async (client: PoolClient, schema: string, generation: string): Promise<void> => {
  for (const table of TABLES) {
    await client.query('SAVEPOINT swap_view');
    try {
      await client.query(tableViewSql(schema, generation, table.name));
      await client.query('RELEASE SAVEPOINT swap_view');
    } catch {
      await client.query('ROLLBACK TO SAVEPOINT swap_view');
      await client.query(`DROP VIEW IF EXISTS ${schema}.${table.name} CASCADE`);
      await client.query(tableViewSql(schema, generation, table.name));
    }
  }
  await client.query(totalsViewSql(schema));
};

const ROWS_PER_STATEMENT = 2_000;

const objectOf = (table: TableDefinition, row: Row): Record<string, unknown> => {
  const record: Record<string, unknown> = {};
  table.columns.forEach((column, i) => {
    record[column.name] = row[i];
  });
  return record;
};

const recordset = (columns: TableDefinition['columns']): string =>
  columns.map((column) => `${column.name} ${column.type}`).join(', ');

/** Inserts or replaces rows, by primary key, a few thousand per statement. */
export const upsertRows = async (
  client: PoolClient,
  schema: string,
  table: TableDefinition,
  rows: readonly Row[],
): Promise<void> => {
  const names = table.columns.map((column) => column.name).join(', ');
  const others = table.columns.filter((column) => !table.key.includes(column.name));
  const update =
    others.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${others.map((column) => `${column.name} = EXCLUDED.${column.name}`).join(', ')}`;
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT).map((row) => objectOf(table, row));
    await client.query(
      `INSERT INTO ${schema}.${table.name} (${names})
       SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS x(${recordset(table.columns)})
       ON CONFLICT (${table.key.join(', ')}) ${update}`,
      [JSON.stringify(chunk)],
    );
  }
};

/** Deletes rows by primary key (a row that no longer has a fact: a figure that went away). */
export const deleteRows = async (
  client: PoolClient,
  schema: string,
  table: TableDefinition,
  keys: readonly Row[],
): Promise<void> => {
  const keyColumns = table.key.map((name) => table.columns.find((column) => column.name === name)!);
  const names = table.key.join(', ');
  for (let i = 0; i < keys.length; i += ROWS_PER_STATEMENT) {
    const chunk = keys.slice(i, i + ROWS_PER_STATEMENT).map((key) => {
      const record: Record<string, unknown> = {};
      keyColumns.forEach((column, k) => {
        record[column.name] = key[k];
      });
      return record;
    });
    await client.query(
      `DELETE FROM ${schema}.${table.name} WHERE (${names}) IN
         (SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS x(${recordset(keyColumns)}))`,
      [JSON.stringify(chunk)],
    );
  }
};
