/**
 * @packageDocumentation
 * The embedded file store of partner-ledger: the default store. One directory per ledger, append-only
 * segments of checksummed records, group-committed appends that resolve only once fsync'ed, one writer
 * process (a lock file) and any number of readers, recovery that cuts off only a torn last record, and a
 * verify that names the first damaged or tampered event.
 */
export { DEFAULT_DIRECTORY, openFileStore } from './store';
export type { CommitInfo, FileEventStore, FileStoreOptions, OpenReport } from './store';
export type { DamageReport, TornTail } from './recovery';
export { verifyFileStore } from './verify';
export type { FileVerifyProblem, FileVerifyReport } from './verify';
export { verifyInOnePass } from './verify-pass';
export type { OnePassVerifyOptions } from './verify-pass';
export { ReadOnlyStoreError, StoreFailedError, StoreLockedError } from './errors';
export type { LockHolder } from './errors';
// The cross-process lock-file mechanism of the writer lock, for other locks of a ledger's files (the key file).
export { lockFileFormat, takeLockFile } from './lock-file';
export type { LockFile, LockFileFormat, LockFileHolder, TakeLockFileOptions } from './lock-file';
