import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { nextDigest } from '@partner-ledger/events';
import { createChainVerifier } from '@partner-ledger/store';
import type { ChainLink } from '@partner-ledger/store';
import { linkFromScan } from '../chain-link';
import { SCAN_ID, SCAN_SLOTS, isCompactJsonValue, scanChainLink, sha256Hex } from '../chain-scan';
import { crc32 } from '../crc';
import { checkFrame } from '../frame';

/**
 * Benchmark (not a test): what each piece of the one-pass verify costs per record, over the same records, so
 * that the ratio of verify-bench.js (one pass against a bare SHA-256 of every record) can be taken apart.
 *
 *   node packages/store-file/dist/bench/verify-pieces.js DIRECTORY [RECORDS]
 *
 * DIRECTORY is a file-store ledger (verify-bench.js keeps one, `pl-verify-<events>` in BENCH_DIR). The
 * first RECORDS records (default 100,000) are copied into one buffer in memory; then each piece runs
 * over all of those records, in a process of its own (a first run to warm up, then the measured one; a
 * process that holds other pieces' garbage measures them slower), the pieces alternating, BENCH_RUNS rounds
 * (default 5), and the median CPU time (user + system) per record is printed, in nanoseconds, with its ratio to the bare loop (1 MiB reads,
 * frames cut by their lengths, a SHA-256 of each record: as in verify-bench.js). The two read loops go
 * through the files, per record of the whole ledger; every other piece works on memory. Each round also runs
 * verify-bench.js's `bare`, `onepass` and `threads` in a child process each, over the whole ledger, for the
 * whole against the sum of its pieces.
 */

interface Record {
  readonly buffer: Buffer;
  readonly frame: number;
  readonly json: number;
  readonly dataStart: number;
  readonly end: number;
}

const DATA = Buffer.from(',"data":', 'latin1');

/** The first `wanted` frames of the ledger, copied one after the other into one buffer. */
const load = (directory: string, wanted: number): Record[] => {
  const frames: Buffer[] = [];
  const names = readdirSync(join(directory, 'segments'))
    .filter((name) => name.endsWith('.log'))
    .sort();
  for (const name of names) {
    const segment = readFileSync(join(directory, 'segments', name));
    let at = 32; // after the segment header
    while (at + 8 <= segment.length && frames.length < wanted) {
      const end = at + 8 + segment.readUInt32LE(at + 4);
      frames.push(segment.subarray(at, end));
      at = end;
    }
    if (frames.length >= wanted) break;
  }
  const buffer = Buffer.concat(frames);
  const records: Record[] = [];
  let at = 0;
  for (const frame of frames) {
    const end = at + frame.length;
    const json = at + 28 + buffer.readUInt16LE(at + 20) + buffer.readUInt16LE(at + 22);
    records.push({ buffer, frame: at, json, dataStart: buffer.indexOf(DATA, json) + DATA.length, end });
    at = end;
  }
  return records;
};

/** The bare loop of verify-bench.js: 1 MiB reads, frames cut by their lengths, optionally a SHA-256 of each. */
const readLoop = (directory: string, hash: boolean): number => {
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  let seen = 0;
  for (const name of readdirSync(join(directory, 'segments'))
    .filter((n) => n.endsWith('.log'))
    .sort()) {
    const fd = openSync(join(directory, 'segments', name), 'r');
    let position = 32;
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read === 0) break;
      let at = 0;
      while (at + 8 <= read) {
        const end = at + 8 + buffer.readUInt32LE(at + 4);
        if (end > read) break;
        if (hash) {
          const jsonStart = at + 28 + buffer.readUInt16LE(at + 20) + buffer.readUInt16LE(at + 22);
          crypto.hash('sha256', buffer.subarray(jsonStart, end), 'hex');
        }
        at = end;
        seen++;
      }
      position += at;
      if (at === 0) break;
    }
    closeSync(fd);
  }
  return seen;
};

