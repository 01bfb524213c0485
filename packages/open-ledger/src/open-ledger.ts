import type { KeyStore } from '@partner-ledger/events';
import { createLedger, createPersonalDataOperations, pseudonymizeVisitors } from '@partner-ledger/ledger';
import type { IdGenerator, Ledger, PersonalDataOperations, ProgramSettings } from '@partner-ledger/ledger';
import { createSealingStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { appendsAfterKeys, openKeyFileOf } from './key-file';
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
  /**
   * Where the keys of personal data are: a KeyStore (a KMS behind the port), a key file's path, or false
   * for none. Default: $PARTNER_LEDGER_KEYS, then for a file store named by its directory the key file
   * `<directory>.keys` beside it when it exists (`partner-ledger init` creates it); otherwise none. With
   * keys, partners' personal fields are sealed and visitor ids pseudonymized (docs/privacy.md); without,
   * events are written in plaintext as before.
   */
  readonly keys?: KeyStore | string | false;
}

/** A ledger with its store: every command of {@link Ledger}, the store, and `close`. */
export interface OpenedLedger extends Ledger, PersonalDataOperations {
  /**
   * The store the ledger writes to: replay projections from it. With keys, it opens sealed fields as it
   * reads them: verify `sealedStore` instead.
   */
  readonly store: EventStore;
  /** The store as it holds the events, personal fields sealed: verify it, digest it. `store` without keys. */
  readonly sealedStore: EventStore;
  /** The key store of personal data, or undefined when the ledger has none (plaintext). */
  readonly keys: KeyStore | undefined;
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
  // openLedger('my-ledger') would otherwise read `store` off a string (undefined) and quietly open the
  // default store ($PARTNER_LEDGER_STORE or ./.partner-ledger): a ledger in the wrong place.
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(
      `openLedger takes an options object such as { store: './ledger' }, got ${typeof options === 'string' ? `the string ${JSON.stringify(options)}` : options === null ? 'null' : Array.isArray(options) ? 'an array' : `${typeof options} ${String(options)}`}`,
    );
  const given = options.store;
  const owned = typeof given !== 'object';
  const cwd = options.cwd ?? process.cwd();
  const spec = owned ? resolveStoreSpec(given, process.env, cwd) : undefined;
  // A key file writes the keys the ledger makes before the append that needs them (appendsAfterKeys), not
  // when they are made: a command refused before any append leaves the file as it was.
  const keyFile =
    options.keys === false || typeof options.keys === 'object'
      ? undefined
      : spec === undefined && options.keys === undefined
        ? undefined
        : await openKeyFileOf(spec ?? { kind: 'file', directory: cwd }, options.keys, process.env, cwd, {
            newKeys: 'beforeAppend',
          });
  const keys = typeof options.keys === 'object' ? options.keys : keyFile;
  const sealedStore: EventStore = spec
    ? await openStore(spec, {
        ...(options.load === undefined ? {} : { load: options.load }),
      })
    : (given as EventStore);
  const store =
    keys === undefined
      ? sealedStore
      : createSealingStore(
          keyFile === undefined ? sealedStore : appendsAfterKeys(sealedStore, keyFile),
          keys,
        );
  const ledger = createLedger({
    store,
    ...(keys === undefined ? {} : { prepareCommand: pseudonymizeVisitors(keys) }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.ids === undefined ? {} : { ids: options.ids }),
    ...(options.actor === undefined ? {} : { actor: options.actor }),
    ...(options.program === undefined ? {} : { program: options.program }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
  });
  const personal: PersonalDataOperations =
    keys === undefined
      ? {
          erasePersonalData: () => async () => {
            throw new Error('this ledger has no key store: open it with `keys` to erase personal data');
          },
          exportSubject: async () => {
            throw new Error('this ledger has no key store: open it with `keys` to export a subject');
          },
        }
      : createPersonalDataOperations({
          store,
          keys,
          ...(options.clock === undefined ? {} : { clock: options.clock }),
          ...(options.actor === undefined ? {} : { actor: options.actor }),
        });
  return {
    ...ledger,
    ...personal,
    store,
    sealedStore,
    // Handed out writing a key it makes at once, as openKeyFile does: what the caller seals with it does not
    // go through appendsAfterKeys.
    keys:
      keyFile === undefined
        ? keys
        : {
            ...keyFile,
            getOrCreate: async (keyId) => {
              const key = await keyFile.getOrCreate(keyId);
              await keyFile.writeMadeKeys();
              return key;
            },
          },
    close: async () => (owned ? sealedStore.close() : undefined),
  };
};
