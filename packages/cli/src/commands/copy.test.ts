import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess as run } from '../testing/in-process';

// copy between two file ledgers. Its summary is what a person resuming a copy reads, so the counts must
// read right for one event as for many.
describe('partner-ledger copy (file to file)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-copy-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const plan = {
    command: 'publishPlan',
    planId: 'standard',
    version: 1,
    name: 'Standard',
    currency: 'USD',
    holdDays: 30,
    effectiveFrom: '2026-01-01T00:00:00.000Z',
    rules: [{ kind: 'revenueShare', rate: '0.2' }],
    occurredAt: '2026-01-01T00:00:00.000Z',
  };
  const partner = {
    command: 'joinPartner',
    partnerId: 'alice',
    name: 'Alice',
    partnerType: 'affiliate',
    planId: 'standard',
    payoutCurrency: 'USD',
    occurredAt: '2026-01-02T00:00:00.000Z',
  };
  const importInto = async (store: string, name: string, commands: object[]): Promise<void> => {
    const file = join(root, name);
    writeFileSync(file, commands.map((c) => JSON.stringify(c) + '\n').join(''));
    expect((await run(['import', file, '--store', store])).code).toBe(0);
  };

  it('counts one event in the singular, resumed or not', async () => {
    const source = join(root, 'source');
    const target = join(root, 'target');
    expect((await run(['init', '--effective-from', '2026-01-01', '--store', source])).code).toBe(0);
    const first = await run(['copy', '--from', source, '--to', target]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^copied: +1 event$/m);

    // The target holds the source's one event: the resumed copy takes the two appended since.
    await importInto(source, 'two.ndjson', [plan, partner]);
    const resumed = await run(['copy', '--from', source, '--to', target]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^copied: +2 events \(1 was already there\)$/m);

    // And one more, after three.
    await importInto(source, 'one.ndjson', [
      {
        command: 'trackClick',
        clickId: 'k1',
        partnerId: 'alice',
        visitorId: 'v1',
        occurredAt: '2026-03-01T12:00:00.000Z',
      },
    ]);
    const again = await run(['copy', '--from', source, '--to', target]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^copied: +1 event \(3 were already there\)$/m);
  });
});
