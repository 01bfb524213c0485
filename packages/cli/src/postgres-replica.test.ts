import { createPostgresStore } from '@partner-ledger/store-postgres';
import { startServerProcess } from '@partner-ledger/store-postgres/testing';
import type { ServerProcess } from '@partner-ledger/store-postgres/testing';
import { buildCli, runBin } from './testing/fixtures';

// Reports and verify read from a real hot-standby replica (docs/stores.md, "Replicas and as-known-at"):
// once the standby has replayed up to the primary's head, every read verb prints there what it prints on
// the primary, byte for byte, and a verb that writes is refused by the server with nothing stored.

let server: ServerProcess;
beforeAll(async () => {
  buildCli();
  server = await startServerProcess();
}, 300_000);
afterAll(() => server.stop(), 60_000);

const headOf = async (url: string): Promise<number> => {
  const store = await createPostgresStore({ connectionString: url, schema: 'ledger' });
  try {
    return await store.headPosition();
  } finally {
    await store.close();
  }
};

it('verify, report and export on a standby print what they print on the primary; a write is refused and stores nothing', async () => {
  const primary = `${server.url}?schema=ledger`;
  const seeded = await runBin([
    'simulate',
    '--seed',
    '42',
    '--events',
    '600',
    '--partners',
    '8',
    '--store',
    primary,
  ]);
  expect(seeded.code).toBe(0);
  const standbyUrl = await server.standby();
  const standby = `${standbyUrl}?schema=ledger`;
  // Appended after the standby was made: these arrive by streaming replication.
  const clicks = Array.from({ length: 20 }, (_, n) =>
    JSON.stringify({
      command: 'trackClick',
      clickId: `replica-click-${n}`,
      partnerId: 'affiliate-0001',
      visitorId: `replica-visitor-${n}`,
      occurredAt: new Date(Date.UTC(2026, 5, 1, 12, n)).toISOString(),
    }),
  ).join('\n');
  const more = await runBin(['import', '-', '--store', primary], { input: `${clicks}\n` });
  expect(more.code).toBe(0);
  expect(more.stderr).toMatch(/20 applied \(20 events\)/);
  const head = await headOf(server.url);
  const deadline = Date.now() + 30_000;
  while ((await headOf(standbyUrl)) < head) {
    if (Date.now() > deadline) throw new Error(`the standby did not reach position ${head}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  for (const args of [
    ['verify'],
    ['report', 'balances', '--format', 'json'],
    ['report', 'revenue', '--known-at', '300', '--format', 'csv'],
    ['report', 'statements', '--as-of', '2026-02-01T00:00:00Z'],
    ['export'],
  ]) {
    const [onPrimary, onStandby] = await Promise.all([
      runBin([...args, '--store', primary]),
      runBin([...args, '--store', standby]),
    ]);
    expect({ args, code: onStandby.code, stderr: onStandby.stderr }).toEqual({ args, code: 0, stderr: '' });
    expect(onStandby.stdout).toBe(onPrimary.stdout);
    expect(onStandby.stdout.length).toBeGreaterThan(0);
  }

  const refused = await runBin(['import', '-', '--store', standby], {
    input: `${JSON.stringify({ command: 'trackClick', clickId: 'refused', partnerId: 'affiliate-0001', visitorId: 'v', occurredAt: '2026-06-02T00:00:00.000Z' })}\n`,
  });
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/read-only/);
  expect(await headOf(server.url)).toBe(head);
  expect(await headOf(standbyUrl)).toBe(head);
}, 300_000);
