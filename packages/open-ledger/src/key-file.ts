import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { KEY_BYTES, KeyErasedError } from '@partner-ledger/events';
import type { KeyLookup, KeyStore, KeyStoreContents } from '@partner-ledger/events';
import type { EventStore } from '@partner-ledger/store';
import { lockFileFormat, takeLockFile } from '@partner-ledger/store-file';
import type { LockFileFormat, LockFileHolder } from '@partner-ledger/store-file';
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
  // One name for every process: only the holder of the key file's lock writes it (see withKeyFileLock).
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

/** Who holds a key file's lock: a process on a host, and a nonce telling its takings of the lock apart. */
interface KeyLockHolder extends LockFileHolder {
  readonly nonce: string;
}

/** The key-file lock's record: pid, host, nonce (the same fields as before the mechanism was shared). */
const KEY_LOCK: LockFileFormat<KeyLockHolder> = lockFileFormat('nonce');

/** How long a process waits for another one's lock before it gives up: a write holds it for milliseconds. */
const LOCK_WAIT_MS = 10_000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` holding the key file's lock, `<path>.lock`, shared by every process that opens the key file:
 * a lock file of the file store's mechanism (takeLockFile: a record naming its holder, pid, host and nonce,
 * created exclusively and complete, a dead holder's lock on this host taken over safely). A live holder is
 * waited for, up to LOCK_WAIT_MS, then a KeyFileError names it.
 */
const withKeyFileLock = async <T>(path: string, work: () => Promise<T>): Promise<T> => {
  const file = `${path}.lock`;
  const holder: KeyLockHolder = {
    pid: process.pid,
    hostname: hostname(),
    nonce: randomBytes(8).toString('hex'),
  };
  const deadline = Date.now() + LOCK_WAIT_MS;
  const lock = await takeLockFile(file, holder, {
    format: KEY_LOCK,
    draft: `${file}.${holder.pid}.${holder.nonce}.tmp`,
    mode: 0o600,
    busy: async (current, attempt) => {
      if (Date.now() > deadline)
        throw new KeyFileError(
          path,
          `is locked by ${current === null ? 'an unknown holder' : `process ${current.pid} on ${current.hostname}`} for more than ${LOCK_WAIT_MS / 1000} s: if no such process is running, remove ${file}`,
        );
      await pause(1 + Math.min(attempt, 15) + Math.floor(Math.random() * 4));
    },
  });
  try {
    return await work();
  } finally {
    await lock.release();
  }
};

/** Creates an empty key file (mode 0600); an existing one is kept as it is. Returns whether it made one. */
export const createKeyFile = async (path: string): Promise<boolean> =>
  withKeyFileLock(path, async () => {
    if (await exists(path)) return false;
    await writeContents(path, { keys: {}, erased: {} });
    return true;
  });

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

/** Reads and checks a key file: owner-only, JSON, the format's fields. */
const readContents = async (path: string): Promise<KeyStoreContents> => {
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
  return { keys, erased };
};

/**
 * Another process wrote a key for an id this one had made a key for in memory (`newKeys: 'beforeAppend'`)
 * but not yet written, or erased it: the file's wins, and what this process sealed with its own key must
 * never be appended. This process cannot tell which of its commands under way used the lost key, so every
 * append through {@link appendsAfterKeys} is refused from then on with this error, and nothing is
 * appended: run the command again (a new process reads the file's key), or open the ledger again.
 */
export class KeyFileConflictError extends Error {
  override readonly name = 'KeyFileConflictError';
  constructor(
    readonly path: string,
    readonly keyIds: readonly string[],
  ) {
    super(
      `the key file ${path} got the key ${keyIds.map((id) => JSON.stringify(id)).join(', ')} from another process while this one was making its own: nothing sealed with this process's key is appended; run the command again (a long-running process: open the ledger again)`,
    );
  }
}

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
   * them when some are not, or waits for the write under way. Rejects with a KeyFileConflictError once
   * another process won a key id this one had made a key for (see there).
   */
  readonly writeMadeKeys: () => Promise<void>;
}

/**
 * Opens a key file as a KeyStore: JSON with each key in base64 and each erased key id with the time of its
 * erasure. The file must be readable by its owner only (mode 0600 or stricter, on systems with POSIX
 * permissions): anything else is a KeyFileError, as is a missing or malformed file. Every change rewrites
 * the file atomically (a key made: at once, or before the next append: see KeyFileOptions); a destroyed
 * key leaves no trace in it but its id and erasure time (copies and backups of older versions of the file
 * still hold it: see docs/privacy.md).
 *
 * Several processes may hold the file open (the CLI and services on one host): every write takes the key
 * file's lock, reads the file again and merges it with this process's keys before it writes (keys of both;
 * an erasure in either wins over a key, keeping the time first recorded; for one id made by two processes,
 * the file's key wins), so no process drops another's key or brings back a key another erased. A key id
 * this process does not know is looked up in the file again before it is called missing.
 */
