import { isAbsolute, relative, resolve } from 'node:path';
import type { KeyStore } from '@partner-ledger/events';
import { createSealingStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import {
  KeyFileError,
  appendsAfterKeys,
  openKeyFileOf,
  LedgerNotFoundError,
  NotALedgerError,
  StoreAdapterMissingError,
  openStore as openNamedStore,
} from '@partner-ledger/open-ledger';
import type { KeyFile, OpenStoreOptions } from '@partner-ledger/open-ledger';
import { UsageError } from './exit';
import type { CliIo } from './io';
import { noticeRecovery } from './recovery-notice';
import { describeStoreSpec, resolveStoreSpec } from './store-spec';
import type { StoreSpec } from './store-spec';

export type { OpenStoreOptions } from '@partner-ledger/open-ledger';

/**
 * Opens the store a spec names (see `openStore` of @partner-ledger/open-ledger), with the command's
 * messages: a ledger that is missing, a file where a directory should be, or a server store whose adapter
 * is not installed is a usage error (exit 2) that says what to do.
 */
export const openStore = async (spec: StoreSpec, options: OpenStoreOptions = {}): Promise<EventStore> => {
  try {
    return await openNamedStore(spec, options);
  } catch (error) {
    if (error instanceof LedgerNotFoundError)
      throw new UsageError(
        error.message,
        'Create one with `partner-ledger init` (or `simulate`), or name another with --store or $PARTNER_LEDGER_STORE.',
      );
    if (error instanceof NotALedgerError) throw new UsageError(error.message);
    if (error instanceof StoreAdapterMissingError)
      throw new UsageError(
        error.message,
        `Install it where partner-ledger is installed: \`npm install ${error.scheme.packageName}\` in your project, or with -g beside a global install.`,
      );
    throw error;
  }
};

/** Whether a file-system error is about a path that is not in the ledger's directory. */
const isOutsideTheLedger = (error: Error, spec: StoreSpec): boolean => {
  const path = (error as NodeJS.ErrnoException).path;
  if (typeof path !== 'string') return false;
  if (spec.kind !== 'file') return true;
  const inside = relative(spec.directory, resolve(spec.directory, path));
  return inside.startsWith('..') || isAbsolute(inside);
};

/**
 * Opens the store that `--store` (or $PARTNER_LEDGER_STORE, or the default) names for one verb, runs
 * `use`, and closes it whatever happens. A store that cannot be opened (unreadable, damaged, locked) is
 * reported as bad input: exit 2, with the store named.
 */
/**
 * Who holds the file store's writer lock, in a command user's words: the store's own message speaks to a
 * library user (`{ readOnly: true }`), which a user of the command cannot act on.
 */
const lockedBy = (error: unknown): string | undefined => {
  if (typeof error !== 'object' || error === null || (error as { code?: unknown }).code !== 'STORE_LOCKED')
    return undefined;
  const { holder, lockFile } = error as {
    holder: { pid: number; hostname: string; since: string } | null;
    lockFile: string;
  };
  return holder === null
    ? `another process holds its lock (${lockFile}, which cannot be read)`
    : `process ${holder.pid} on ${holder.hostname} has been writing to it since ${holder.since} (lock file ${lockFile})`;
};

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
    const locked = lockedBy(error);
    if (locked !== undefined)
      throw new UsageError(
        `cannot write to the ledger at ${describeStoreSpec(spec)}: ${locked}. Wait for that process to finish or ` +
          'stop it; the verbs that only read (report, verify, export, project) can run meanwhile.',
      );
    throw new UsageError(
      `cannot open the ledger at ${describeStoreSpec(spec)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  noticeRecovery(io, store);
  let result: R;
  try {
    result = await use(store, spec);
  } catch (error) {
    // Closing after a failure must not hide the failure.
    await store.close().catch(() => undefined);
    // A store that fails mid-way (a server that cannot be reached, a file that cannot be read): name it.
    if (error instanceof UsageError || !(error instanceof Error)) throw error;
    // A file the verb writes or reads outside the ledger (an --out path) is not the ledger's fault: its error
    // names its own path, and "the ledger at ..." in front of it would send the reader to the wrong place.
    if (isOutsideTheLedger(error, spec)) throw error;
    const named = new Error(`the ledger at ${describeStoreSpec(spec)}: ${error.message}`);
    named.stack = error.stack;
    throw named;
  }
  await store.close();
  return result;
};

/** The flag of the verbs that read or write personal data: where the key file is. */
export const KEYS_OPTION = {
  keys: {
    type: 'string',
    valueName: 'FILE',
    description:
      "The key file of the ledger's personal data. Default: $PARTNER_LEDGER_KEYS, then <ledger>.keys beside a file store's directory when it exists (init creates it); without one, personal data is read and written in plaintext.",
  },
} as const;

/**
 * Like withStore, with the ledger's key file (see KEYS_OPTION): `use` gets the store that seals personal
 * data on append and opens it on read, the store beneath (as stored), and the key store, or the store
 * itself twice and undefined when the ledger has no key file. A key file that cannot be used is exit 2.
 */
export const withKeyedStore = async <R>(
  io: CliIo,
  given: string | undefined,
  keysGiven: string | undefined,
  options: OpenStoreOptions,
  use: (store: EventStore, spec: StoreSpec, keys: KeyStore | undefined, sealed: EventStore) => Promise<R>,
): Promise<R> => {
  const spec = resolveStoreSpec(given, io.env, io.cwd);
  let keys: KeyFile | undefined;
  try {
    // Keys made are written before the append that needs them (appendsAfterKeys below), not when made: a
    // command refused before any append leaves the key file as it was, even after a crash.
    keys = await openKeyFileOf(spec, keysGiven, io.env, io.cwd, { newKeys: 'beforeAppend' });
  } catch (error) {
    if (error instanceof KeyFileError) throw new UsageError(error.message);
    throw error;
  }
  return withStore(io, given, options, (store, opened) =>
    use(
      keys === undefined ? store : createSealingStore(appendsAfterKeys(store, keys), keys),
      opened,
      keys,
      store,
    ),
  );
};
