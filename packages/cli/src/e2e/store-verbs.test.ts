import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { openFileStore } from '@partner-ledger/store-file';
import { BIN, buildCli, runBin, sampleEvents } from '../testing/fixtures';

// verify and export, end to end through the built binary, on a small file store written directly.

let root: string;
let ledger: string;

const segmentOf = (directory: string): string => {
  const dir = join(directory, 'segments');
  return join(dir, readdirSync(dir).sort()[0]!);
};

/** Copies a ledger and edits one amount in its segment; `fixChecksum` plays an attacker who also fixes the CRC. */
const tamperedCopy = (name: string, fixChecksum: boolean): string => {
  const copy = join(root, name);
  mkdirSync(copy);
  for (const sub of ['segments', 'index']) {
    mkdirSync(join(copy, sub));
    for (const file of readdirSync(join(ledger, sub)))
      writeFileSync(join(copy, sub, file), readFileSync(join(ledger, sub, file)));
  }
  const segment = segmentOf(copy);
  const bytes = readFileSync(segment);
  const at = bytes.indexOf('"212.50"');
  expect(at).toBeGreaterThan(0);
  bytes[at + 1] = '9'.charCodeAt(0); // 212.50 -> 912.50
  if (fixChecksum) {
    // The record's frame starts where index/positions.idx says (u32 segment, u32 offset per position);
    // a frame is u32 CRC-32 of what follows it | u32 body length | body (packages/store-file/src/frame.ts).
    const index = readFileSync(join(copy, 'index', 'positions.idx'));
    const offset = index.readUInt32LE(3 * 8 + 4);
    const end = offset + 8 + bytes.readUInt32LE(offset + 4);
    expect(at > offset && at < end).toBe(true);
    bytes.writeUInt32LE(crc32(bytes.subarray(offset + 4, end)), offset);
  }
  writeFileSync(segment, bytes);
  return copy;
};

