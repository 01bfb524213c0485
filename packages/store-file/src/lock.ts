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

/**
 * Takes the writer lock of a ledger directory: a LOCK file holding the pid, host and time of its holder.
 *
 * The file is written in full under a private name and then hard-linked into place, so that it appears
 * atomically and complete (link fails if it exists: the exclusive create). A lock left by a process that
 * is gone (same host, pid not alive) is stale and taken over: it is renamed away first, and only deleted if
 * what was renamed is the stale lock that was read, so that two processes cannot both take it over.
 */
export const acquireWriterLock = async (directory: string, clock: () => Date): Promise<WriterLock> => {
  const file = join(directory, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), since: clock().toISOString() };
  const draft = join(directory, `${LOCK_FILE}.${process.pid}.${Date.now()}.tmp`);
  await fs.writeFile(draft, `${JSON.stringify(holder)}\n`);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
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
      const aside = join(directory, `${LOCK_FILE}.stale.${process.pid}.${attempt}`);
      try {
        await fs.rename(file, aside);
      } catch {
        continue; // someone else moved it first
      }
      const moved = await readHolder(aside).catch(() => null);
      if (sameHolder(moved, current)) {
        await fs.rm(aside, { force: true });
      } else {
        // We moved a fresh lock taken by another process after our read: put it back and give way.
        await fs.link(aside, file).catch(() => undefined);
        await fs.rm(aside, { force: true });
        throw new StoreLockedError(directory, file, moved);
      }
    }
    throw new StoreLockedError(directory, file, await readHolder(file).catch(() => null));
  } finally {
    await fs.rm(draft, { force: true });
  }
};
