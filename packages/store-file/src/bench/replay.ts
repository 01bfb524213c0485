import { openSync, readSync, readdirSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { openFileStore } from '../store';

/**
 * One replay, in a process of its own so that its memory is measured alone:
 *   node replay.js <directory> <events> <store|bare>
 * prints one JSON line: events, wall and CPU seconds (user + system: robust on a busy machine), peak RSS and heap (sampled every 10,000 events)
 * and the RSS before the replay started (after the store opened, for `store`).
 */
const [directory, countText, mode] = process.argv.slice(2) as [string, string, 'store' | 'bare'];
const count = Number(countText);

let peakRss = 0;
let peakHeap = 0;
const sample = (): void => {
  const usage = process.memoryUsage();
  if (usage.rss > peakRss) peakRss = usage.rss;
  if (usage.heapUsed > peakHeap) peakHeap = usage.heapUsed;
};

/** The ceiling: read the segments in 1 MiB chunks, cut frames by their length, JSON.parse each record. */
const bare = (): number => {
  const segments = readdirSync(join(directory, 'segments'))
    .filter((name) => name.endsWith('.log'))
    .sort();
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  let seen = 0;
  let checksum = 0;
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
        const event = JSON.parse(buffer.toString('utf8', jsonStart, end)) as { position: number };
        checksum += event.position;
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
  if (checksum < 0) throw new Error('unreachable');
  return seen;
};

const viaStore = async (): Promise<number> => {
  const opening = process.hrtime.bigint();
  const store = await openFileStore({ directory, readOnly: true });
  openSeconds = Number(process.hrtime.bigint() - opening) / 1e9;
  global.gc?.();
  baselineRss = process.memoryUsage().rss;
  started = process.hrtime.bigint();
  cpuStarted = process.cpuUsage();
  let seen = 0;
  let checksum = 0;
  for await (const event of store.readAll({ asKnownAt: { position: count - 1 } })) {
    checksum += event.position;
    if (++seen % 10_000 === 0) sample();
  }
  await store.close();
  if (checksum < 0) throw new Error('unreachable');
  return seen;
};

let baselineRss = 0;
let openSeconds = 0;
let started = 0n;
let cpuStarted = process.cpuUsage();
const main = async (): Promise<void> => {
  global.gc?.();
  baselineRss = process.memoryUsage().rss;
  started = process.hrtime.bigint();
  cpuStarted = process.cpuUsage();
  const seen = mode === 'bare' ? bare() : await viaStore();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStarted);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  sample();
  process.stdout.write(
    `${JSON.stringify({ mode, events: seen, seconds, eventsPerSecond: seen / seconds, cpuSeconds, eventsPerCpuSecond: seen / cpuSeconds, openSeconds, peakRss, peakHeap, baselineRss })}\n`,
  );
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
