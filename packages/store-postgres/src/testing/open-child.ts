import { createPostgresStore } from '@partner-ledger/store-postgres';

/**
 * A service instance starting, for the test of several processes opening one new schema together: it
 * waits for a line on stdin (so that every process has loaded before any opens), opens the store, prints
 * the migrations it applied as JSON, and closes. A failure is printed on stderr with its SQLSTATE.
 *
 * argv: url schema
 */
const [url, schema] = process.argv.slice(2) as [string, string];

process.stdin.once('data', () => {
  createPostgresStore({ connectionString: url, schema })
    .then(async (store) => {
      process.stdout.write(`${JSON.stringify(store.migrationsApplied)}\n`);
      await store.close();
    })
    .catch((error: unknown) => {
      const { code, message } = error as { code?: string; message?: string };
      process.stderr.write(`${code ?? ''} ${message ?? String(error)}\n`);
      process.exitCode = 1;
    })
    .finally(() => process.stdin.destroy());
});
process.stdout.write('ready\n');
