import type { EventStore } from '@partner-ledger/store';

/** The kinds of server store a connection string can name. */
export type ServerStoreKind = 'eventstoredb' | 'postgres';

/**
 * A store adapter that lives in its own package, opened by the schemes of its connection strings. The
 * package is loaded only when such a store is opened, so that a user of the file store never installs
 * (nor loads) a server client such as gRPC or node-postgres.
 */
export interface StoreScheme {
  readonly kind: ServerStoreKind;
  /** The store, as messages name it. */
  readonly label: string;
  /** URL schemes (before `://`, lower case) that name this kind of store. */
  readonly schemes: readonly string[];
  /** The npm package of the adapter: `npm install <it>` adds the store. */
  readonly packageName: string;
  /** The function the package exports that opens a store: it takes what `optionsFor` makes. */
  readonly factory: string;
  /**
   * The factory's options for a connection string as given: the string as the adapter's client reads it
   * (`kurrentdb://` is `esdb://` to the client), and options the string carries for the store itself
   * (PostgreSQL's `?schema=NAME`, which the driver would not understand).
   */
  readonly optionsFor: (given: string) => { readonly connectionString: string } & Record<string, unknown>;
  /**
   * The factory's options that make it refuse a store holding no ledger instead of creating one (what
   * read-only verbs ask); absent when the adapter has no such option.
   */
  readonly mustExistOptions?: Record<string, unknown>;
}

/** Every server store the command and `openLedger` open by connection string. */
export const STORE_SCHEMES: readonly StoreScheme[] = [
  {
    kind: 'eventstoredb',
    label: 'EventStoreDB / KurrentDB',
    schemes: ['esdb', 'esdb+discover', 'kurrentdb', 'kurrentdb+discover'],
    packageName: '@partner-ledger/store-eventstoredb',
    factory: 'createEventStoreDbStore',
    // The client (@eventstore/db-client) reads esdb:// and esdb+discover:// only.
    optionsFor: (given) => ({
      connectionString: given.replace(/^(?:kurrentdb|esdb)(\+discover)?:\/\//i, 'esdb$1://'),
    }),
  },
  {
    kind: 'postgres',
    label: 'PostgreSQL',
    schemes: ['postgres', 'postgresql'],
    packageName: '@partner-ledger/store-postgres',
    factory: 'createPostgresStore',
    optionsFor: (given) => {
      const url = new URL(given);
      const schema = url.searchParams.get('schema');
      if (schema === null) return { connectionString: given };
      url.searchParams.delete('schema');
      return { connectionString: url.toString(), schema };
    },
    // A misspelled ?schema= on a read-only verb fails (SchemaNotFoundError) rather than reads an empty ledger.
    mustExistOptions: { mustExist: true },
  },
];

/** The server store a name's scheme points to, if it has one of STORE_SCHEMES. */
export const schemeOf = (name: string): StoreScheme | undefined => {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(name)?.[1]?.toLowerCase();
  return scheme === undefined ? undefined : STORE_SCHEMES.find((s) => s.schemes.includes(scheme));
};

/** A connection string names a store whose adapter package is not installed. */
export class StoreAdapterMissingError extends Error {
  override readonly name = 'StoreAdapterMissingError';
  constructor(
    readonly scheme: StoreScheme,
    cause: unknown,
  ) {
    super(
      `a ${scheme.schemes[0]}:// connection string names a ${scheme.label} store, whose adapter is not installed: ` +
        `run \`npm install ${scheme.packageName}\` beside partner-ledger`,
      { cause },
    );
  }
}

/** Loads a package by name, as Node resolves it from this package. Replaced in tests. */
export type PackageLoader = (packageName: string) => unknown;

/**
 * The default loader: Node's `require`, resolving from this package (a plain require, called only when a
 * server store is opened: that is the point of the registry).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const requirePackage: PackageLoader = (packageName) => require(packageName) as unknown;

const isMissing = (error: unknown, packageName: string): boolean =>
  typeof error === 'object' &&
  error !== null &&
  ((error as { code?: unknown }).code === 'MODULE_NOT_FOUND' ||
    (error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') &&
  // Only the adapter itself: a dependency missing inside it is a broken install, and says so itself.
  String((error as { message?: unknown }).message).includes(`'${packageName}'`);

/**
 * Opens a server store through its adapter package, loaded now: a {@link StoreAdapterMissingError} that
 * says what to install when the package is absent. `mustExist` adds the scheme's `mustExistOptions`.
 */
export const openServerStore = async (
  scheme: StoreScheme,
  connectionString: string,
  load: PackageLoader = requirePackage,
  mustExist = false,
): Promise<EventStore> => {
  let adapter: unknown;
  try {
    adapter = load(scheme.packageName);
  } catch (error) {
    if (isMissing(error, scheme.packageName)) throw new StoreAdapterMissingError(scheme, error);
    throw error;
  }
  const factory = (adapter as Record<string, unknown> | null)?.[scheme.factory];
  if (typeof factory !== 'function')
    throw new Error(
      `${scheme.packageName} does not export ${scheme.factory}: is it a partner-ledger store adapter?`,
    );
  return (await (factory as (options: object) => EventStore | Promise<EventStore>)(
    mustExist && scheme.mustExistOptions !== undefined
      ? { ...scheme.optionsFor(connectionString), ...scheme.mustExistOptions }
      : scheme.optionsFor(connectionString),
  )) as EventStore;
};
