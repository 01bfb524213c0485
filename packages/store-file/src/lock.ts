import { hostname } from 'node:os';
import { join } from 'node:path';
import { StoreLockedError } from './errors';
import type { LockHolder } from './errors';
import { lockFileFormat, readLockHolder, takeLockFile } from './lock-file';
import type { LockFileFormat } from './lock-file';

export const LOCK_FILE = 'LOCK';

export interface WriterLock {
  readonly file: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

/** The LOCK file's record: pid, host and the time the lock was taken, which tells takings apart. */
const WRITER_LOCK: LockFileFormat<LockHolder> = lockFileFormat('since');

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the writer lock of a ledger directory: a LOCK file holding the pid, host and time of its holder,
 * taken as every lock file is (lock-file.ts: exclusive, complete when it appears, a dead holder's lock taken
 * over safely). A live holder is refused at once with a StoreLockedError naming it: there is one writer.
 */
export const acquireWriterLock = async (directory: string, clock: () => Date): Promise<WriterLock> => {
  const file = join(directory, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), since: clock().toISOString() };
  return takeLockFile(file, holder, {
    format: WRITER_LOCK,
    draft: join(directory, `${LOCK_FILE}.${process.pid}.${Date.now()}.tmp`),
    busy: async (current, attempt, why) => {
      if (why === 'held') throw new StoreLockedError(directory, file, current);
      // Another process is taking it over right now: give it a moment, then look again.
      await pause(5 + attempt);
    },
    limit: {
      attempts: 50,
      exhausted: async () =>
        new StoreLockedError(directory, file, await readLockHolder(file, WRITER_LOCK).catch(() => null)),
    },
  });
};
