import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore } from '@partner-ledger/store-file';
import { runInProcess } from '../testing/in-process';

const run = (args: string[]) => runInProcess(args);

const history = [
  {
    command: 'publishPlan',
    planId: 'share',
    version: 1,
    name: 'Share',
    currency: 'USD',
    holdDays: 0,
    effectiveFrom: '2025-01-01T00:00:00Z',
    rules: [{ kind: 'revenueShare', rate: '0.1' }],
    occurredAt: '2025-01-01T00:00:00Z',
  },
  {
    command: 'joinPartner',
    partnerId: 'blog',
    name: 'Blog',
    partnerType: 'affiliate',
    planId: 'share',
    payoutCurrency: 'USD',
    occurredAt: '2025-01-02T00:00:00Z',
  },
  {
    command: 'trackClick',
    clickId: 'c1',
    partnerId: 'blog',
    visitorId: 'v1',
    occurredAt: '2025-03-01T00:00:00Z',
  },
  {
    command: 'recordConversion',
    conversionId: 'o1',
    customerId: 'k1',
    kind: 'order',
    amount: '100.00',
    currency: 'USD',
    visitorId: 'v1',
    occurredAt: '2025-03-02T00:00:00Z',
  },
]
  .map((c) => JSON.stringify(c))
  .join('\n');

describe('init and reports as of a date before it', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-init-'));
    writeFileSync(join(root, 'history.ndjson'), `${history}\n`);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('a report as of 2025 finds the reporting currency of a program initialised in 2026', async () => {
    const store = join(root, 'ledger');
    expect((await run(['init', '--store', store])).code).toBe(0);
    expect((await run(['import', join(root, 'history.ndjson'), '--store', store])).code).toBe(0);
    const report = await run([
      'report',
      'revenue',
      '--as-of',
      '2025-03-31',
      '--format',
      'json',
      '--store',
      store,
    ]);
    expect(report.code).toBe(0);
    const result = JSON.parse(report.stdout).result;
    expect(result.reportingCurrency).toBe('USD');
    expect(result.partners.blog.periods['2025-03'].reporting).toMatchObject({ attributed: '100.00' });
    const health = await run([
      'report',
      'health',
      '--as-of',
      '2025-03-31',
      '--format',
      'json',
      '--store',
      store,
    ]);
    expect(JSON.parse(health.stdout).result.reportingCurrency).toBe('USD');
  });

  it('--effective-from records the settings as effective from that date', async () => {
    const store = join(root, 'ledger');
    const init = await run(['init', '--effective-from', '2025-01-01', '--store', store]);
    expect(init.code).toBe(0);
    const opened = await openFileStore({ directory: store, readOnly: true });
    try {
      const events = [];
      for await (const event of opened.readStream('program')) events.push(event);
      expect(events.map((e) => e.occurredAt)).toEqual(['2025-01-01T00:00:00.000Z']);
    } finally {
      await opened.close();
    }
    const bad = await run(['init', '--effective-from', '0000-01-01', '--store', join(root, 'other')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--effective-from: .*outside the ledger's range/);
  });

  it('--precedence refuses a source given twice or an unknown one, naming the option and the entry, and creates nothing', async () => {
    const store = join(root, 'ledger');
    const twice = await run(['init', '--precedence', 'coupon,coupon,clicks', '--store', store]);
    expect([twice.code, twice.stderr]).toEqual([
      2,
      'partner-ledger: --precedence: "coupon" is given more than once (each of dealRegistration, coupon, clicks at most once, first to last)\n',
    ]);
    const unknown = await run(['init', '--precedence', 'clicks,referral', '--store', store]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      '--precedence: expected one of dealRegistration, coupon, clicks, got "referral"',
    );
    expect(existsSync(store)).toBe(false);
    expect(existsSync(`${store}.keys`)).toBe(false);
    // A subset in any order is a precedence: a source left out never takes credit.
    expect((await run(['init', '--precedence', 'clicks,coupon', '--store', store])).code).toBe(0);
  });
});
