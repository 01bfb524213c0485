import type { NewEvent } from '@partner-ledger/events';
import { openFileStore } from '@partner-ledger/store-file';

/**
 * The process that the crash test kills: appends from several concurrent writers until it is killed, and
 * prints the id of every event whose append has resolved (so: fsync'ed), one per line. stdout is a pipe,
 * written synchronously on Linux, so a printed id has left this process before the next line runs.
 *
 * argv: directory round writers
 */
const [directory, round, writersText] = process.argv.slice(2);
const writers = Number(writersText);

const event = (id: string, n: number): NewEvent => ({
  id,
  type: 'CrashTestAppended',
  schemaVersion: 1,
  data: { round: Number(round), n, amount: `${n}.25`, note: 'x'.repeat(n % 97) },
  occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  recordedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  actor: 'test:crash',
  correlationId: `round-${round}`,
  causationId: null,
});

const main = async (): Promise<void> => {
  const store = await openFileStore({ directory, segmentBytes: 32 * 1024 });
  process.stdout.write(`ready ${store.openReport.events}\n`);
  const writer = async (w: number): Promise<void> => {
    // Writer w owns stream own-w (exact expected revisions); all writers share stream shared.
    const own = `own-${w}`;
    let revision: number | 'noStream' = 'noStream';
    for await (const e of store.readStream(own, { direction: 'backwards', maxCount: 1 }))
      revision = e.revision;
    for (let n = 0; ; n++) {
      const id = `r${round}-w${w}-${n}`;
      if (n % 3 === 2) {
        await store.append('shared', [event(id, n)]);
      } else {
        const batch = n % 5 === 0 ? [event(id, n), event(`${id}-b`, n)] : [event(id, n)];
        const result = await store.append(own, batch, {
          expectedRevision: revision === 'noStream' ? 'noStream' : revision,
        });
        revision = result.nextExpectedRevision;
      }
      process.stdout.write(`${id}\n`);
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