/** CPU nanoseconds per record of one mode of verify-bench.js, run in a child process. */
const child = (mode: string, directory: string, count: number): number => {
  const measured = JSON.parse(
    execFileSync(
      process.execPath,
      ['--expose-gc', join(__dirname, 'verify-bench.js'), mode, directory, String(count)],
      {
        encoding: 'utf8',
      },
    ).trim(),
  ) as { events: number; cpuSeconds: number };
  return (measured.cpuSeconds * 1e9) / measured.events;
};

const cpuNs = (): bigint => {
  const { user, system } = process.cpuUsage();
  return BigInt(user + system) * 1000n;
};

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Each piece: a function over all the records (or the ledger's files) that returns how many it covered. */
const piecesOver = (records: readonly Record[], directory: string): Map<string, () => number> => {
  const scanned = new Int32Array(records.length * SCAN_SLOTS);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (!scanChainLink(r.buffer, r.json, r.end, scanned, i * SCAN_SLOTS))
      throw new Error(`record ${i} is not in the store's layout`);
  }
  // The links, for the pieces that take them (made on first use: held in memory, they slow every other
  // piece's garbage collection).
  let made: ChainLink[] | undefined;
  const links = (): ChainLink[] =>
    (made ??= records.map((r, i) => linkFromScan(r.buffer, scanned, i * SCAN_SLOTS, false)));
  let sink = 0;
  const scratch = new Int32Array(SCAN_SLOTS);
  // Each piece: a function over all records (or the ledger), and how many records it covers.
  const pieces: Array<[string, () => number]> = [
    ['bare: read 1 MiB chunks + cut frames + SHA-256 (files)', () => readLoop(directory, true)],
    ['read 1 MiB chunks + cut frames, no hash (files)', () => readLoop(directory, false)],
    [
      'SHA-256 of the record, crypto.hash one-shot',
      () => {
        for (const r of records)
          sink += crypto.hash('sha256', r.buffer.subarray(r.json, r.end), 'hex').length;
        return records.length;
      },
    ],
    [
      'SHA-256 of the record, createHash per record',
      () => {
        for (const r of records)
          sink += crypto.createHash('sha256').update(r.buffer.subarray(r.json, r.end)).digest('hex').length;
        return records.length;
      },
    ],
    [
      "SHA-256 of the canonical text, chain-scan's sha256Hex (no subarray Buffer)",
      () => {
        for (const r of records)
          sink += sha256Hex(
            new Uint8Array(r.buffer.buffer, r.buffer.byteOffset + r.json, r.end - r.json),
          ).length;
        return records.length;
      },
    ],
    [
      'CRC-32 of the frame (zlib.crc32)',
      () => {
        for (const r of records) sink += crc32(r.buffer.subarray(r.frame + 4, r.end));
        return records.length;
      },
    ],
    [
      'checkFrame (CRC-32, length, names)',
      () => {
        for (const r of records) sink += checkFrame(r.buffer, r.frame, r.end).kind.length;
        return records.length;
      },
    ],
    [
      "the data's JSON grammar (isCompactJsonValue)",
      () => {
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!;
          if (isCompactJsonValue(r.buffer, r.dataStart, scanned[i * SCAN_SLOTS + SCAN_ID]!)) sink++;
        }
        return records.length;
      },
    ],
    [
      'scanChainLink (layout + grammar + SHA-256)',
      () => {
        for (const r of records) if (scanChainLink(r.buffer, r.json, r.end, scratch, 0)) sink++;
        return records.length;
      },
    ],
    [
      'linkFromScan (the link strings)',
      () => {
        for (let i = 0; i < records.length; i++)
          sink += linkFromScan(records[i]!.buffer, scanned, i * SCAN_SLOTS, false).position;
        return records.length;
      },
    ],
    [
      'nextDigest (the digest: SHA-256 of 128 characters)',
      () => {
        let digest = '';
        for (const link of links()) digest = nextDigest(digest, link.hash);
        sink += digest.length;
        return records.length;
      },
    ],
    [
      'createChainVerifier visit (checks + digest)',
      () => {
        const verifier = createChainVerifier();
        for (const link of links()) if (!verifier.visit(link)) throw new Error('a link does not check out');
        sink += verifier.finish().eventsChecked;
        return records.length;
      },
    ],
  ];
  return new Map(pieces.map(([name, run]) => [name, () => run() + (sink === -1 ? 1 : 0)]));
};

