import { isAbsolute, resolve } from 'node:path';

/** The default ledger of the command and of `openLedger`: the embedded file store in this directory. */
export const DEFAULT_STORE_DIRECTORY = '.partner-ledger';

/** The environment variable that names the store when `--store` is not given. */
export const STORE_ENV = 'PARTNER_LEDGER_STORE';

/** Where a ledger lives, as the command's `--store` (or PARTNER_LEDGER_STORE) names it. */
export type StoreSpec =
  | { readonly kind: 'file'; readonly directory: string }
  | { readonly kind: 'eventstoredb'; readonly connectionString: string };

const ESDB = /^esdb(\+discover)?:\/\//i;

/**
 * Reads a store name: an `esdb://` or `esdb+discover://` connection string is an EventStoreDB (or
 * KurrentDB) server or cluster; anything else is a directory for the embedded file store, relative to
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
  return { kind: 'file', directory: isAbsolute(name) ? name : resolve(cwd, name) };
};

/** How the store is named in messages: a connection string loses its credentials. */
export const describeStoreSpec = (spec: StoreSpec): string =>
  spec.kind === 'file'
    ? spec.directory
    : spec.connectionString.replace(/(esdb(?:\+discover)?:\/\/)[^@/]*@/i, '$1***@');
