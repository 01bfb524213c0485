import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyStore } from '@partner-ledger/store';
import { openFileStore } from '../store';
import { verifyInOnePass } from '../verify-pass';
import { benchEvent } from './events';

/**
 * Benchmark (not a test): `verifyStore` over a file-store ledger against a bare SHA-256 of every record's
 * bytes, read from the same segment files, in the same run. What no verification can skip is reading the
 * bytes and hashing each event once; everything verify does beyond that (checksums, parsing, the links, the
 * digest) is the ratio.
 *
 *   npm run bench:verify -w @partner-ledger/store-file                 # 1M and 3M events
 *   npm run bench:verify -w @partner-ledger/store-file -- 300000,900000
 *
 * Each measurement runs in a child process of its own (bare, verify, onepass, threads, alternating, three
 * rounds): `verify` is the two-pass path (a read-only open, then verifyStore), `onepass` what verifyFileStore
 * does on a clean ledger (verifyInOnePass: one read of the bytes) on this thread alone, `threads` the same
 * with worker threads (as many as the cores, at most 2), which check the records' bytes while the main
 * thread follows the chains. Both wall and CPU seconds (all threads) are
 * reported: the wall time is what a user waits. A last child per size verifies once in one pass (with threads)
 * and reports its peak RSS and peak heap (sampled every 10,000 events), so that memory can be compared
 * between sizes. Environment: BENCH_DIR (default: the OS temp directory; the
 * ledgers are kept there, `pl-verify-<events>`, and reused), BENCH_RUNS (default 3).
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Worker threads of the `threads` mode: as many as the cores, at most 2. */
const THREADS = Math.min(2, availableParallelism());
const root = process.env.BENCH_DIR ?? tmpdir();

interface Measured {
  readonly mode: string;
  readonly events: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakRss: number;
  readonly peakHeap: number;
  readonly digest: string;
}

let peakRss = 0;
let peakHeap = 0;
const sample = (): void => {
  const usage = process.memoryUsage();
  if (usage.rss > peakRss) peakRss = usage.rss;
  if (usage.heapUsed > peakHeap) peakHeap = usage.heapUsed;
};

/**
 * The ceiling: the segments read in 1 MiB chunks, frames cut by their length, one SHA-256 of each record's
 * JSON bytes (no checksum, no parsing, no link, no digest).
 */
const bare = (directory: string, count: number): { events: number; digest: string } => {
  const segments = readdirSync(join(directory, 'segments'))
    .filter((name) => name.endsWith('.log'))
    .sort();
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  let seen = 0;
  let last = '';
  for (const name of segments) {
    const fd = openSync(join(directory, 'segments', name), 'r');
    let position = 32; // after the segment header
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read === 0) break;
      let at = 0;
      while (at + 8 <= read) {
        const end = at + 8 + buffer.readUInt32LE(at + 4);
        if (end > read) break;
        const jsonStart = at + 28 + buffer.readUInt16LE(at + 20) + buffer.readUInt16LE(at + 22);
        last = crypto.hash('sha256', buffer.subarray(jsonStart, end), 'hex');
        at = end;
        if (++seen % 10_000 === 0) sample();
        if (seen === count) break;
      }
      position += at;
      if (seen === count || at === 0) break;
    }
    closeSync(fd);
    if (seen === count) break;
  }
  return { events: seen, digest: last };
};

const viaVerify = async (directory: string, count: number): Promise<{ events: number; digest: string }> => {
  const store = await openFileStore({ directory, readOnly: true });
  try {
    const report = await verifyStore(store, {
      upToPosition: count - 1,
      onProgress: sample,
    });
    if (!report.ok) throw new Error(`verify found a problem: ${report.firstProblem.message}`);
    return { events: report.eventsChecked, digest: report.digest };
  } finally {
    await store.close();
  }
};

const viaOnePass = async (
  directory: string,
  count: number,
  threads: number,
): Promise<{ events: number; digest: string }> => {
  const report = await verifyInOnePass(directory, { upToPosition: count - 1, onProgress: sample, threads });
  if (report === undefined) throw new Error('the one-pass verify gave way: the ledger is not clean');
  if (!report.ok) throw new Error(`verify found a problem: ${report.firstProblem.message}`);
  return { events: report.eventsChecked, digest: report.digest };
};

/** Child process: one measurement, printed as a JSON line. */
const measure = async (mode: string, directory: string, count: number): Promise<void> => {
  (globalThis as { gc?: () => void }).gc?.();
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const { events, digest } =
    mode === 'bare'
      ? bare(directory, count)
      : mode === 'onepass'
        ? await viaOnePass(directory, count, 0)
        : mode === 'threads'
          ? await viaOnePass(directory, count, THREADS)
          : await viaVerify(directory, count);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  sample();
  const result: Measured = {
    mode,
    events,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRss: Math.max(peakRss, process.resourceUsage().maxRSS * 1024),
    peakHeap,
    digest,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
};

const child = (mode: string, directory: string, count: number): Measured =>
  JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', __filename, mode, directory, String(count)], {
      encoding: 'utf8',
      maxBuffer: 1024 * 1024,
    }).trim(),
  ) as Measured;

