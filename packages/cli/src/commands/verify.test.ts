import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { openFileStore } from '@partner-ledger/store-file';
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

  // `verify --up-to 41999` on a ledger of 300 events used to print "status: ok" with the digest of the 300:
  // the digest of the first 42,000 events, as asked, does not exist.
  it('refuses an --up-to past the head, naming the head, as --known-at does', async () => {
    const past = await run(['verify', '--up-to', '300', '--store', store]);
    expect(past.code).toBe(2);
    expect(past.stdout).toBe('');
    expect(past.stderr).toContain("--up-to: position 300 is past the ledger's head (position 299)");
    const atHead = await run(['verify', '--up-to', '299', '--store', store]);
    expect(atHead.code).toBe(0);
    expect(atHead.stdout).toContain('head position:  299');
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

  // A kept report whose head is past the ledger's head, with the digest and count of the ledger as it is:
  // the digest "up to" a position past the end is the whole history's, so it used to print "same", exit 0.
  it('never calls a kept head past the ledger head the same: events were removed, exit 1', async () => {
    const kept = JSON.parse(readFileSync(close, 'utf8'));
    const edited = join(root, 'past-head.json');
    writeFileSync(edited, JSON.stringify({ ...kept, headPosition: 349 }));
    const text = await run(['verify', '--expect', edited, '--store', store]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`expected:       DIFFERENT digest up to position 349 as ${edited}`);
    expect(text.stdout).not.toContain('same');
    expect(text.stderr).toContain(
      'the history ends at position 299, before the kept position 349: events were removed; ' +
        'the first change is after position 299 (unchanged up to there) and at or before position 349',
    );
    const json = await run(['verify', '--expect', edited, '--format', 'json', '--store', store]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).expected).toMatchObject({ same: false, sameUpTo: 299, differsBy: 349 });
  });

  it('says how to make the kept report when it is missing', async () => {
    const result = await run(['verify', '--expect', join(root, 'nope.json'), '--store', store]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no such file');
    expect(result.stderr).toContain('verify --format json > close.json');
  });
});

describe('what opening the ledger drops, and damage at the end of a segment', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-recovery-cli-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const event = (n: number) => ({
    id: `e-${n}`,
    type: 'ManualAdjustmentRecorded',
    schemaVersion: 1,
    data: { adjustmentId: `a-${n}`, partnerId: 'p', amount: `${100 + n}.00`, currency: 'USD', reason: 'r' },
    occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    recordedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    actor: 'user:a',
    correlationId: `c-${n}`,
    causationId: null,
  });

  it('garbage after the last record is reported on stderr by every open that drops it', async () => {
    const store = join(root, 'ledger');
    expect((await run(['init', '--store', store])).code).toBe(0);
    const segment = join(store, 'segments', readdirSync(join(store, 'segments'))[0]!);
    writeFileSync(segment, Buffer.concat([readFileSync(segment), Buffer.alloc(100 * 1024, 0x41)]));
    for (let i = 0; i < 2; i++) {
      const verify = await run(['verify', '--store', store]);
      expect(verify.code).toBe(0);
      expect(verify.stderr).toContain(
        `ignored (read-only open; not removed) 102400 bytes at the end of ${segment}`,
      );
    }
    const writer = await run(['init', '--store', store]);
    expect(writer.stderr).toContain(`cut off 102400 bytes at the end of ${segment}`);
    expect((await run(['verify', '--store', store])).stderr).not.toContain('bytes at the end');
  });

  it('verify names the damaged last record of a segment that is not the last, and counts only the events before it', async () => {
    const directory = join(root, 'segmented');
    const store = await openFileStore({ directory, segmentBytes: 4096 });
    for (let n = 0; n < 40; n++) await store.append(`s-${n % 3}`, [event(n)]);
    await store.close();
    const index = readFileSync(join(directory, 'index', 'positions.idx'));
    const entries = Array.from({ length: index.length / 8 }, (_, i) => index.readUInt32LE(i * 8));
    const position = entries.findIndex((segment, i) => segment === 0 && entries[i + 1] === 1);
    const offset = index.readUInt32LE(position * 8 + 4);
    const file = join(directory, 'segments', readdirSync(join(directory, 'segments')).sort()[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.indexOf(`"amount":"${100 + position}.00"`, offset) + 10]! ^= 0x08;
    writeFileSync(file, bytes);
    const result = await run(['verify', '--format', 'json', '--store', directory]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      eventsChecked: position,
      headPosition: position - 1,
      firstProblem: { kind: 'damage', position, eventId: `e-${position}`, file, offset },
    });
  });

  it('a record edited and given a new checksum, so that its JSON no longer parses, is damage at its position (exit 1), not an unopenable store (exit 2)', async () => {
    const directory = join(root, 'forged');
    const store = await openFileStore({ directory });
    for (let n = 0; n < 10; n++) await store.append(`s-${n % 3}`, [event(n)]);
    await store.close();
    const offset = readFileSync(join(directory, 'index', 'positions.idx')).readUInt32LE(4 * 8 + 4);
    const file = join(directory, 'segments', readdirSync(join(directory, 'segments'))[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.indexOf('"adjustmentId"', offset)] = 0x58; // X: no longer JSON
    const end = offset + 8 + bytes.readUInt32LE(offset + 4);
    bytes.writeUInt32LE(crc32(bytes.subarray(offset + 4, end)), offset); // what anyone with the file can do
    writeFileSync(file, bytes);
    const result = await run(['verify', '--format', 'json', '--store', directory]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      eventsChecked: 4,
      headPosition: 3,
      firstProblem: { kind: 'damage', position: 4, file, offset },
    });
    expect(result.stderr).toContain('the record of position 4 (event e-4?) is not JSON');
    const report = await run(['report', 'balances', '--no-checkpoint', '--store', directory]);
    expect(report.code).toBe(2);
    expect(report.stderr).toContain(`the record of position 4 (event e-4?) is not JSON`);
  });
});
