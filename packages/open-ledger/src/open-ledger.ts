import { createLedger } from '@partner-ledger/ledger';
import type { IdGenerator, Ledger, ProgramSettings } from '@partner-ledger/ledger';
import type { EventStore } from '@partner-ledger/store';
import { openStore } from './open-store';
import type { PackageLoader } from './store-schemes';
import { resolveStoreSpec } from './store-spec';

/** What `openLedger` opens, and the options of the ledger over it. */
export interface OpenLedgerOptions {
  /**
   * The ledger: an EventStore you opened (you close it), or a store name: a directory for the embedded
   * file store, or a connection string (`esdb://`, `kurrentdb://`, `postgres://`, ...: see
   * STORE_SCHEMES; its adapter package must be installed). Default: $PARTNER_LEDGER_STORE, then
   * the file store in ./.partner-ledger (created when missing).
   */
  readonly store?: string | EventStore;
  /** Default: the system clock. Inject one in tests and replays. */
  readonly clock?: () => Date;
  /** Correlation ids for commands that bring none. Default: time-ordered UUIDv7s. */
  readonly ids?: IdGenerator;
  /** The actor of events whose command names none. */
  readonly actor?: string;
  /** The program's settings while the store holds none (a ledger that was never `init`ed). */
  readonly program?: ProgramSettings;
  /** How many times a decision is retried after another writer changed its stream. */
  readonly retries?: number;
  /** Relative store directories are resolved against this. Default: process.cwd(). */
  readonly cwd?: string;
  /** How an adapter package is loaded (tests). Default: Node's `require`. */
  readonly load?: PackageLoader;
}

/** A ledger with its store: every command of {@link Ledger}, the store, and `close`. */
export interface OpenedLedger extends Ledger {
  /** The store the ledger writes to: replay projections from it, verify it. */
  readonly store: EventStore;
  /** Closes the store if openLedger opened it (a store you passed in stays open: it is yours). */
  readonly close: () => Promise<void>;
}

/**
 * Opens a ledger the quick way: the default embedded file store in ./.partner-ledger (or the store you
 * name), the system clock, time-ordered correlation ids. For everything else, `createLedger` from
 * @partner-ledger/ledger takes any EventStore and every option.
 *
 * ```ts
 * const ledger = await openLedger();
 * const result = await ledger.trackClick({ clickId: 'c-1', partnerId: 'blog-1', visitorId: 'v-9' })();
 * await ledger.close();
 * ```
 */
export const openLedger = async (options: OpenLedgerOptions = {}): Promise<OpenedLedger> => {
  const given = options.store;
  const owned = typeof given !== 'object';
  const store: EventStore = owned
    ? await openStore(resolveStoreSpec(given, process.env, options.cwd ?? process.cwd()), {
        ...(options.load === undefined ? {} : { load: options.load }),
      })
    : given;
  const ledger = createLedger({
    store,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.ids === undefined ? {} : { ids: options.ids }),
    ...(options.actor === undefined ? {} : { actor: options.actor }),
    ...(options.program === undefined ? {} : { program: options.program }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
  });
  return { ...ledger, store, close: async () => (owned ? store.close() : undefined) };
};
