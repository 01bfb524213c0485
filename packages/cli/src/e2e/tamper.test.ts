import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { canonicalJson, computeEventHash } from '@partner-ledger/events';
import type { RecordedEvent } from '@partner-ledger/events';
import { runInProcess } from '../testing/in-process';

// An auditor's tampering of a file-store ledger made by the CLI, byte by byte, and what `verify` and
// `report` say about it (docs/auditing.md, "Reports do not verify"): verify names the first problem with
// its position and exits 1; a report refuses (exit 2, naming the file, offset and position) whatever
// opening the store detects, and prints over what only the hash links or the invariants show. The cases
// already covered elsewhere (an amount flipped, with and without its checksum fixed: e2e/store-verbs; the
// same tampering through the store's API: store-file's store.test.ts) are not repeated.

// The segment's layout (packages/store-file/src/frame.ts and layout.ts): a 32-byte header, then frames of
// u32 CRC-32 of what follows | u32 body length | body; the body is a 20-byte head (f64 position, u32
// revision, u16 stream bytes, u16 id bytes, u32 flags), the stream, the id, then the record's JSON: the
// canonical text its hash was taken over, with `,"hash":...,"position":...}` added at the end.
interface Frame {
  readonly start: number;
  readonly end: number;
}
const framesOf = (bytes: Buffer): Frame[] => {
  const frames: Frame[] = [];
  for (let at = 32; at + 8 <= bytes.length;) {
    const end = at + 8 + bytes.readUInt32LE(at + 4);
    frames.push({ start: at, end });
    at = end;
  }
  return frames;
};
const headBytes = (bytes: Buffer, frame: Frame): number => {
  const body = frame.start + 8;
  return 20 + bytes.readUInt16LE(body + 12) + bytes.readUInt16LE(body + 14);
};
const recordOf = (bytes: Buffer, frame: Frame): RecordedEvent =>
  JSON.parse(bytes.toString('utf8', frame.start + 8 + headBytes(bytes, frame), frame.end)) as RecordedEvent;
/** The frame with another record in it, its CRC made right: what an attacker who read frame.ts writes. */
const reframed = (bytes: Buffer, frame: Frame, record: RecordedEvent): Buffer => {
  const { hash, position, ...hashed } = record;
  const json = `${canonicalJson(hashed).slice(0, -1)},"hash":"${hash}","position":${position}}`;
  const head = bytes.subarray(frame.start + 8, frame.start + 8 + headBytes(bytes, frame));
  const out = Buffer.concat([Buffer.alloc(8), head, Buffer.from(json, 'utf8')]);
  out.writeUInt32LE(out.length - 8, 4);
  out.writeUInt32LE(crc32(out.subarray(4)), 0);
  return out;
};
/** One of the amount's digits changed, so that the record keeps its length and the index still fits. */
const otherDigit = (amount: string): string => amount.replace(/\d/, (d) => (d === '9' ? '8' : '9'));

