import { promises as fs } from 'node:fs';

/**
 * A cross-process lock file: a file naming its holder (a process on a host, and a tag telling its takings
 * of the lock apart), used by the file store's writer lock (lock.ts) and by open-ledger's key-file lock.
 * One mechanism for both, so that a fix to the take-over of a dead holder's lock reaches both.
 */

/** What every holder record on disk names: the process and its host. */
export interface LockFileHolder {
  readonly pid: number;
  readonly hostname: string;
}

/**
 * How one kind of lock file's holder record reads (the on-disk records of the two users differ: the
 * writer lock's `since`, the key-file lock's `nonce`, and must stay readable as they were written).
 */
export interface LockFileFormat<H extends LockFileHolder> {
  /** The holder a parsed lock file names, or null when it names none of this format. */
  readonly parse: (record: Partial<Record<keyof H, unknown>>) => H | null;
  /** What tells two takings by one process apart: compared, and named in take-over markers. */
  readonly tag: (holder: H) => string;
}

/**
 * The format of holder records `{ pid, hostname, <tag> }` whose tag is the string field `tag` (the writer
 * lock's `since`, the key-file lock's `nonce`): a record missing a field, or with one of another type,
 * names no holder.
 */
export const lockFileFormat = <K extends string>(
  tag: K,
): LockFileFormat<LockFileHolder & { readonly [field in K]: string }> => ({
  parse: (record) => {
    const { pid, hostname } = record;
    const value = (record as Partial<Record<string, unknown>>)[tag];
    return typeof pid === 'number' && typeof hostname === 'string' && typeof value === 'string'
      ? ({ pid, hostname, [tag]: value } as LockFileHolder & { readonly [field in K]: string })
      : null;
  },
  tag: (holder) => holder[tag],
});

/** A lock file taken by this process. */
export interface LockFile<H extends LockFileHolder> {
  readonly file: string;
  readonly holder: H;
  /** Removes the lock file if (and only if) it still names this holder. */
  readonly release: () => Promise<void>;
}

/** How {@link takeLockFile} waits for a lock it cannot take now. */
export interface TakeLockFileOptions<H extends LockFileHolder> {
  readonly format: LockFileFormat<H>;
  /** The private file the holder record is written to before it is hard-linked into place. */
  readonly draft: string;
  /** The draft's mode (the default: the process's). */
  readonly mode?: number;
  /**
   * Called when the lock is not taken on this attempt: `held`, a live holder (or one on another host, or a
   * file naming no holder: `current` null) has it; `takeover`, another live process is taking over the
   * dead holder's lock right now. Throw to give up; resolve (after a pause) to try again.
   */
  readonly busy: (current: H | null, attempt: number, why: 'held' | 'takeover') => Promise<void>;
  /** At most this many attempts, then the error `exhausted` makes is thrown (the default: no limit). */
  readonly limit?: { readonly attempts: number; readonly exhausted: () => Promise<Error> };
}

/** Whether a process of this host is alive. */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
};

/** The holder a lock file names; null when it names none (not ours); throws ENOENT when it is gone. */
export const readLockHolder = async <H extends LockFileHolder>(
  file: string,
  format: LockFileFormat<H>,
): Promise<H | null> => {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    return null;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object'
      ? format.parse(parsed as Partial<Record<keyof H, unknown>>)
      : null;
  } catch {
    return null;
  }
};

const sameHolder = <H extends LockFileHolder>(format: LockFileFormat<H>, a: H | null, b: H | null): boolean =>
  a !== null && b !== null && a.pid === b.pid && a.hostname === b.hostname && format.tag(a) === format.tag(b);

/** A short, file-name-safe name for a holder: what a take-over marker is named after. */
const holderKey = <H extends LockFileHolder>(format: LockFileFormat<H>, holder: H): string =>
  `${holder.pid}-${format.tag(holder).replace(/[^0-9A-Za-z]/g, '')}`;

/**
 * Removes `file` if (and only if) it still holds the dead `stale` holder. Only one process at a time may do
 * that for a given stale holder: it first creates, exclusively (link fails if it exists), a marker named
 * after that holder, `<file>.takeover-<pid>-<tag>`, holding its own holder record. Under the marker,
 * `file` can only be what it was read to be: nobody else removes it (they would need the marker), its dead
 * holder cannot release it, and a new lock cannot appear while it exists. So "read, then remove" cannot
 * remove anyone else's lock, and there is no step that puts a lock back (the race of renaming a lock aside
 * and finding out it was a live one). Once `file` no longer holds the stale holder it never will again, so
 * the marker is removed afterwards. A marker left by a process that died during its take-over is itself a
 * stale lock, taken over the same way (one level deeper).
 *
 * Returns false when another live process is taking over the same lock right now.
 */
const removeStale = async <H extends LockFileHolder>(
  format: LockFileFormat<H>,
  file: string,
  stale: H,
  draft: string,
  self: H,
  depth = 0,
): Promise<boolean> => {
  if (depth > 8) return false;
  const marker = `${file}.takeover-${holderKey(format, stale)}`;
  try {
    await fs.link(draft, marker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    let other: H | null;
    try {
      other = await readLockHolder(marker, format);
    } catch {
      return true; // the other take-over finished: look again
    }
    if (other === null || other.hostname !== self.hostname || isAlive(other.pid)) return false;
    await removeStale(format, marker, other, draft, self, depth + 1);
    return true;
  }
  try {
    const current = await readLockHolder(file, format).catch(() => null);
    if (sameHolder(format, current, stale)) await fs.rm(file, { force: true });
  } finally {
    await fs.rm(marker, { force: true });
  }
  return true;
};

/**
 * Takes the lock file `file` for `holder`. The record is written in full under a private name (the draft)
 * and then hard-linked into place, so that it appears atomically and complete (link fails if it exists: the
 * exclusive create). A lock left by a process that is gone (same host, pid not alive) is stale: it is
 * removed under a take-over marker (see removeStale), and then the exclusive link is tried again, so that of
 * several processes taking over one stale lock exactly one gets it and the others find a live holder. What
 * to do about a live holder (refuse at once, or wait) is the caller's: see `busy`.
 */
export const takeLockFile = async <H extends LockFileHolder>(
  file: string,
  holder: H,
  options: TakeLockFileOptions<H>,
): Promise<LockFile<H>> => {
  const { format, draft } = options;
  await fs.writeFile(
    draft,
    `${JSON.stringify(holder)}\n`,
    options.mode === undefined ? {} : { mode: options.mode },
  );
  try {
    const attempts = options.limit?.attempts ?? Infinity;
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        await fs.link(draft, file);
        return {
          file,
          holder,
          release: async () => {
            const current = await readLockHolder(file, format).catch(() => null);
            if (sameHolder(format, current, holder)) await fs.rm(file, { force: true });
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let current: H | null;
      try {
        current = await readLockHolder(file, format);
      } catch {
        continue; // it went away between link and read: try again
      }
      if (current === null || current.hostname !== holder.hostname || isAlive(current.pid))
        await options.busy(current, attempt, 'held');
      else if (!(await removeStale(format, file, current, draft, holder)))
        await options.busy(current, attempt, 'takeover');
    }
    throw await (options.limit as NonNullable<TakeLockFileOptions<H>['limit']>).exhausted();
  } finally {
    await fs.rm(draft, { force: true });
  }
};
