import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { builtInProjections, replay } from '@partner-ledger/projections';
import type { EventStore } from '@partner-ledger/store';
import type * as PostgresTesting from '@partner-ledger/store-postgres/testing';
import { openFileStore } from '@partner-ledger/store-file';
import { createPostgresStore } from '@partner-ledger/store-postgres';
import { runBin } from './fixtures';

/**
 * Benchmark (not a test): replay of every built-in projection from PostgreSQL against the file store, the
 * same ledger in both (`simulate --seed` into a file store, `copy` to PostgreSQL), in one run, alternating.
 * It lives here because the command's package is the one allowed to see the projections and both stores.
 *
 *   npm run bench -w @partner-ledger/cli            # BENCH_REPLAY_EVENTS (default 20000), BENCH_RUNS (3)
 *
 * Needs the command built (the script runs it as a child process); `npm run bench -w` builds first.
 */
// The embedded server of the PostgreSQL store's tests, from its build (jest maps its `testing` entry; Node,
// running this script, knows only the package's published exports).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startTestServer } = require(
  join(
    dirname(require.resolve('@partner-ledger/store-postgres/package.json')),
    'dist',
    'testing',
    'index.js',
  ),
) as typeof PostgresTesting;

const EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const rate = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const timeReplay = async (store: EventStore): Promise<number> => {
  const started = process.hrtime.bigint();
  const outcome = await replay(store, builtInProjections());
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return outcome.eventsRead / seconds;
};

const main = async (): Promise<void> => {
  const root = mkdtempSync(join(tmpdir(), 'pl-replay-bench-'));
  const server = await startTestServer();
  try {
    console.log(`# Replay of the built-in projections: PostgreSQL against the file store`);
    console.log(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    const file = join(root, 'ledger');
    const postgres = `${server.url}?schema=replay_bench`;
    const simulated = await runBin(['simulate', '--seed', '42', '--events', String(EVENTS), '--store', file]);
    if (simulated.code !== 0) throw new Error(`simulate failed: ${simulated.stderr}`);
    const copied = await runBin(['copy', '--from', file, '--to', postgres]);
    if (copied.code !== 0) throw new Error(`copy failed: ${copied.stderr}`);
    const fileStore = await openFileStore({ directory: file, readOnly: true });
    const pgStore = await createPostgresStore({ connectionString: server.url, schema: 'replay_bench' });
    const events = (await fileStore.headPosition()) + 1;
    const fileRates: number[] = [];
    const pgRates: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      fileRates.push(await timeReplay(fileStore));
      pgRates.push(await timeReplay(pgStore));
    }
    await fileStore.close();
    await pgStore.close();
    const f = median(fileRates);
    const p = median(pgRates);
    console.log(
      `${rate(events)} events (simulate --seed 42), every built-in projection, ${RUNS} runs alternating`,
    );
    console.log('store | ev/s (median) | each run');
    console.log(`file | ${rate(f)} | ${fileRates.map(rate).join(', ')}`);
    console.log(`PostgreSQL | ${rate(p)} | ${pgRates.map(rate).join(', ')}`);
    console.log(`ratio PostgreSQL / file: ${((p / f) * 100).toFixed(0)}%`);
    console.log(
      `load average at end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
