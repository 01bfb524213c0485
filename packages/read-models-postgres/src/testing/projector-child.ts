import { createPostgresStore } from '@partner-ledger/store-postgres';
import { startProjector } from '@partner-ledger/read-models-postgres';

/**
 * A projector process for the kill-and-resume test: follows a PostgreSQL store into a read schema in small
 * batches until caught up, printing `batch <position>` after every commit and `done` at the end. The test
 * kills it with SIGKILL at random moments and starts it again.
 *
 * argv: url sourceSchema readSchema batchSize
 */
const [url, sourceSchema, readSchema, batchText] = process.argv.slice(2) as [string, string, string, string];

const main = async (): Promise<void> => {
  const source = await createPostgresStore({ connectionString: url, schema: sourceSchema });
  const projector = startProjector({
    source,
    connectionString: url,
    schema: readSchema,
    batchSize: Number(batchText),
    // Batches that grew with the events projected would catch up in a few commits, often before the kill.
    growBatches: false,
    holder: 'kill-test',
    exitWhenCaughtUp: true,
    onProgress: (status) => process.stdout.write(`batch ${status.position}\n`),
  });
  await projector.done;
  await source.close();
  process.stdout.write('done\n');
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