/** A ledger of `events` conversions (about 700 bytes of JSON each) in 500 streams, appends of 1,000. */
const fill = async (directory: string, events: number): Promise<void> => {
  const store = await openFileStore({ directory });
  const batch = 1000;
  for (let first = 0; first < events; first += batch) {
    const count = Math.min(batch, events - first);
    await store.append(
      `partner-${(first / batch) % 500}`,
      Array.from({ length: count }, (_, i) => benchEvent(first + i)),
    );
  }
  await store.close();
};

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rate = (events: number, seconds: number): string =>
  Math.round(events / seconds).toLocaleString('en-US');
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

const main = async (): Promise<void> => {
  const [mode, directory, countText] = process.argv.slice(2);
  if (mode === 'bare' || mode === 'verify' || mode === 'onepass' || mode === 'threads')
    return measure(mode, directory!, Number(countText));
  const sizes = (mode ?? '1000000,3000000').split(',').map(Number);
  console.log(
    `node ${process.version}, ${process.platform}/${process.arch}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const memory: Array<{ size: number; peakRss: number; peakHeap: number }> = [];
  for (const size of sizes) {
    const directory = join(root, `pl-verify-${size}`);
    if (!existsSync(join(directory, 'segments'))) {
      mkdirSync(directory, { recursive: true });
      const started = process.hrtime.bigint();
      await fill(directory, size);
      console.log(
        `wrote ${size} events in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`,
      );
    }
    type Mode = 'bare' | 'verify' | 'onepass' | 'threads';
    const modes = ['bare', 'verify', 'onepass', 'threads'] as const;
    const runs: Record<Mode, Measured[]> = { bare: [], verify: [], onepass: [], threads: [] };
    for (let round = 0; round < RUNS; round += 1)
      for (const m of modes) runs[m].push(child(m, directory, size));
    const wall = (m: Mode) => median(runs[m].map((r) => r.seconds));
    const cpu = (m: Mode) => median(runs[m].map((r) => r.cpuSeconds));
    const ratios = (m: Mode) =>
      runs[m].map((v, i) => (v.seconds / runs.bare[i]!.seconds).toFixed(2)).join(', ');
    const cpuRatios = (m: Mode) =>
      runs[m].map((v, i) => (v.cpuSeconds / runs.bare[i]!.cpuSeconds).toFixed(2)).join(', ');
    const digests = new Set([...runs.verify, ...runs.onepass, ...runs.threads].map((r) => r.digest));
    if (digests.size !== 1) throw new Error(`the two paths disagree: digests ${[...digests].join(', ')}`);
    const memoryRun = child('threads', directory, size);
    memory.push({ size, peakRss: memoryRun.peakRss, peakHeap: memoryRun.peakHeap });
    console.log(
      [
        `${size} events:`,
        `  bare read + SHA-256 per record: ${rate(size, wall('bare'))} events/s (median ${wall('bare').toFixed(2)} s; runs ${runs.bare.map((r) => r.seconds.toFixed(2)).join(', ')})`,
        `  open + verifyStore (two passes): ${rate(size, wall('verify'))} events/s (median ${wall('verify').toFixed(2)} s; runs ${runs.verify.map((r) => r.seconds.toFixed(2)).join(', ')})`,
        `  verifyInOnePass, no thread:     ${rate(size, wall('onepass'))} events/s (median ${wall('onepass').toFixed(2)} s; runs ${runs.onepass.map((r) => r.seconds.toFixed(2)).join(', ')})`,
        `  verifyInOnePass, ${THREADS} thread(s):  ${rate(size, wall('threads'))} events/s (median ${wall('threads').toFixed(2)} s; runs ${runs.threads.map((r) => r.seconds.toFixed(2)).join(', ')})`,
        ...(['verify', 'onepass', 'threads'] as const).map(
          (m) =>
            `  ${m} / bare: ${(wall(m) / wall('bare')).toFixed(2)}x the time (median; each round ${ratios(m)}); CPU ${(cpu(m) / cpu('bare')).toFixed(2)}x (median; each round ${cpuRatios(m)})`,
        ),
        `  memory of a one-pass verify alone (with threads): peak RSS ${mib(memoryRun.peakRss)}, peak heap ${mib(memoryRun.peakHeap)}; digest ${memoryRun.digest.slice(0, 16)}...`,
      ].join('\n'),
    );
  }
  if (memory.length >= 2) {
    const [small, large] = [memory[0]!, memory.at(-1)!];
    console.log(
      `peak RSS ${small.size}: ${mib(small.peakRss)}, ${large.size}: ${mib(large.peakRss)} (${((large.peakRss / small.peakRss - 1) * 100).toFixed(1)}%); ` +
        `peak heap ${mib(small.peakHeap)} -> ${mib(large.peakHeap)} (${((large.peakHeap / small.peakHeap - 1) * 100).toFixed(1)}%)`,
    );
  }
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