let root: string;
let ledger: string;
const segmentOf = (directory: string): string => {
  const dir = join(directory, 'segments');
  return join(dir, readdirSync(dir).sort()[0]!);
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pl-cli-tamper-'));
  ledger = join(root, 'ledger');
  const simulated = await runInProcess(['simulate', '--partners', '5', '--events', '200', '--store', ledger]);
  expect(simulated.code).toBe(0);
  expect((await runInProcess(['verify', '--store', ledger])).code).toBe(0);
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the ledger with its segment (or its index) edited. */
const tampered = (
  name: string,
  edit: (bytes: Buffer, frames: Frame[]) => Buffer,
  file: (directory: string) => string = segmentOf,
): string => {
  const copy = join(root, name);
  cpSync(ledger, copy, { recursive: true });
  const path = file(copy);
  const bytes = readFileSync(path);
  writeFileSync(path, edit(bytes, framesOf(readFileSync(segmentOf(copy)))));
  return copy;
};
const indexOf = (directory: string): string => join(directory, 'index', 'positions.idx');

/** The first frame whose record satisfies `test`, with its index. */
const find = (bytes: Buffer, frames: Frame[], test: (record: RecordedEvent) => boolean): number => {
  const index = frames.findIndex((frame) => test(recordOf(bytes, frame)));
  expect(index).toBeGreaterThanOrEqual(0);
  return index;
};

describe('damage that opening the store detects: verify names it (exit 1), a report refuses (exit 2)', () => {
  it.each([
    [
      'two records of different streams swapped',
      (b: Buffer, f: Frame[]) =>
        Buffer.concat([
          b.subarray(0, f[50]!.start),
          b.subarray(f[51]!.start, f[51]!.end),
          b.subarray(f[50]!.start, f[50]!.end),
          b.subarray(f[51]!.end),
        ]),
      segmentOf,
      /expected position 50, the record says 51 \(.*segment-00000000\.log at offset \d+\)/,
    ],
    [
      'a record deleted in the middle',
      (b: Buffer, f: Frame[]) => Buffer.concat([b.subarray(0, f[100]!.start), b.subarray(f[100]!.end)]),
      segmentOf,
      /expected position 100, the record says 101 \(.*segment-00000000\.log at offset \d+\)/,
    ],
    [
      'the segment cut in the middle of a record',
      (b: Buffer, f: Frame[]) => b.subarray(0, f[100]!.start + 30),
      segmentOf,
      /the record is cut short in the record of position 100 at offset \d+; the position index says this record was committed/,
    ],
    [
      'a record duplicated in the middle',
      (b: Buffer, f: Frame[]) =>
        Buffer.concat([
          b.subarray(0, f[100]!.end),
          b.subarray(f[100]!.start, f[100]!.end),
          b.subarray(f[100]!.end),
        ]),
      segmentOf,
      /expected position 101, the record says 100 \(.*segment-00000000\.log at offset \d+\)/,
    ],
    [
      'a record duplicated at the end',
      (b: Buffer, f: Frame[]) => Buffer.concat([b, b.subarray(f[100]!.start, f[100]!.end)]),
      segmentOf,
      /expected position 200, the record says 100/,
    ],
    [
      'two entries of positions.idx swapped',
      (b: Buffer) => {
        const [fifty, fiftyOne] = [b.readUInt32LE(50 * 8 + 4), b.readUInt32LE(51 * 8 + 4)];
        b.writeUInt32LE(fiftyOne, 50 * 8 + 4);
        b.writeUInt32LE(fifty, 51 * 8 + 4);
        return b;
      },
      indexOf,
      /the position index disagrees with the segments: it puts position 50 at segment-00000000\.log:\d+, the segments have it at segment-00000000\.log:\d+/,
    ],
  ])('%s', async (name, edit, file, problem) => {
    // verify puts the event's id and position first, or "a damaged record" where no event can be named.
    const damaged = /^expected position (\d+)/.exec(problem.source);
    const lead =
      damaged === null ? 'a damaged record: ' : `event "[^"]+" at position ${damaged[1]} is damaged: `;
    const copy = tampered(name.replace(/\W+/g, '-'), edit, file);
    const verify = await runInProcess(['verify', '--store', copy]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/^status: +PROBLEM\n/);
    expect(verify.stdout).toMatch(new RegExp(`first problem: +${lead}${problem.source}`));
    const report = await runInProcess(['report', 'balances', '--store', copy]);
    expect([report.code, report.stdout]).toEqual([2, '']);
    expect(report.stderr).toMatch(
      new RegExp(`^partner-ledger: cannot open the ledger at [^:]+: ${problem.source}`),
    );
  });
});

describe('damage only the hash links or the invariants show: verify names it (exit 1), a report prints', () => {
  const figuresOf = async (directory: string) =>
    runInProcess(['report', 'revenue', '--by', 'month', '--store', directory]);

  it('a conversion amount changed, its checksum fixed and its hash recomputed: the credits no longer sum to it', async () => {
    let where = '';
    const copy = tampered('conversion-rehashed', (b, f) => {
      const at = find(b, f, (r) => r.type === 'ConversionAttributed');
      const record = recordOf(b, f[at]!);
      const data = record.data as { amount: string };
      const changed = { ...record, data: { ...data, amount: otherDigit(data.amount) } };
      const { hash: _, position: __, ...hashed } = changed;
      where = `at position ${record.position} \\(stream "${record.stream}"\\)`;
      return Buffer.concat([
        b.subarray(0, f[at]!.start),
        reframed(b, f[at]!, { ...changed, hash: computeEventHash(hashed) }),
        b.subarray(f[at]!.end),
      ]);
    });
    const verify = await runInProcess(['verify', '--store', copy]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(new RegExp(`first problem: +event "[^"]+" ${where}: creditsSumToAmount: `));
    // docs/auditing.md: a report does not check links or invariants; it prints the edited figures.
    const report = await figuresOf(copy);
    expect([report.code, report.stderr]).toEqual([0, '']);
    expect(report.stdout).not.toBe((await figuresOf(ledger)).stdout);
  });

  it('an adjustment changed with its hash recomputed: the next event of its stream no longer links to it', async () => {
    let next = '';
    const copy = tampered('adjustment-rehashed', (b, f) => {
      const records = f.map((frame) => recordOf(b, frame));
      const at = records.findIndex(
        (r) =>
          r.type === 'ManualAdjustmentRecorded' &&
          records.some((o) => o.stream === r.stream && o.revision === r.revision + 1),
      );
      expect(at).toBeGreaterThanOrEqual(0);
      const record = records[at]!;
      const following = records.find(
        (o) => o.stream === record.stream && o.revision === record.revision + 1,
      )!;
      next = `at position ${following.position} \\(stream "${record.stream}", revision ${following.revision}\\)`;
      const data = record.data as { amount: string };
      const changed = { ...record, data: { ...data, amount: otherDigit(data.amount) } };
      const { hash: _, position: __, ...hashed } = changed;
      return Buffer.concat([
        b.subarray(0, f[at]!.start),
        reframed(b, f[at]!, { ...changed, hash: computeEventHash(hashed) }),
        b.subarray(f[at]!.end),
      ]);
    });
    const verify = await runInProcess(['verify', '--store', copy]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(
      new RegExp(
        `first problem: +event "[^"]+" ${next}: prevHash [0-9a-f]{64} is not the hash of the previous event in the stream`,
      ),
    );
    const report = await figuresOf(copy);
    expect([report.code, report.stderr]).toEqual([0, '']);
  });
});
