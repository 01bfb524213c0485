import type { NewEvent } from '@partner-ledger/events';
import { openFileStore } from '@partner-ledger/store-file';

/**
 * The process of the retention test: 64 writers append one event at a time, as a busy service does; after
 * a warm-up, a full collection runs while appends are in flight (so whatever is young then is promoted),
 * then the measured part appends `events` more. Run with --expose-gc --trace-gc-nvp: the test reads the
 * collector's lines. Prints `measured <first line> <events>` when the measured part starts and ends.
 *
 * argv: directory events
 */
const [directory, eventsText] = process.argv.slice(2);
const measured = Number(eventsText);
const WRITERS = 64;
const WARM_UP = 4000;

const event = (n: number): NewEvent => ({
  id: `retention-${n}`,
  type: 'RetentionTestAppended',
  schemaVersion: 1,
  data: { n, amount: `${n % 9000}.25`, partnerId: `partner-${n % 300}`, note: 'x'.repeat(200) },
  occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  recordedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  actor: 'test:retention',
  correlationId: `corr-${n}`,
  causationId: null,
});

const main = async (): Promise<void> => {
  const store = await openFileStore({ directory });
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  let n = 0;
  const total = WARM_UP + measured;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      while (n < total) {
        const i = n++;
        if (i === WARM_UP) {
          gc();
          process.stdout.write('measured start\n');
        }
        await store.append(`stream-${w}`, [event(i)]);
      }
    }),
  );
  process.stdout.write(`measured end ${measured}\n`);
  await store.close();
};

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
