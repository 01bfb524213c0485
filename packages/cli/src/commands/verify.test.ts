import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess as run } from '../testing/in-process';

describe('partner-ledger verify --expect', () => {
  let root: string;
  let store: string;
  let close: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pl-verify-'));
    store = join(root, 'ledger');
    close = join(root, 'close.json');
    const simulated = await run([
      'simulate',
      '--partners',
      '5',
      '--events',
      '300',
      '--seed',
      '1',
      '--store',
      store,
    ]);
    expect(simulated.code).toBe(0);
    const kept = await run(['verify', '--format', 'json', '--checkpoint-every', '100', '--store', store]);
    expect(kept.code).toBe(0);
    writeFileSync(close, kept.stdout);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('passes on the history the report was written from, and writes the checkpoints it compares', async () => {
    const kept = JSON.parse(readFileSync(close, 'utf8'));
    expect(kept).toMatchObject({ ok: true, headPosition: 299, eventsChecked: 300 });
    expect(kept.checkpoints.map((c: { position: number }) => c.position)).toEqual([99, 199, 299]);
    const again = await run(['verify', '--expect', close, '--store', store]);
    expect(again.stdout).toContain(`expected:       same digest up to position 299 as ${close}`);
    expect(again.code).toBe(0);
  });

  it('names the window of the first difference', async () => {
    const kept = JSON.parse(readFileSync(close, 'utf8'));
    kept.checkpoints[1].digest = '0'.repeat(64);
    const edited = join(root, 'edited.json');
    writeFileSync(edited, JSON.stringify(kept));
    const result = await run(['verify', '--expect', edited, '--format', 'json', '--store', store]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).expected).toMatchObject({ same: false, sameUpTo: 99, differsBy: 199 });
    expect(result.stderr).toContain(
      'after position 99 (unchanged up to there) and at or before position 199',
    );
  });

  it('catches the last segment deleted together with the index, which the links alone cannot', async () => {
    const copy = join(root, 'copy');
    const copied = await run([
      'simulate',
      '--partners',
      '5',
      '--events',
      '300',
      '--seed',
      '1',
      '--store',
      copy,
    ]);
    expect(copied.code).toBe(0);
    const same = await run(['verify', '--expect', close, '--store', copy]);
    expect(same.code).toBe(0); // the same seed gives the same history, byte for byte
    for (const dir of ['segments', 'index'])
      for (const name of readdirSync(join(copy, dir))) unlinkSync(join(copy, dir, name));
    const plain = await run(['verify', '--store', copy]);
    expect(plain.code).toBe(0);
    const result = await run(['verify', '--expect', close, '--store', copy]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('events were removed');
  });

  it('says how to make the kept report when it is missing', async () => {
    const result = await run(['verify', '--expect', join(root, 'nope.json'), '--store', store]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no such file');
    expect(result.stderr).toContain('verify --format json > close.json');
  });
});
