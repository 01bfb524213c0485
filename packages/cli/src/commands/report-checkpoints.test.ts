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
