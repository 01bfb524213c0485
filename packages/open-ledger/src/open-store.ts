import { stat } from 'node:fs/promises';
import type { EventStore } from '@partner-ledger/store';
import { openFileStore } from '@partner-ledger/store-file';
import { openServerStore, STORE_SCHEMES } from './store-schemes';
import type { PackageLoader } from './store-schemes';
import type { StoreSpec } from './store-spec';

/** How `openStore` opens a store. */
export interface OpenStoreOptions {
  /**
   * Refuse a store that holds no ledger yet (a file store's missing directory, a PostgreSQL schema that
   * does not exist) instead of creating an empty one: a {@link LedgerNotFoundError}.
   */
  readonly mustExist?: boolean;
  /** Open without taking the writer lock: reports, exports and verify may run beside a writer. */
  readonly readOnly?: boolean;
  /**
   * File store, read-only: open a damaged ledger anyway (its damage is in `openReport.damage`), so that
   * verify can name the damaged events instead of refusing to open.
   */
  readonly tolerateDamage?: boolean;
  /** How an adapter package is loaded (tests). Default: Node's `require`, from this package. */
  readonly load?: PackageLoader;
}

/** `mustExist` was asked and the store holds no ledger: a file store's directory, or a server store's schema, is not there. */
export class LedgerNotFoundError extends Error {
  override readonly name = 'LedgerNotFoundError';
  constructor(
    /** The file store's directory, or for a server store the place its adapter names (a schema). */
    readonly directory: string,
    /** The message, when the adapter gave one (default: `no ledger at <directory>`). */
    message?: string,
  ) {
    super(message ?? `no ledger at ${directory}`);
  }
}

/** An adapter's own "no ledger here" error (PostgreSQL's SchemaNotFoundError), known by its code. */
const notFoundWhere = (error: unknown): string | undefined =>
  typeof error === 'object' &&
  error !== null &&
  (error as { code?: unknown }).code === 'SCHEMA_NOT_FOUND' &&
  error instanceof Error
    ? String((error as { schema?: unknown }).schema)
    : undefined;

/** The path a file store was asked to open is a file, not a directory. */
export class NotALedgerError extends Error {
  override readonly name = 'NotALedgerError';
  constructor(readonly directory: string) {
    super(`${directory} is not a ledger: it is a file, and a file store is a directory`);
  }
}

/**
 * Opens the store a spec names: the embedded file store for a directory (created when missing, unless
 * `mustExist`); for a connection string, the adapter of its scheme, loaded only now (a
 * StoreAdapterMissingError says which package to install when it is absent).
 */
export const openStore = async (spec: StoreSpec, options: OpenStoreOptions = {}): Promise<EventStore> => {
  if (spec.kind !== 'file') {
    const scheme = STORE_SCHEMES.find((s) => s.kind === spec.kind)!;
    try {
      return await openServerStore(scheme, spec.connectionString, options.load, options.mustExist === true);
    } catch (error) {
      const where = notFoundWhere(error);
      if (where !== undefined) throw new LedgerNotFoundError(where, (error as Error).message);
      throw error;
    }
  }
  const found = await stat(spec.directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (found === undefined && options.mustExist) throw new LedgerNotFoundError(spec.directory);
  if (found !== undefined && !found.isDirectory()) throw new NotALedgerError(spec.directory);
  return openFileStore({
    directory: spec.directory,
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(options.readOnly && options.tolerateDamage ? { tolerateDamage: true } : {}),
  });
};