const main = (): void => {
  const [first, second, third, fourth] = process.argv.slice(2);
  if (first === 'piece') {
    // Child: one piece over the records, once to warm up, once measured; prints ns per record.
    const run = piecesOver(load(third!, Number(fourth)), third!).get(second!)!;
    run();
    (globalThis as { gc?: () => void }).gc?.();
    const started = cpuNs();
    const count = run();
    process.stdout.write(`${Number(cpuNs() - started) / count}\n`);
    return;
  }
  const directory = first;
  if (directory === undefined) throw new Error('usage: verify-pieces.js DIRECTORY [RECORDS]');
  const wanted = Number(second ?? 100_000);
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const records = load(directory, wanted);
  const bytes = records.reduce((sum, r) => sum + (r.end - r.json), 0);
  const total = readLoop(directory, false);
  const names = [...piecesOver(records.slice(0, 1), directory).keys()];
  const perRecord = new Map<string, number[]>(names.map((name) => [name, []]));
  const whole = { bare: [] as number[], onepass: [] as number[], threads: [] as number[] };
  for (let round = 0; round < runs; round++) {
    for (const name of names) {
      const ns = execFileSync(
        process.execPath,
        ['--expose-gc', __filename, 'piece', name, directory, String(wanted)],
        { encoding: 'utf8' },
      );
      perRecord.get(name)!.push(Number(ns.trim()));
    }
    // The whole, in processes of their own too, over the whole ledger.
    for (const mode of ['bare', 'onepass', 'threads'] as const)
      whole[mode].push(child(mode, directory, total));
  }
  console.log(
    `${records.length} records in memory (${(bytes / records.length).toFixed(0)} bytes of JSON each on average), ` +
      `${total} in the ledger; each piece in a process of its own, warmed up, median of ${runs} rounds; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const bareNs = median(perRecord.get(names[0]!)!);
  for (const name of names) {
    const values = perRecord.get(name)!;
    const ns = median(values);
    console.log(
      `  ${name.padEnd(76)} ${ns.toFixed(0).padStart(6)} ns/record  (${(ns / bareNs).toFixed(2)}x bare)  [${values.map((v) => v.toFixed(0)).join(', ')}]`,
    );
  }
  const floor = ['read 1 MiB', 'SHA-256 of the record, crypto', 'CRC-32', 'nextDigest'].map((prefix) =>
    median(perRecord.get(names.find((name) => name.startsWith(prefix))!)!),
  );
  const floorNs = floor.reduce((a, b) => a + b, 0);
  console.log(
    `  what no one pass can skip (read + SHA-256 + CRC-32 + digest): ${floorNs.toFixed(0)} ns/record (${(floorNs / bareNs).toFixed(2)}x bare)`,
  );
  console.log(
    `whole runs, each in a process of its own (verify-bench.js modes), CPU per record of the ${total}:`,
  );
  const wholeBare = median(whole.bare);
  for (const mode of ['bare', 'onepass', 'threads'] as const)
    console.log(
      `  ${mode.padEnd(8)} ${median(whole[mode]).toFixed(0).padStart(6)} ns/record  (${(median(whole[mode]) / wholeBare).toFixed(2)}x bare; each round ${whole[mode].map((v, i) => (v / whole.bare[i]!).toFixed(2)).join(', ')})`,
    );
};

main();
