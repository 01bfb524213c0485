import { chmod, open, readFile, rename, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { cachingKeyStore, createInMemoryKeyStore } from '@partner-ledger/events';
import type { KeyStore, KeyStoreContents } from '@partner-ledger/events';
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

/**
 * Opens a key file as a KeyStore (cached): JSON with each key in base64 and each erased key id with the
 * time of its erasure. The file must be readable by its owner only (mode 0600 or stricter, on systems with
 * POSIX permissions): anything else is a KeyFileError, as is a missing or malformed file. Every change
 * rewrites the file atomically; a destroyed key leaves no trace in it but its id and erasure time (copies
 * and backups of older versions of the file still hold it: see docs/privacy.md).
 */
export const openKeyFile = async (path: string): Promise<KeyStore> => {
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
  let writing: Promise<void> = Promise.resolve();
  return cachingKeyStore(
    createInMemoryKeyStore({
      contents: { keys, erased },
      onChange: (contents) => {
        writing = writing.then(() => writeContents(path, contents));
        return writing;
      },
    }),
  );
};

/** Opens the key file of a ledger when there is one (see keyFilePathOf); undefined when there is none. */
export const openKeyFileOf = async (
  spec: StoreSpec,
  given: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<KeyStore | undefined> => {
  const path = keyFilePathOf(spec, given, env, cwd);
  if (path === undefined) return undefined;
  // A key file named explicitly must be there; the default one beside a file store is optional (a ledger
  // made before this release, or without `init`, has none and stays in plaintext).
  const named = given !== undefined || (env[KEYS_ENV] ?? '') !== '';
  if (!named && !(await exists(path))) return undefined;
  return openKeyFile(path);
};
