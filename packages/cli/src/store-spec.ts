// The store names the command takes are those of openLedger: one reading, in @partner-ledger/open-ledger.
export {
  DEFAULT_STORE_DIRECTORY,
  STORE_ENV,
  describeStoreSpec,
  resolveStoreSpec,
} from '@partner-ledger/open-ledger';
export type { StoreSpec } from '@partner-ledger/open-ledger';
