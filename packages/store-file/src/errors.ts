import { StoreError } from '@partner-ledger/store';

/** Who holds a ledger's writer lock, as written in its LOCK file. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** When the holder took the lock (ISO 8601). */
  readonly since: string;
}

/** Another process (or another open store in this one) is the ledger's writer. */
export class StoreLockedError extends StoreError {
  readonly code = 'STORE_LOCKED';
  constructor(
    readonly directory: string,
    readonly lockFile: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      holder === null
        ? `The ledger in ${directory} is locked for writing (${lockFile} exists but cannot be read)`
        : `The ledger in ${directory} is locked for writing by pid ${holder.pid} on ${holder.hostname} since ${holder.since}` +
            `${holder.pid === process.pid ? ' (this process: close the other store first)' : ''}; ` +
            `open it with { readOnly: true } to read, or stop that process (${lockFile})`,
    );
    this.name = 'StoreLockedError';
  }
}

/** A write was attempted on a store opened with `readOnly: true`. */
export class ReadOnlyStoreError extends StoreError {
  readonly code = 'STORE_READ_ONLY';
  constructor(readonly directory: string) {
    super(`The ledger in ${directory} was opened read-only`);
    this.name = 'ReadOnlyStoreError';
  }
}

/** A write or fsync failed: the store stops accepting appends until it is reopened (and recovered). */
export class StoreFailedError extends StoreError {
  readonly code = 'STORE_FAILED';
  constructor(
    readonly directory: string,
    readonly failure: unknown,
  ) {
    super(
      `The ledger in ${directory} stopped accepting writes after an I/O failure (${failure instanceof Error ? failure.message : String(failure)}); reopen it to recover`,
    );
    this.name = 'StoreFailedError';
  }
}
