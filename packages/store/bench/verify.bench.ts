/**
 * How fast verifyStore and computeDigest walk a history, against two baselines measured in the same
 * process on the same in-memory store: iterating readAll alone, and iterating it while recomputing every
 * hash (the work no verification can skip). Run from the repository root:
 *
 *   npx ts-node --transpile-only packages/store/bench/verify.bench.ts [events]
 */
import { computeEventHash } from '@partner-ledger/events';
import type { NewEvent } from '@partner-ledger/events';
import { computeDigest, createInMemoryStore, verifyStore } from '@partner-ledger/store';

const total = Number(process.argv[2] ?? 100_000);
const streams = 1_000;

const makeEvent = (i: number): NewEvent => ({
  id: `bench-${i}`,
  type: 'ClickTracked',
  schemaVersion: 2,
  data: {
    clickId: `click-${i}`,
    partnerId: `partner-${i % 50}`,
    visitorId: `visitor-${i % streams}`,
    landing: { campaign: 'spring', url: 'https://example.com/pricing' },
    ipFingerprint: null,
    userAgentFingerprint: null,
    fraudReason: null,
  },
  occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
  recordedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
  actor: 'service:bench',
  correlationId: `corr-${i}`,
  causationId: null,
});

const timed = async (label: string, run: () => Promise<unknown>): Promise<number> => {
  const start = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `${label.padEnd(34)} ${(total / seconds).toFixed(0).padStart(9)} events/s  (${seconds.toFixed(2)} s)`,
  );
  return seconds;
};

const main = async (): Promise<void> => {
  const store = createInMemoryStore();
  // Batches of 100 events, each in one stream: `streams` streams in all.
  for (let first = 0; first < total; first += 100) {
    const events = Array.from({ length: Math.min(100, total - first) }, (_, k) => makeEvent(first + k));
    await store.append(`visitor-${(first / 100) % streams}`, events);
  }
  console.log(`${total} events in ${streams} streams, node ${process.version}`);
  const bare = await timed('baseline: readAll only', async () => {
    for await (const event of store.readAll({ pageSize: 1_000 })) void event;
  });
  const hashing = await timed('baseline: readAll + recompute hash', async () => {
    for await (const event of store.readAll({ pageSize: 1_000 })) computeEventHash(event);
  });
  const verify = await timed('verifyStore', async () => {
    const report = await verifyStore(store, { pageSize: 1_000 });
    if (!report.ok || report.eventsChecked !== total) throw new Error('verification failed');
  });
  const digest = await timed('computeDigest', () => computeDigest(store, { pageSize: 1_000 }));
  console.log(`verifyStore / (readAll + hash): ${(verify / hashing).toFixed(2)}x the time`);
  console.log(`computeDigest / (readAll + hash): ${(digest / hashing).toFixed(2)}x the time`);
  console.log(`recomputing hashes / readAll only: ${(hashing / bare).toFixed(1)}x the time`);
  await store.close();
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
