import { chmod, open, readFile, rename, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { cachingKeyStore, createInMemoryKeyStore } from '@partner-ledger/events';
import type { KeyStore, KeyStoreContents } from '@partner-ledger/events';
import type { EventStore } from '@partner-ledger/store';
import type { StoreSpec } from './store-spec';

/** The environment variable that names the key file when `--keys` is not given. */
export const KEYS_ENV = 'PARTNER_LEDGER_KEYS';

/** A key file that cannot be used: missing, unreadable, malformed, or readable by others. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`the key file ${path} ${reason}`);
  }
}

const FORMAT = 'partner-ledger keys v1';

/**
 * Where a ledger's key file is: `--keys` (or `given`), then $PARTNER_LEDGER_KEYS, then `<directory>.keys`
 * beside a file store's directory (outside it, so that copying the ledger does not copy its keys).
 * Undefined for a server store with neither.
 */
export const keyFilePathOf = (
  spec: StoreSpec,
  given: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): string | undefined => {
  const name = given ?? (env[KEYS_ENV] !== undefined && env[KEYS_ENV] !== '' ? env[KEYS_ENV] : undefined);
  if (name !== undefined) return isAbsolute(name) ? name : resolve(cwd, name);
  return spec.kind === 'file' ? `${spec.directory.replace(/[/\\]+$/, '')}.keys` : undefined;
};

const exists = async (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );

/** Writes the whole file anew: a temporary file with mode 0600, synced, then renamed over the old one. */
const writeContents = async (path: string, contents: KeyStoreContents): Promise<void> => {
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(`${JSON.stringify({ format: FORMAT, ...contents }, null, 2)}\n`, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await chmod(temporary, 0o600);
  await rename(temporary, path);
};

/** Creates an empty key file (mode 0600); an existing one is kept as it is. Returns whether it made one. */
export const createKeyFile = async (path: string): Promise<boolean> => {
  if (await exists(path)) return false;
  await writeContents(path, { keys: {}, erased: {} });
  return true;
};

const isStringRecord = (u: unknown): u is Record<string, string> =>
  u !== null &&
  typeof u === 'object' &&
  !Array.isArray(u) &&
  Object.values(u as object).every((v) => typeof v === 'string');

const sameRecord = (a: Record<string, string>, b: Record<string, string>): boolean => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
};
const sameContents = (a: KeyStoreContents, b: KeyStoreContents): boolean =>
  sameRecord(a.keys, b.keys) && sameRecord(a.erased, b.erased);

/** How a key file opened by {@link openKeyFile} writes the keys it makes. */
export interface KeyFileOptions {
  /**
   * `immediately` (the default): `getOrCreate` resolves once a key it made is in the file. `beforeAppend`:
   * a key made is kept in memory until `writeMadeKeys`, which a ledger's store calls before every append
   * (see {@link appendsAfterKeys}): a command the ledger refuses before appending anything (a click whose
   * partner has not joined) then writes nothing to the file, and a crash cannot leave its key behind, while
   * every key is in the file before an event made with it is appended. Erasures are written at once either
   * way.
   */
  readonly newKeys?: 'immediately' | 'beforeAppend';
}

/** A key file's KeyStore. */
export interface KeyFile extends KeyStore {
  /**
   * Resolves once every key made so far is in the file (written, synced and renamed into place): writes
   * them when some are not, or waits for the write under way.
   */
  readonly writeMadeKeys: () => Promise<void>;
}

/**
 * Opens a key file as a KeyStore (cached): JSON with each key in base64 and each erased key id with the
 * time of its erasure. The file must be readable by its owner only (mode 0600 or stricter, on systems with
 * POSIX permissions): anything else is a KeyFileError, as is a missing or malformed file. Every change
 * rewrites the file atomically (a key made: at once, or before the next append: see KeyFileOptions); a
 * destroyed key leaves no trace in it but its id and erasure time (copies and backups of older versions of
 * the file still hold it: see docs/privacy.md).
 */
export const openKeyFile = async (path: string, options: KeyFileOptions = {}): Promise<KeyFile> => {
  let text: string;
  try {
    const info = await stat(path);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0)
      throw new KeyFileError(
        path,
        `is readable or writable by others (mode ${(info.mode & 0o777).toString(8)}): run \`chmod 600 ${path}\``,
      );
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof KeyFileError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new KeyFileError(path, 'does not exist (`partner-ledger init` creates it)');
    throw new KeyFileError(path, `cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyFileError(path, 'is not JSON');
  }
  const { format, keys, erased } = (parsed ?? {}) as Record<string, unknown>;
  if (format !== FORMAT || !isStringRecord(keys) || !isStringRecord(erased))
    throw new KeyFileError(path, `is not a key file (expected "format": "${FORMAT}", "keys" and "erased")`);
  const atOnce = (options.newKeys ?? 'immediately') === 'immediately';
  // `latest` is the state in memory, set by onChange at the very moment of a change (before anyone can
  // find the key made: another caller may seal with it before the one that made it comes back);
  // `scheduled` the state last handed to a write. The file lacks something while they differ.
  let latest: KeyStoreContents = { keys, erased };
  let scheduled = latest;
  let writing: Promise<void> = Promise.resolve();
  const write = (): Promise<void> => {
    const contents = latest;
    scheduled = contents;
    // One after the other, each with the whole state as it was when asked for: the last one wins.
    writing = writing.then(() => writeContents(path, contents));
    return writing;
  };
  const writeMadeKeys = (): Promise<void> => (latest === scheduled ? writing : write());
  const memory = createInMemoryKeyStore({
    contents: { keys, erased },
    onChange: async (contents) => {
      latest = contents;
    },
  });
  const file: KeyStore = {
    get: memory.get,
    getOrCreate: async (keyId) => {
      const key = await memory.getOrCreate(keyId);
      if (atOnce) await writeMadeKeys();
      return key;
    },
    destroy: async (keyId, erasedAt) => {
      await memory.destroy(keyId, erasedAt);
      await write();
    },
    discard: async (keyId, key) => {
      const before = latest;
      await memory.discard!(keyId, key);
      if (latest === before) return;
      // A key never written leaves the state as the file has it (or will): nothing to write. One written (an
      // append needed it or another key, or it was written at once) is written away again, now.
      if (sameContents(latest, scheduled)) latest = scheduled;
      else await write();
    },
  };
  return { ...cachingKeyStore(file), writeMadeKeys };
};

/**
 * The store beneath a sealing store whose keys are a key file opened with `newKeys: 'beforeAppend'`: every
 * append waits until the keys made so far are in the file. An event is made with its keys before it is
 * appended (a visitor's pseudonym when the command is prepared, a partner's sealed fields on the way into
 * this store), so no event the store acknowledges needs a key that a crash could lose; a key made for a
 * command refused before any append is never written.
 */
export const appendsAfterKeys = (store: EventStore, keys: KeyFile): EventStore => ({
  ...store,
  append: async (stream, events, options) => {
    await keys.writeMadeKeys();
    return store.append(stream, events, options);
  },
});

/** Opens the key file of a ledger when there is one (see keyFilePathOf); undefined when there is none. */
export const openKeyFileOf = async (
  spec: StoreSpec,
  given: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  options: KeyFileOptions = {},
): Promise<KeyFile | undefined> => {
  const path = keyFilePathOf(spec, given, env, cwd);
  if (path === undefined) return undefined;
  // A key file named explicitly must be there; the default one beside a file store is optional (a ledger
  // made before this release, or without `init`, has none and stays in plaintext).
  const named = given !== undefined || (env[KEYS_ENV] ?? '') !== '';
  if (!named && !(await exists(path))) return undefined;
  return openKeyFile(path, options);
};
