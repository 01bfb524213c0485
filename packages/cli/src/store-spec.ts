import { isAbsolute, resolve } from 'node:path';

/** The default ledger of the command and of `openLedger`: the embedded file store in this directory. */
export const DEFAULT_STORE_DIRECTORY = '.partner-ledger';

/** The environment variable that names the store when `--store` is not given. */
export const STORE_ENV = 'PARTNER_LEDGER_STORE';

/** Where a ledger lives, as the command's `--store` (or PARTNER_LEDGER_STORE) names it. */
export type StoreSpec =
  | { readonly kind: 'file'; readonly directory: string }
  | { readonly kind: 'eventstoredb'; readonly connectionString: string }
  | {
      readonly kind: 'postgres';
      /** The connection string as pg takes it: without the `schema` parameter. */
      readonly connectionString: string;
      /** From `?schema=NAME`; the store's default (`partner_ledger`) when absent. */
      readonly schema?: string;
    };

const ESDB = /^esdb(\+discover)?:\/\//i;
const POSTGRES = /^postgres(ql)?:\/\//i;

/** A `postgres://` URL: its `schema` query parameter is the store's, not the driver's, so it is taken out. */
const postgresSpec = (name: string): StoreSpec => {
  const url = new URL(name);
  const schema = url.searchParams.get('schema');
  if (schema === null) return { kind: 'postgres', connectionString: name };
  url.searchParams.delete('schema');
  return { kind: 'postgres', connectionString: url.toString(), schema };
};

/**
 * Reads a store name: an `esdb://` or `esdb+discover://` connection string is an EventStoreDB (or
 * KurrentDB) server or cluster; a `postgres://` or `postgresql://` one a PostgreSQL database (its
 * `?schema=NAME` choosing the schema, default partner_ledger); anything else is a directory for the embedded file store, relative to
 * `cwd`. Nothing given: $PARTNER_LEDGER_STORE, then ./.partner-ledger.
 */
export const resolveStoreSpec = (
  given: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): StoreSpec => {
  const fromEnv = env[STORE_ENV];
  const name = given ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_STORE_DIRECTORY);
  if (ESDB.test(name)) return { kind: 'eventstoredb', connectionString: name };
  if (POSTGRES.test(name)) return postgresSpec(name);
  return { kind: 'file', directory: isAbsolute(name) ? name : resolve(cwd, name) };
};

/** How the store is named in messages: a connection string loses its credentials. */
export const describeStoreSpec = (spec: StoreSpec): string =>
  spec.kind === 'file'
    ? spec.directory
    : spec.connectionString.replace(/^([a-z+]+:\/\/)[^@/]*@/i, '$1***@') +
      (spec.kind === 'postgres' && spec.schema !== undefined ? ` (schema ${spec.schema})` : '');
