/**
 * @packageDocumentation
 * Opens a partner-ledger by name, for a service or a script: `openLedger()` on the embedded file store in
 * ./.partner-ledger, or on the store a directory or a connection string names. Server adapters are loaded
 * only when their connection string is used: `esdb://` and `kurrentdb://` need
 * `@partner-ledger/store-eventstoredb`, `postgres://` needs `@partner-ledger/store-postgres`.
 */
export { openLedger } from './open-ledger';
export type { OpenLedgerOptions, OpenedLedger } from './open-ledger';
export {
  KEYS_ENV,
  KeyFileConflictError,
  KeyFileError,
  appendsAfterKeys,
  createKeyFile,
  keyFilePathOf,
  openKeyFile,
  openKeyFileOf,
} from './key-file';
export type { KeyFile, KeyFileOptions } from './key-file';
export { LedgerNotFoundError, NotALedgerError, openStore } from './open-store';
export type { OpenStoreOptions } from './open-store';
export { DEFAULT_STORE_DIRECTORY, STORE_ENV, describeStoreSpec, resolveStoreSpec } from './store-spec';
export type { StoreSpec } from './store-spec';
export {
  STORE_SCHEMES,
  StoreAdapterMissingError,
  openServerStore,
  requirePackage,
  schemeOf,
} from './store-schemes';
export type { PackageLoader, ServerStoreKind, StoreScheme } from './store-schemes';
