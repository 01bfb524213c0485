import type { EventStore } from '@partner-ledger/store';
import type { FileEventStore } from '@partner-ledger/store-file';
import type { CliIo } from './io';

/**
 * Says on stderr what opening the file store dropped: a torn tail cut off (a writable open) or ignored (a
 * read-only one), with the file, the offset, the number of bytes and what they were. Every open that drops
 * bytes says so; a clean open says nothing.
 */
export const noticeRecovery = (io: CliIo, store: EventStore): void => {
  const report = (store as Partial<FileEventStore>).openReport;
  const torn = report?.tornTail;
  if (torn === null || torn === undefined) return;
  io.stderr.write(
    `partner-ledger: ${torn.truncated ? 'cut off' : 'ignored (read-only open; not removed)'} ${torn.bytesDropped} bytes at the end of ${torn.file} from offset ${torn.offset}, which were not a committed record: ${torn.reason}\n`,
  );
};