export const openKeyFile = async (path: string, options: KeyFileOptions = {}): Promise<KeyFile> => {
  const initial = await readContents(path);
  const atOnce = (options.newKeys ?? 'immediately') === 'immediately';
  // This process's view of the file, kept in step with it at every read and write. `pending`: keys made
  // here that the file does not have yet; `removals`: keys written and then discarded here, removed from
  // the file only while it still holds that very key.
  const keys = new Map(Object.entries(initial.keys));
  const erased = new Map(Object.entries(initial.erased));
  const pending = new Set<string>();
  const removals = new Map<string, string>();
  let conflict: KeyFileConflictError | undefined;
  // The operations of this process touching the view or the file take turns: a write's merge is not mixed
  // with another's, and an append's writeMadeKeys waits for the write under way.
  let turn: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const done = turn.then(work);
    turn = done.catch(() => undefined);
    return done;
  };
  const lookup = (keyId: string): KeyLookup => {
    const key = keys.get(keyId);
    if (key !== undefined) return { state: 'present', key: Buffer.from(key, 'base64') };
    const at = erased.get(keyId);
    return at === undefined ? { state: 'missing' } : { state: 'erased', erasedAt: at };
  };
  /** Takes what the file holds into the view: its erasures, then its keys (its own wins over a pending one). */
  const merge = (file: KeyStoreContents): void => {
    const lost: string[] = [];
    for (const [keyId, at] of Object.entries(file.erased)) {
      // The file's time is the first one recorded: an erasure is written at once, under the lock.
      erased.set(keyId, at);
      if (keys.delete(keyId) && pending.delete(keyId)) lost.push(keyId);
    }
    for (const [keyId, key] of Object.entries(file.keys)) {
      if (erased.has(keyId) || removals.get(keyId) === key) continue;
      const mine = keys.get(keyId);
      if (mine !== undefined && mine !== key) lost.push(keyId);
      keys.set(keyId, key);
      pending.delete(keyId);
    }
    if (lost.length > 0) conflict = new KeyFileConflictError(path, [...(conflict?.keyIds ?? []), ...lost]);
  };
  // The file as last read (inode, time, size: every write renames a new file into place), so that looking
  // up ids the file lacks (a replay over keys it never had) reads it again only once it has changed.
  let lastRead: string | undefined;
  const refresh = async (): Promise<void> => {
    const info = await stat(path).catch(() => undefined);
    const seen = info === undefined ? undefined : `${info.ino}:${info.mtimeMs}:${info.size}`;
    if (seen !== undefined && seen === lastRead) return;
    merge(await readContents(path));
    lastRead = seen;
  };
  /** Under the lock: re-reads and merges the file, applies `change`, writes the merged view when it differs. */
  const writeMerged = <T>(change: () => T): Promise<T> =>
    withKeyFileLock(path, async () => {
      const file = await readContents(path);
      merge(file);
      const result = change();
      const contents = { keys: Object.fromEntries(keys), erased: Object.fromEntries(erased) };
      if (!sameContents(contents, file)) {
        await writeContents(path, contents);
        lastRead = undefined;
      }
      pending.clear();
      removals.clear();
      return result;
    });
  const make = (keyId: string): Uint8Array => {
    const found = lookup(keyId);
    if (found.state === 'present') return found.key;
    if (found.state === 'erased') throw new KeyErasedError(keyId);
    const key = randomBytes(KEY_BYTES);
    keys.set(keyId, key.toString('base64'));
    pending.add(keyId);
    return key;
  };
  const writeMadeKeys = (): Promise<void> =>
    inTurn(async () => {
      if (pending.size > 0) await writeMerged(() => undefined);
      if (conflict !== undefined) throw conflict;
    });
  return {
    get: async (keyId) => {
      const found = lookup(keyId);
      if (found.state !== 'missing') return found;
      // Another process may have made it since this one read the file.
      return inTurn(async () => {
        await refresh();
        return lookup(keyId);
      });
    },
    getOrCreate: async (keyId) => {
      const found = lookup(keyId);
      if (found.state === 'present') return found.key;
      if (found.state === 'erased') throw new KeyErasedError(keyId);
      return inTurn(async () => {
        if (atOnce) return writeMerged(() => make(keyId));
        // Read first: a key another process made is taken rather than raced for at the next write.
        await refresh();
        return make(keyId);
      });
    },
    destroy: (keyId, erasedAt) =>
      inTurn(() =>
        writeMerged(() => {
          keys.delete(keyId);
          pending.delete(keyId);
          // A repeated erasure (a retry, a second request) must not move the date the key was destroyed.
          if (!erased.has(keyId)) erased.set(keyId, erasedAt);
        }),
      ),
    discard: (keyId, key) =>
      inTurn(async () => {
        const discarded = Buffer.from(key).toString('base64');
        if (keys.get(keyId) !== discarded) return;
        keys.delete(keyId);
        // A key never written leaves the file as it is: nothing to write. One written (an append needed it
        // or another key, or it was written at once) is written away again, now.
        if (pending.delete(keyId)) return;
        removals.set(keyId, discarded);
        await writeMerged(() => undefined);
      }),
    writeMadeKeys,
  };
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
