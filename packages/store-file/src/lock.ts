import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StoreLockedError } from './errors';
import type { LockHolder } from './errors';

export const LOCK_FILE = 'LOCK';

export interface WriterLock {
  readonly file: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
};

const readHolder = async (file: string): Promise<LockHolder | null> => {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' &&
      typeof parsed.hostname === 'string' &&
      typeof parsed.since === 'string'
      ? { pid: parsed.pid, hostname: parsed.hostname, since: parsed.since }
      : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    return null;
  }
};

const sameHolder = (a: LockHolder | null, b: LockHolder | null): boolean =>
  a !== null && b !== null && a.pid === b.pid && a.hostname === b.hostname && a.since === b.since;

/** A short, file-name-safe name for a holder: what a take-over marker is named after. */
const holderKey = (holder: LockHolder): string =>
  `${holder.pid}-${holder.since.replace(/[^0-9A-Za-z]/g, '')}`;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Removes `file` if (and only if) it still holds the dead `stale` holder. Only one process at a time may do
 * that for a given stale holder: it first creates, exclusively (link fails if it exists), a marker named
 * after that holder, `<file>.takeover-<pid>-<since>`, holding its own holder record. Under the marker,
 * `file` can only be what it was read to be: nobody else removes it (they would need the marker), its dead
 * holder cannot release it, and a new lock cannot appear while it exists. So "read, then remove" cannot
 * remove anyone else's lock, and there is no step that puts a lock back (the race of renaming a lock aside
 * and finding out it was a live one). Once `file` no longer holds the stale holder it never will again, so
 * the marker is removed afterwards. A marker left by a process that died during its take-over is itself a
 * stale lock, taken over the same way (one level deeper).
 *
 * Returns false when another live process is taking over the same lock right now.
 */
const removeStale = async (
  file: string,
  stale: LockHolder,
  draft: string,
  self: LockHolder,
  depth = 0,
): Promise<boolean> => {
  if (depth > 8) return false;
  const marker = `${file}.takeover-${holderKey(stale)}`;
  try {
    await fs.link(draft, marker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    let other: LockHolder | null;
    try {
      other = await readHolder(marker);
    } catch {
      return true; // the other take-over finished: look again
    }
    if (other === null || other.hostname !== self.hostname || isAlive(other.pid)) return false;
    await removeStale(marker, other, draft, self, depth + 1);
    return true;
  }
  try {
    const current = await readHolder(file).catch(() => null);
    if (sameHolder(current, stale)) await fs.rm(file, { force: true });
  } finally {
    await fs.rm(marker, { force: true });
  }
  return true;
};

/**
 * Takes the writer lock of a ledger directory: a LOCK file holding the pid, host and time of its holder.
 *
 * The file is written in full under a private name and then hard-linked into place, so that it appears
 * atomically and complete (link fails if it exists: the exclusive create). A lock left by a process that
 * is gone (same host, pid not alive) is stale: it is removed under a take-over marker (see removeStale), and
 * then the exclusive link is tried again, so that of several processes taking over one stale lock exactly
 * one gets it and the others find a live holder.
 */
export const acquireWriterLock = async (directory: string, clock: () => Date): Promise<WriterLock> => {
  const file = join(directory, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), since: clock().toISOString() };
  const draft = join(directory, `${LOCK_FILE}.${process.pid}.${Date.now()}.tmp`);
  await fs.writeFile(draft, `${JSON.stringify(holder)}\n`);
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await fs.link(draft, file);
        return {
          file,
          holder,
          release: async () => {
            const current = await readHolder(file).catch(() => null);
            if (sameHolder(current, holder)) await fs.rm(file, { force: true });
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let current: LockHolder | null;
      try {
        current = await readHolder(file);
      } catch {
        continue; // it went away between link and read: try again
      }
      if (current === null || current.hostname !== holder.hostname || isAlive(current.pid))
        throw new StoreLockedError(directory, file, current);
      // Another process is taking it over right now: give it a moment, then look again.
      if (!(await removeStale(file, current, draft, holder))) await pause(5 + attempt);
    }
    throw new StoreLockedError(directory, file, await readHolder(file).catch(() => null));
  } finally {
    await fs.rm(draft, { force: true });
  }
};
