import { isAbsolute, resolve } from 'node:path';
import { schemeOf } from './store-schemes';
import type { ServerStoreKind } from './store-schemes';

/** The default ledger of the command and of `openLedger`: the embedded file store in this directory. */
export const DEFAULT_STORE_DIRECTORY = '.partner-ledger';

/** The environment variable that names the store when none is given. */
export const STORE_ENV = 'PARTNER_LEDGER_STORE';

/**
 * Where a ledger lives: a directory of the embedded file store, or a server named by a connection string
 * whose scheme says which adapter opens it (see STORE_SCHEMES).
 */
export type StoreSpec =
  | { readonly kind: 'file'; readonly directory: string }
  | { readonly kind: ServerStoreKind; readonly connectionString: string };

/**
 * Reads a store name. A connection string whose scheme is in STORE_SCHEMES (`esdb://`,
 * `kurrentdb://`, `postgres://`, ...) names a server; a `file://` URL or anything else is a directory for
 * the embedded file store, relative to `cwd`. Nothing given: $PARTNER_LEDGER_STORE, then ./.partner-ledger.
 */
export const resolveStoreSpec = (
  given: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): StoreSpec => {
  const fromEnv = env[STORE_ENV];
  const name = given ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_STORE_DIRECTORY);
  const server = schemeOf(name);
  if (server !== undefined) return { kind: server.kind, connectionString: name };
  const path = /^file:\/\//i.test(name) ? decodeURIComponent(new URL(name).pathname) : name;
  return { kind: 'file', directory: isAbsolute(path) ? path : resolve(cwd, path) };
};

/** How the store is named in messages: a connection string loses its credentials. */
export const describeStoreSpec = (spec: StoreSpec): string =>
  spec.kind === 'file'
    ? spec.directory
    : spec.connectionString.replace(/^([a-z0-9+.-]+:\/\/)[^@/]*@/i, '$1***@');
