import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest, createInMemoryStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { openFileStore } from '@partner-ledger/store-file';
import { simulate } from '../simulate/simulate';
import { createWriteBehindStore } from '../simulate/write-behind';

// The simulation's throughput on three stores, in one process, one after the other, with the same seed:
// the in-memory store (the ceiling: the ledger's own work, no I/O), the file store appended to directly
// (one fsync per command), and the file store behind the write-behind loader (what `simulate` uses).
// The three ledgers must have the same digest.
//
//   node packages/cli/dist/bench/simulate-bench.js [EVENTS] [PARTNERS]

const events = Number(process.argv[2] ?? 5000);
const partners = Number(process.argv[3] ?? 100);
const root = mkdtempSync(join(tmpdir(), 'pl-simulate-bench-'));

const run = async (
  name: string,
  open: () => Promise<EventStore>,
  close: (store: EventStore) => Promise<void>,
) => {
  const store = await open();
  const started = performance.now();
  const summary = await simulate(store, { partners, events, seed: 'bench', days: 90 });
  if ('flush' in store) await (store as { flush: () => Promise<void> }).flush();
  const seconds = (performance.now() - started) / 1000;
  const { digest } = await computeDigest(store);
  await close(store);
  const rate = summary.events / seconds;
  console.log(
    `${name.padEnd(28)} ${summary.events} events in ${seconds.toFixed(1)} s: ${rate.toFixed(0)} events/s, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, digest ${digest.slice(0, 16)}`,
  );
  return { rate, digest };
};

const main = async (): Promise<void> => {
  console.log(`simulate --events ${events} --partners ${partners}, node ${process.version}`);
  const memory = await run(
    'in-memory (ceiling)',
    async () => createInMemoryStore(),
    async (s) => s.close(),
  );
  const direct = await run(
    'file store, direct',
    () => openFileStore({ directory: join(root, 'direct') }),
    (s) => s.close(),
  );
  const behind = await run(
    'file store, write-behind',
    async () => createWriteBehindStore(await openFileStore({ directory: join(root, 'behind') })),
    (s) => s.close(),
  );
  console.log(`write-behind / direct: ${(behind.rate / direct.rate).toFixed(2)}x`);
  console.log(`write-behind / in-memory: ${(behind.rate / memory.rate).toFixed(2)}`);
  console.log(
    `same ledger on all three: ${memory.digest === direct.digest && direct.digest === behind.digest}`,
  );
  rmSync(root, { recursive: true, force: true });
};

void main();
