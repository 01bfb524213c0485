import type { NewEvent } from '@partner-ledger/events';
import { AppendConditionFailedError } from '@partner-ledger/store';
import { createPostgresStore } from '@partner-ledger/store-postgres';

/**
 * A writer process for the multi-process test: several concurrent writers, each appending batches of three
 * events to its own stream (exact expected revisions), to a stream all processes share, and under an
 * append condition on a tag all processes use. Prints `ack <id>` for every event of an append that
 * resolved; runs until killed or `appends` per writer are done.
 *
 * argv: url schema process writers appends
 */
const [url, schema, processName, writersText, appendsText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];

const batch = (prefix: string, n: number): NewEvent[] =>
  ['a', 'b', 'c'].map((part) => ({
    id: `${prefix}-${part}`,
    type: 'ProcessTestAppended',
    schemaVersion: 1,
    data: { n, part, amount: `${n}.05` },
    occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    recordedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    actor: 'test:process',
    correlationId: processName,
    causationId: null,
  }));

const main = async (): Promise<void> => {
  const store = await createPostgresStore({ connectionString: url, schema });
  process.stdout.write('ready\n');
  const writer = async (w: number): Promise<void> => {
    let own: number | 'noStream' = 'noStream';
    for (let i = 0; i < Number(appendsText); i += 1) {
      const prefix = `${processName}-${w}-${i}`;
      const kind = i % 3;
      let result;
      if (kind === 0) {
        result = await store.append(`own-${processName}-${w}`, batch(prefix, i), { expectedRevision: own });
        own = result.nextExpectedRevision;
      } else if (kind === 1) {
        result = await store.append('shared', batch(prefix, i));
      } else {
        // Decide on the head, retry on a failed condition: what a ledger does with a cross-stream rule.
        for (;;) {
          const after = await store.headPosition();
          try {
            result = await store.append(`tagged-${processName}-${w}`, batch(prefix, i), {
              tags: ['hot'],
              condition: { failIfTagged: ['hot'], after },
            });
            break;
          } catch (error) {
            if (!(error instanceof AppendConditionFailedError)) throw error;
          }
        }
      }
      process.stdout.write(result.events.map((e) => `ack ${e.id}\n`).join(''));
    }
  };
  await Promise.all(Array.from({ length: Number(writersText) }, (_, w) => writer(w)));
  await store.close();
  process.stdout.write('done\n');
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