beforeAll(async () => {
  buildCli();
  root = mkdtempSync(join(tmpdir(), 'pl-cli-store-'));
  ledger = join(root, 'ledger');
  const store = await openFileStore({ directory: ledger });
  for (const { stream, events } of sampleEvents()) await store.append(stream, events);
  await store.close();
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('partner-ledger verify', () => {
  it('checks every link of an intact ledger, prints the count and the digest, and exits 0', async () => {
    const result = await runBin(['verify', '--store', ledger]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(
      /^status: +ok\nevents checked: 5\nhead position: +4\ndigest: +[0-9a-f]{64}\n$/,
    );
    const json = await runBin(['verify', '--format', 'json'], { env: { PARTNER_LEDGER_STORE: ledger } });
    const report = JSON.parse(json.stdout) as { ok: boolean; eventsChecked: number; digest: string };
    expect(report).toMatchObject({ ok: true, eventsChecked: 5, firstProblem: null });
    expect(result.stdout).toContain(report.digest);
    const prefix = JSON.parse(
      (await runBin(['verify', '--store', ledger, '--up-to', '1', '--format', 'json'])).stdout,
    );
    expect(prefix).toMatchObject({ ok: true, eventsChecked: 2, headPosition: 1 });
    expect(prefix.digest).not.toBe(report.digest);
  });

  it('names the event whose amount was edited on disk, and exits 1 (a damaged record)', async () => {
    const result = await runBin(['verify', '--store', tamperedCopy('flipped', false)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('status:         PROBLEM\nevents checked: 3\n');
    expect(result.stdout).toContain('first problem:  event "evt-adj-2" at position 3 is damaged');
    expect(result.stderr).toContain('evt-adj-2');
  });

  it('names the event when the attacker also fixed the checksum (the hash no longer matches), and exits 1', async () => {
    const result = await runBin(['verify', '--store', tamperedCopy('forged', true)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /first problem: +event "evt-adj-2" at position 3 \(stream "adjustments-p1", revision 1\): the event's content hashes to/,
    );
  });

  it('refuses a store that is missing or is not a ledger, with exit 2', async () => {
    const missing = await runBin(['verify', '--store', join(root, 'nothing-here')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`no ledger at ${join(root, 'nothing-here')}`);
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a ledger');
    const notDirectory = await runBin(['export', '--store', file]);
    expect(notDirectory.code).toBe(2);
    expect(notDirectory.stderr).toContain('is not a ledger');
    const empty = join(root, 'empty');
    mkdirSync(empty);
    for (const verb of [['verify'], ['export'], ['report', 'revenue']]) {
      const result = await runBin([...verb, '--store', empty]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`cannot open the ledger at ${empty}`);
    }
    expect(readdirSync(empty)).toEqual([]); // the verbs that read never create a ledger
    const garbage = join(root, 'garbage');
    mkdirSync(join(garbage, 'segments'), { recursive: true });
    writeFileSync(
      join(garbage, 'segments', 'segment-00000000.log'),
      'this is not a segment at all, just text',
    );
    const unreadable = await runBin(['export', '--store', garbage]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain(`cannot open the ledger at ${garbage}`);
    expect(unreadable.stdout).toBe('');
  });

  it('draws a progress bar with rate and ETA when stderr is a terminal (under script(1)), and none otherwise', async () => {
    if (!existsSync('/usr/bin/script')) return expect(process.platform).not.toBe('linux');
    const onTerminal = await new Promise<string>((resolve, reject) => {
      // script(1) runs the command on a pseudo-terminal; stdout goes to /dev/null, stderr to the terminal.
      execFile(
        '/usr/bin/script',
        ['-q', '-c', `${process.execPath} ${BIN} verify --store ${ledger} >/dev/null`, '/dev/null'],
        (error, out) => (error ? reject(error) : resolve(out)),
      );
    });
    const frames = onTerminal.split('\r\u001b[K').filter((frame) => frame !== '');
    expect(frames[0]).toMatch(/^verify links \[#+\] 100% 5\/5 {2}\d+ events\/s {2}ETA 0:00$/);
    expect((await runBin(['verify', '--store', ledger])).stderr).toBe('');
  });

  it('names an EventStoreDB server it cannot reach, with exit 2 (no server runs here: the refusal is the test)', async () => {
    const result = await runBin(['verify', '--store', 'esdb://admin:secret@127.0.0.1:1?tls=false']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the ledger at esdb://***@127.0.0.1:1?tls=false: ');
    expect(result.stderr).not.toContain('secret');
  });

  it('rejects bad flags with exit 2 and a hint', async () => {
    const result = await runBin(['verify', '--up-to', '-3', '--store', ledger]);
    expect(result.code).toBe(2);
    const unknown = await runBin(['verify', '--frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('verify: unknown option --frobnicate\n');
    expect(unknown.stderr).toContain('partner-ledger verify --help');
  });
});

describe('partner-ledger export', () => {
  it('writes every event as canonical JSON, one per line, in global order', async () => {
    const result = await runBin(['export', '--store', ledger]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    const events = lines.map((line) => JSON.parse(line) as { position: number; id: string; hash: string });
    expect(events.map((e) => e.position)).toEqual([0, 1, 2, 3, 4]);
    expect(lines[0]!.startsWith('{"actor":"test:fixture","causationId":null,')).toBe(true);
    expect(result.stderr).toBe(''); // no progress bar off a terminal, only the count
  });

  it('exports the history as known at a position, and as effective at a time', async () => {
    const known = await runBin(['export', '--store', ledger, '--known-at', '2']);
    expect(known.stdout.trimEnd().split('\n')).toHaveLength(3);
    const effective = await runBin(['export', '--store', ledger, '--as-of', '2026-01-05T09:02:00Z']);
    expect(
      effective.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(['evt-program', 'evt-p1', 'evt-adj-1']);
    const bad = await runBin(['export', '--store', ledger, '--format', 'csv']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
  });

  it('prints --help for every verb on stdout, with examples, and exits 0', async () => {
    const main = await runBin(['--help']);
    expect(main.code).toBe(0);
    const verbs = [...main.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
    expect(verbs).toEqual([
      'init',
      'simulate',
      'import',
      'report',
      'payouts',
      'verify',
      'export',
      'export-subject',
      'erase',
      'copy',
      'project',
      'demo',
    ]);
    for (const verb of verbs) {
      const help = await runBin([verb, '--help']);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toContain(`Usage: partner-ledger ${verb}`);
      expect(help.stdout).toMatch(new RegExp(`Examples:\\n  # .+\\n  partner-ledger ${verb}`));
    }
  });

  it('is the binary the package declares, with a shebang', () => {
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
