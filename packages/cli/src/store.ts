import { stat } from 'node:fs/promises';
import type { EventStore } from '@partner-ledger/store';
import { openFileStore } from '@partner-ledger/store-file';
import { createEventStoreDbStore } from '@partner-ledger/store-eventstoredb';
import type * as StorePostgres from '@partner-ledger/store-postgres';
import { UsageError } from './exit';
import type { CliIo } from './io';
import { describeStoreSpec, resolveStoreSpec } from './store-spec';
import type { StoreSpec } from './store-spec';

export interface OpenStoreOptions {
  /** Refuse a file store whose directory does not exist yet, instead of creating an empty ledger. */
  readonly mustExist?: boolean;
  /** Open without taking the writer lock: reports, exports and verify may run beside a writer. */
  readonly readOnly?: boolean;
  /**
   * File store, read-only: open a damaged ledger anyway (its damage is in `openReport.damage`), so that
   * verify can name the damaged events instead of refusing to open.
   */
  readonly tolerateDamage?: boolean;
}

/**
 * The PostgreSQL adapter, loaded only when a `postgres://` store is named: a ledger on files or
 * EventStoreDB never loads pg.
 */
const loadPostgresAdapter = (): typeof StorePostgres =>
  // A plain require: loaded on first use, synchronously, and only then.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@partner-ledger/store-postgres') as typeof StorePostgres;

/**
 * Opens the store a spec names: the embedded file store for a directory (created when missing, unless
 * `mustExist`), the EventStoreDB adapter for an `esdb://` or `esdb+discover://` connection string, the
 * PostgreSQL store for a `postgres://` or `postgresql://` one (its schema created when missing).
 */
export const openStore = async (spec: StoreSpec, options: OpenStoreOptions = {}): Promise<EventStore> => {
  if (spec.kind === 'eventstoredb')
    return createEventStoreDbStore({ connectionString: spec.connectionString });
  if (spec.kind === 'postgres')
    return loadPostgresAdapter().createPostgresStore({
      connectionString: spec.connectionString,
      ...(spec.schema === undefined ? {} : { schema: spec.schema }),
    });
  const found = await stat(spec.directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (found === undefined && options.mustExist) {
    throw new UsageError(
      `no ledger at ${spec.directory}`,
      'Create one with `partner-ledger init` (or `simulate`), or name another with --store or $PARTNER_LEDGER_STORE.',
    );
  }
  if (found !== undefined && !found.isDirectory()) {
    throw new UsageError(`${spec.directory} is not a ledger: it is a file, and a file store is a directory`);
  }
  return openFileStore({
    directory: spec.directory,
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(options.readOnly && options.tolerateDamage ? { tolerateDamage: true } : {}),
  });
};

/**
 * Opens the store that `--store` (or $PARTNER_LEDGER_STORE, or the default) names for one verb, runs
 * `use`, and closes it whatever happens. A store that cannot be opened (unreadable, damaged, locked) is
 * reported as bad input: exit 2, with the store named.
 */
export const withStore = async <R>(
  io: CliIo,
  given: string | undefined,
  options: OpenStoreOptions,
  use: (store: EventStore, spec: StoreSpec) => Promise<R>,
): Promise<R> => {
  const spec = resolveStoreSpec(given, io.env, io.cwd);
  let store: EventStore;
  try {
    store = await openStore(spec, options);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `cannot open the ledger at ${describeStoreSpec(spec)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let result: R;
  try {
    result = await use(store, spec);
  } catch (error) {
    // Closing after a failure must not hide the failure.
    await store.close().catch(() => undefined);
    // A store that fails mid-way (a server that cannot be reached, a file that cannot be read): name it.
    if (error instanceof UsageError || !(error instanceof Error)) throw error;
    const named = new Error(`the ledger at ${describeStoreSpec(spec)}: ${error.message}`);
    named.stack = error.stack;
    throw named;
  }
  await store.close();
  return result;
};
