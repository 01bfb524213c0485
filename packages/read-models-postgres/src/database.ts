// The projector's side of PostgreSQL: which pool it writes through, how its connections are named, which
// errors mean the connection went away (worth a reconnect), and one transaction on a connection that may die.
import { Pool } from 'pg';
import type { PoolClient } from 'pg';
import { SCHEMA_PATTERN } from './sql';

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
export const keepClientErrorsHeard = (client: PoolClient): void => {
  client.on('error', ignoreClientError);
};

export const inTransaction = async <T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> => {
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
