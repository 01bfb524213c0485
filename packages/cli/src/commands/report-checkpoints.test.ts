import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess as run } from '../testing/in-process';

describe('partner-ledger report with checkpoints', () => {
  let root: string;
  let store: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pl-report-checkpoints-'));
    store = join(root, 'ledger');
    const simulated = await run([
      'simulate',
      '--partners',
      '8',
      '--events',
      '1200',
      '--seed',
      '3',
      '--store',
      store,
    ]);
    expect(simulated.code).toBe(0);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const files = (directory: string): string[] =>
    existsSync(directory)
      ? readdirSync(directory).flatMap((set) =>
          readdirSync(join(directory, set)).map((f) => join(directory, set, f)),
        )
      : [];

  it('prints the same reports with and without checkpoints, writing them beside the ledger', async () => {
    for (const args of [
      ['balances'],
      ['balances', '--by', 'type', '--format', 'csv'],
      ['revenue', '--by', 'month'],
      ['statements', '--format', 'json'],
      ['health'],
      ['balances', '--as-of', '2026-02-15', '--format', 'json'],
      ['health', '--known-at', '700', '--format', 'json'],
    ]) {
      const plain = await run(['report', ...args, '--no-checkpoint', '--store', store]);
      const writing = await run(['report', ...args, '--checkpoint-every', '250', '--store', store]);
      const resumed = await run(['report', ...args, '--checkpoint-every', '250', '--store', store]);
      expect(plain.code).toBe(0);
      expect(writing.stdout).toBe(plain.stdout);
      expect(resumed.stdout).toBe(plain.stdout);
      expect(resumed.stderr).not.toContain('note:');
    }
    // Written by the reports of the whole history only, one set per report and its options.
    expect(files(`${store}.checkpoints`).length).toBeGreaterThan(0);
  });

  it('writes none for a ledger smaller than the interval (the default 100,000 here)', async () => {
    const elsewhere = join(root, 'none');
    const report = await run(['report', 'balances', '--checkpoints', elsewhere, '--store', store]);
    expect(report.code).toBe(0);
    expect(existsSync(elsewhere)).toBe(false);
  });

  it('ignores a corrupt checkpoint with a note, and prints the same report', async () => {
    const directory = join(root, 'corrupt');
    const args = ['report', 'balances', '--format', 'json', '--store', store];
    const plain = await run([...args, '--no-checkpoint']);
    await run([...args, '--checkpoints', directory, '--checkpoint-every', '300']);
    const written = files(directory).sort();
    expect(written.length).toBe(4);
    const latest = written[written.length - 1]!;
    writeFileSync(latest, readFileSync(latest, 'utf8').replace(/"[0-9]+"/, '"7"'));
    const again = await run([...args, '--checkpoints', directory, '--checkpoint-every', '300']);
    expect(again.stdout).toBe(plain.stdout);
    expect(again.stderr).toMatch(/note: the checkpoint at position \d+ in .* is corrupt/);
  });

  it('refuses contradictory checkpoint flags', async () => {
    const both = await run([
      'report',
      'balances',
      '--no-checkpoint',
      '--checkpoint-every',
      '10',
      '--store',
      store,
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--no-checkpoint');
    const zero = await run(['report', 'balances', '--checkpoint-every', '0', '--store', store]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--checkpoint-every');
  });
});

describe('partner-ledger report with checkpoints, on a ledger with keys', () => {
  // A checkpoint keeps a partner's name only as the ledger keeps it, sealed with the partner's key, and the
  // report opens it with the key file as it is then: a partner erased after the checkpoint was written shows
  // [erased] in the resumed report, exactly as in --no-checkpoint.
  let root: string;
  let store: string;
  const NAME = 'Zelda Quintanilla-Oyelaran';
  const commands = [
    {
      command: 'publishPlan',
      planId: 'std',
      version: 1,
      name: 'Standard',
      currency: 'USD',
      holdDays: 0,
      effectiveFrom: '2025-01-01T00:00:00Z',
      rules: [{ kind: 'revenueShare', rate: '0.2' }],
      occurredAt: '2025-01-01T00:00:00Z',
    },
    ...['zelda', 'other', 'third'].map((partnerId, i) => ({
      command: 'joinPartner',
      partnerId,
      name: partnerId === 'zelda' ? NAME : `Partner ${partnerId} Ltd`,
      partnerType: 'affiliate',
      planId: 'std',
      payoutCurrency: 'USD',
      occurredAt: `2025-01-0${i + 2}T00:00:00Z`,
    })),
    ...['zelda', 'other', 'third'].flatMap((partnerId, i) => [
      {
        command: 'trackClick',
        clickId: `c-${i}`,
        partnerId,
        visitorId: `v-${i}`,
        occurredAt: '2025-01-06T00:00:00Z',
      },
      {
        command: 'recordConversion',
        conversionId: `o-${i}`,
        customerId: `k-${i}`,
        kind: 'order',
        amount: '250.00',
        currency: 'USD',
        visitorId: `v-${i}`,
        occurredAt: '2025-01-07T00:00:00Z',
      },
    ]),
  ];
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pl-report-checkpoints-keys-'));
    store = join(root, 'ledger');
    expect((await run(['init', '--effective-from', '2025-01-01', '--store', store])).code).toBe(0);
    const file = join(root, 'commands.ndjson');
    writeFileSync(file, `${commands.map((c) => JSON.stringify(c)).join('\n')}\n`);
    const imported = await run(['import', file, '--store', store]);
    expect(imported.stderr).toContain('10 applied');
    expect(imported.code).toBe(0);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const checkpointTexts = (): string[] =>
    readdirSync(`${store}.checkpoints`).flatMap((set) =>
      readdirSync(join(`${store}.checkpoints`, set)).map((f) =>
        readFileSync(join(`${store}.checkpoints`, set, f), 'utf8'),
      ),
    );

  it('keeps the sealed names only, and shows an erasure made after the checkpoint as --no-checkpoint does', async () => {
    const runs = [['balances', '--format', 'json'], ['balances'], ['health', '--format', 'csv']];
    for (const args of runs) {
      const written = await run(['report', ...args, '--checkpoint-every', '3', '--store', store]);
      expect(written.code).toBe(0);
      expect(written.stdout).toContain(NAME);
    }
    const texts = checkpointTexts();
    expect(texts.length).toBeGreaterThan(0);
    for (const text of texts) {
      expect(text).toContain('sealed.v1.');
      expect(text).not.toContain('Zelda');
      expect(text).not.toContain('Partner other Ltd');
    }

    const erased = await run([
      'erase',
      '--partner',
      'zelda',
      '--requested-by',
      'ticket:DPO-1',
      '--store',
      store,
    ]);
    expect(erased.code).toBe(0);
    for (const args of runs) {
      const plain = await run(['report', ...args, '--no-checkpoint', '--store', store]);
      const resumed = await run(['report', ...args, '--checkpoint-every', '3', '--store', store]);
      expect(plain.code).toBe(0);
      expect(plain.stdout).toContain('[erased]');
      expect(plain.stdout).not.toContain(NAME);
      expect(resumed.stderr).not.toContain('note:');
      expect([args, resumed.stdout]).toEqual([args, plain.stdout]);
    }
  });
});
