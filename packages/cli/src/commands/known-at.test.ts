import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess as run } from '../testing/in-process';

describe('--known-at past the head', () => {
  let root: string;
  let store: string;
  let head: number;
  let lastRecordedAt: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pl-known-at-'));
    store = join(root, 'ledger');
    const simulated = await run([
      'simulate',
      '--partners',
      '5',
      '--events',
      '150',
      '--seed',
      '5',
      '--store',
      store,
    ]);
    expect(simulated.code).toBe(0);
    const events = (await run(['export', '--store', store])).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { position: number; recordedAt: string });
    head = events[events.length - 1]!.position;
    lastRecordedAt = events[events.length - 1]!.recordedAt;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a position beyond the last event, naming the option and the head (exit code 2)', async () => {
    for (const verb of [['report', 'balances'], ['report', 'health'], ['export']]) {
      const past = await run([...verb, '--known-at', String(head + 1), '--store', store]);
      expect(past.code).toBe(2);
      expect(past.stdout).toBe('');
      expect(past.stderr).toContain(
        `--known-at: position ${head + 1} is past the ledger's head (position ${head})`,
      );
      const at = await run([...verb, '--known-at', String(head), '--store', store]);
      expect(at.code).toBe(0);
    }
  });

  it('takes a time after the last event was recorded: the ledger as known then is the whole ledger', async () => {
    const whole = await run(['report', 'balances', '--store', store]);
    const later = await run(['report', 'balances', '--known-at', '2999-01-01', '--store', store]);
    expect(later.code).toBe(0);
    expect(later.stdout).toBe(whole.stdout);
    const at = await run(['report', 'balances', '--known-at', lastRecordedAt, '--store', store]);
    expect(at.code).toBe(0);
    expect(at.stdout).toBe(whole.stdout);
    const exported = await run(['export', '--known-at', '2999-01-01', '--store', store]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe((await run(['export', '--store', store])).stdout);
  });
});
