import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore } from '@partner-ledger/store-file';
import { buildCli, runBin } from '../testing/fixtures';

// init, simulate, import, report and demo end to end through the built binary. One small simulation is
// shared by the report tests, to keep the suite light.

let root: string;
let simulated: string;
const SIMULATE = ['simulate', '--partners', '12', '--events', '1200', '--seed', '7', '--days', '75'];

beforeAll(async () => {
  buildCli();
  root = mkdtempSync(join(tmpdir(), 'pl-cli-ledger-'));
  simulated = join(root, 'simulated');
  const result = await runBin([...SIMULATE, '--store', simulated]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(
    /^ledger: +.*\nevents: +12\d\d from \d+ commands, 2026-01-01 to 2026-03-1\d\n/,
  );
  expect(result.stdout).toContain('rejected:  none');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const iso = (day: number, hour = 12): string => new Date(Date.UTC(2025, 0, day, hour)).toISOString();
const line = (command: Record<string, unknown>): string => JSON.stringify(command);
const program = line({
  command: 'configureProgram',
  programId: 'acme',
  name: 'Acme',
  currency: 'USD',
  attribution: {
    model: 'linear',
    clickWindowDays: 30,
    halfLifeDays: 7,
    precedence: ['dealRegistration', 'coupon', 'clicks'],
  },
  minimumPayout: '50.00',
  minClickToConversionSeconds: 0,
  occurredAt: iso(1),
});
const plan = line({
  command: 'publishPlan',
  planId: 'share',
  version: 1,
  name: 'Revenue share',
  currency: 'USD',
  holdDays: 10,
  effectiveFrom: iso(1, 0),
  rules: [{ kind: 'revenueShare', rate: '0.25' }],
  occurredAt: iso(1),
});
const join1 = line({
  command: 'joinPartner',
  partnerId: 'blog',
  name: 'Blog',
  partnerType: 'affiliate',
  planId: 'share',
  payoutCurrency: 'USD',
  occurredAt: iso(2),
});
const join2 = line({
  command: 'joinPartner',
  partnerId: 'vlog',
  name: 'Vlog',
  partnerType: 'referral',
  planId: 'share',
  payoutCurrency: 'USD',
  occurredAt: iso(2),
});
const clicks = [
  line({ command: 'trackClick', clickId: 'c1', partnerId: 'blog', visitorId: 'v1', occurredAt: iso(3) }),
  line({ command: 'trackClick', clickId: 'c2', partnerId: 'vlog', visitorId: 'v1', occurredAt: iso(4) }),
];
const order = line({
  command: 'recordConversion',
  conversionId: 'o1',
  customerId: 'k1',
  kind: 'order',
  amount: '1000.01',
  currency: 'USD',
  visitorId: 'v1',
  occurredAt: iso(5),
});
const payout = (amount: string) =>
  line({
    command: 'issuePayout',
    payoutId: `pay-${amount}`,
    partnerId: 'blog',
    amount,
    currency: 'USD',
    method: 'paypal',
    occurredAt: iso(20),
  });

describe('partner-ledger init and import', () => {
  it('creates a ledger, then applies a file of commands once: a second import appends nothing', async () => {
    const store = join(root, 'imported');
    expect((await runBin(['init', '--store', store, '--model', 'linear'])).code).toBe(0);
    const file = join(root, 'commands.ndjson');
    writeFileSync(file, [plan, join1, join2, ...clicks, '', order, payout('100.00')].join('\n') + '\n');
    const first = await runBin(['import', file, '--store', store]);
    expect(first).toMatchObject({ code: 0, stdout: '' });
    expect(first.stderr).toContain('7 commands from');
    expect(first.stderr).toContain('7 applied (7 events), 0 already recorded, 0 rejected');
    const again = await runBin(['import', '-', '--store', store], {
      input: [plan, join1, join2, ...clicks, order].join('\n'),
    });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('0 applied (0 events), 6 already recorded, 0 rejected');
    const exported = await runBin(['export', '--store', store]);
    expect(exported.stdout.trimEnd().split('\n')).toHaveLength(8); // ProgramConfigured from init + 7

    // The linear split of 1000.01 between two partners, exact to the cent (the earlier touch takes the odd
    // cent), and a quarter of each as commission, rounded once: 125.0025 -> 125.00.
    const revenue = JSON.parse(
      (await runBin(['report', 'revenue', '--format', 'json', '--store', store])).stdout,
    );
    expect(revenue.result.partners.blog.total.byCurrency.USD.attributed).toBe('500.01');
    expect(revenue.result.partners.vlog.total.byCurrency.USD.attributed).toBe('500.00');
    const csv = (await runBin(['report', 'balances', '--format', 'csv', '--store', store])).stdout.split(
      '\n',
    );
    expect(csv[0]).toBe(
      'partner,name,partnerType,currency,accrued,reversed,paid,adjustments,balance,pending,held,payable,negative',
    );
    // The name is read through the key file `init` made (sealed in the store, opened for the report).
    expect(csv[1]).toBe('blog,Blog,affiliate,USD,125.00,0.00,100.00,0.00,25.00,0.00,0.00,25.00,');
    expect(csv.join('\n')).not.toContain('(all)');
    expect((await runBin(['verify', '--store', store])).code).toBe(0);
  });

  it('reports every invalid line with its number and field, and applies nothing', async () => {
    const store = join(root, 'invalid');
    await runBin(['init', '--store', store]);
    const file = join(root, 'bad.ndjson');
    writeFileSync(
      file,
      [
        plan,
        '{"command": "trackClick", "clickId": "c1", ', // malformed JSON
        line({ command: 'frobnicate', partnerId: 'blog' }), // an unknown command
        line({
          command: 'issuePayout',
          payoutId: 'p1',
          partnerId: 'blog',
          amount: '-50.00',
          currency: 'USD',
          method: 'paypal',
        }),
        line({
          command: 'recordConversion',
          conversionId: 'o1',
          customerId: 'k1',
          kind: 'order',
          amount: 12.5,
          currency: 'USD',
        }),
      ].join('\n'),
    );
    const result = await runBin(['import', file, '--store', store]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^line 2: \(line\): not JSON: /);
    expect(lines[1]).toMatch(
      /^line 3: command: expected command to be one of "configureProgram", .*got "frobnicate"/,
    );
    expect(lines[2]).toBe('line 4: amount: expected an amount of zero or more, got -50.00');
    expect(lines[3]).toBe(
      'line 5: amount: expected a decimal string (money is never a JavaScript number), got 12.5',
    );
    expect(lines[4]).toBe(
      'import: 4 of 5 lines are invalid; nothing was applied. Fix them and import the file again.',
    );
    const exported = await runBin(['export', '--store', store]);
    expect(exported.stdout.trimEnd().split('\n')).toHaveLength(1); // only init's ProgramConfigured
  });

  it('applies valid commands in order and reports business rejections per line, with exit 2', async () => {
    const store = join(root, 'rejections');
    const file = join(root, 'rejections.ndjson');
    writeFileSync(
      file,
      [program, plan, join1, join2, ...clicks, order, payout('5000.00'), payout('20.00')].join('\n'),
    );
    const result = await runBin(['import', file, '--store', store]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('line 8: rejected: PAYOUT_EXCEEDS_PAYABLE');
    expect(result.stderr).toContain('line 9: rejected: PAYOUT_BELOW_MINIMUM');
    expect(result.stderr).toMatch(/7 applied \(7 events\), 0 already recorded, 2 rejected/);
    const missing = await runBin(['import', join(root, 'no-such-file.ndjson'), '--store', store]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
  });

  it('refuses to re-initialise with other settings, and bad flags', async () => {
    const store = join(root, 'twice');
    expect((await runBin(['init', '--store', store])).code).toBe(0);
    expect((await runBin(['init', '--store', store])).code).toBe(0);
    const other = await runBin(['init', '--store', store, '--currency', 'EUR']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('already initialised with other settings');
    expect((await runBin(['init', '--store', store, '--model', 'lastClick'])).code).toBe(2);
    expect((await runBin(['init', '--store', store, '--minimum-payout', '50.001'])).code).toBe(2);
  });
});

describe('partner-ledger simulate', () => {
  it('builds the same ledger for the same seed, byte for byte, and refuses a ledger that is not empty', async () => {
    const again = join(root, 'again');
    expect((await runBin([...SIMULATE, '--store', again])).code).toBe(0);
    const [a, b] = await Promise.all([
      runBin(['export', '--store', simulated]),
      runBin(['export', '--store', again]),
    ]);
    expect(a.stdout.length).toBeGreaterThan(100_000);
    expect(b.stdout).toBe(a.stdout);
    // --events 1200 writes exactly 1200 events, not one more.
    expect(a.stdout.trimEnd().split('\n')).toHaveLength(1200);
    const types = new Set(
      a.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { type: string }).type),
    );
    for (const type of [
      'PartnerJoined',
      'ClickTracked',
      'ConversionAttributed',
      'DealRegistered',
      'PayoutIssued',
      'InfluenceTouchRecorded',
      'CommissionPlanPublished',
    ])
      expect(types).toContain(type);
    const refused = await runBin([...SIMULATE, '--store', again]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already holds');
    expect((await runBin(['simulate', '--partners', '3', '--store', join(root, 'x')])).code).toBe(2);
    const negative = await runBin(['simulate', '--events', '-5', '--store', join(root, 'x')]);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toBe('partner-ledger: --events: expected a whole number, got "-5"\n');
  });
});

describe('partner-ledger report', () => {
  it('prints each report as a table, CSV and stable JSON', async () => {
    for (const name of ['revenue', 'balances', 'statements', 'health']) {
      const table = await runBin(['report', name, '--store', simulated]);
      expect(table).toMatchObject({ code: 0, stderr: '' });
      const csv = await runBin(['report', name, '--store', simulated, '--format', 'csv']);
      expect(csv.stdout.split('\n').length).toBeGreaterThan(2);
      const json = await runBin(['report', name, '--store', simulated, '--format', 'json']);
      const document = JSON.parse(json.stdout) as { report: string; result: unknown };
      expect(document.report).toBe(name);
      expect(json.stdout).toBe(
        (await runBin(['report', name, '--store', simulated, '--format', 'json'])).stdout,
      );
    }
  });

  it('groups revenue by type and month, and replays as of a past moment', async () => {
    const byType = await runBin([
      'report',
      'revenue',
      '--by',
      'type',
      '--store',
      simulated,
      '--format',
      'csv',
    ]);
    expect(byType.stdout.split('\n')[0]).toBe(
      'partnerType,basis,currency,attributed,sourced,influenced,conversions,sourcedShare',
    );
    // One fact per row: no (program) total, no USD* pseudo-currency.
    expect(byType.stdout).not.toMatch(/\(program\)|\*/);
    const all = JSON.parse(
      (await runBin(['report', 'balances', '--format', 'json', '--store', simulated])).stdout,
    );
    const january = JSON.parse(
      (
        await runBin([
          'report',
          'balances',
          '--format',
          'json',
          '--as-of',
          '2026-01-31',
          '--store',
          simulated,
        ])
      ).stdout,
    );
    expect(january.effectiveAt).toBe('2026-01-31T23:59:59.999Z');
    expect(january.result.asOf).toBe('2026-01-31T23:59:59.999Z');
    expect(Number(january.result.totals.USD.accrued)).toBeLessThan(Number(all.result.totals.USD.accrued));
    const known = JSON.parse(
      (await runBin(['report', 'revenue', '--format', 'json', '--known-at', '10', '--store', simulated]))
        .stdout,
    );
    expect(known.position).toBe(10);
  });

  it('revenue --from/--to reports only the periods asked for, with the same figures for them', async () => {
    const revenue = async (...window: string[]) =>
      JSON.parse(
        (
          await runBin([
            'report',
            'revenue',
            '--by',
            'month',
            '--format',
            'json',
            ...window,
            '--store',
            simulated,
          ])
        ).stdout,
      ) as {
        result: { from: string | null; to: string | null; program: { periods: Record<string, unknown> } };
      };
    const all = await revenue();
    const february = await revenue('--from', '2026-02-01', '--to', '2026-02-28');
    expect(february.result.from).toBe('2026-02-01T00:00:00.000Z');
    expect(february.result.to).toBe('2026-02-28T23:59:59.999Z');
    expect(Object.keys(all.result.program.periods).length).toBeGreaterThan(1);
    expect(Object.keys(february.result.program.periods)).toEqual(['2026-02']);
    expect(february.result.program.periods['2026-02']).toEqual(all.result.program.periods['2026-02']);
    const table = await runBin(['report', 'revenue', '--from', '2026-02-01', '--store', simulated]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('occurred from 2026-02-01T00:00:00.000Z to the end');
  });

  it('converts revenue into --currency where the conversions recorded a rate, and names what it could not convert', async () => {
    const euro = await runBin([
      'report',
      'revenue',
      '--by',
      'type',
      '--currency',
      'EUR',
      '--store',
      simulated,
    ]);
    expect(euro.code).toBe(0);
    expect(euro.stdout).toMatch(/^\(program\) +EUR\* +\d+\.\d\d /m);
    const yen = await runBin([
      'report',
      'revenue',
      '--currency',
      'JPY',
      '--format',
      'csv',
      '--store',
      simulated,
    ]);
    expect(yen.code).toBe(0);
    // No conversion recorded a rate into JPY: the revenue is not dropped silently, it is named.
    expect(yen.stdout).not.toContain('JPY*');
    expect(yen.stderr).toMatch(
      /^partner-ledger: note: revenue with no rate into JPY recorded on its conversions is not in the JPY\* rows: EUR \d+\.\d\d, GBP \d+\.\d\d, USD \d+\.\d\d$/m,
    );
  });

  it('rejects a bad report, grouping, format or window with exit 2', async () => {
    for (const args of [
      ['report'],
      ['report', 'profits'],
      ['report', 'balances', '--by', 'month'],
      ['report', 'revenue', '--format', 'xml'],
      ['report', 'revenue', '--as-of', 'yesterday'],
      ['report', 'revenue', '--from', '2026-03-01', '--to', '2026-02-01'],
      ['report', 'revenue', '--from', 'March'],
      ['report', 'balances', '--from', '2026-01-01'],
    ]) {
      const result = await runBin([...args, '--store', simulated]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
    }
  });

  it('says which event a report cannot read, and verify names it (an unknown event type)', async () => {
    const store = join(root, 'unknown-type');
    const file = await openFileStore({ directory: store });
    await file.append('odd', [
      {
        id: 'evt-odd',
        type: 'PartnerPromoted',
        schemaVersion: 1,
        data: { partnerId: 'p1' },
        occurredAt: iso(1),
        recordedAt: iso(1),
        actor: 'test',
        correlationId: 'c',
        causationId: null,
      },
    ]);
    await file.close();
    const report = await runBin(['report', 'revenue', '--store', store]);
    expect(report.code).toBe(2);
    expect(report.stderr).toContain('unknown event type "PartnerPromoted"');
    const verify = await runBin(['verify', '--store', store]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(
      'first problem:  event "evt-odd" at position 0 (stream "odd"): decodes: type: unknown event type "PartnerPromoted"',
    );
  });
});

describe('partner-ledger demo', () => {
  it('simulates into a fresh ledger and prints revenue, balances and the verify summary (what npm start runs)', async () => {
    const store = join(root, 'demo');
    const result = await runBin(['demo', '--events', '1500', '--partners', '10', '--store', store]);
    expect(result.code).toBe(0);
    for (const heading of [
      '== Simulated program (seed 2026)',
      '== Revenue by partner type',
      '== Program revenue by month',
      '== Commission balances by partner type',
      '== Verify',
    ])
      expect(result.stdout).toContain(heading);
    expect(result.stdout).toMatch(/trial balance: USD debits (\d+\.\d\d) credits \1 difference 0\.00/);
    expect(result.stdout).toMatch(/status: +ok\nevents checked: +1500\ndigest: +[0-9a-f]{64}/);
    const again = await runBin(['demo', '--events', '1500', '--store', store]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('is not empty');
  });
});
