/**
 * Benchmark: replaying every built-in projection at once against a bare read + JSON.parse loop over the same
 * events, in the same process, and the peak memory of a replay at 1M and 3M events.
 *
 *   npm run bench -w @partner-ledger/projections                 # 1M and 3M events: 1 and 3 years (`long`)
 *   npm run bench -w @partner-ledger/projections -- 200000       # other sizes (comma-separated)
 *   npm run bench -w @partner-ledger/projections -- 1000000,3000000 dense
 *                                  # every size one year: 3x the traffic per day for 3M
 *   npm run bench -w @partner-ledger/projections -- 1000000,3000000 long parts
 *                                  # the heap each projection retains alone, no timing
 *
 * `long` is the default because it is how a real ledger grows: the same program, with the same partners and
 * traffic, recording for longer. Its 3M ledger is three years of the 1M ledger's traffic, so what grows is
 * what grows with time (history), which the read side must keep flat. `dense` packs 3x the traffic into
 * the same year: three times the conversions per month, so three times the commission lines open at any
 * moment (a month's lines wait for the monthly payout run), and balances and statements hold three times
 * as many of them. That is "open windows" growing, as it should: memory follows what is open, not events.
 *
 * The ledger is generated once per size and history into a JSON-lines file in the OS temp directory (one
 * recorded event per line, with real hash links), by the test simulator driven by a seeded PRNG: 2,000
 * partners, clicks ~88%, conversions ~3.5%, monthly payouts. Each measurement runs in a child process of its
 * own, so that one size's garbage does not count against another.
 *
 * What the replay asks for is what a finance team's monthly run asks for: statements for the last month,
 * revenue by month for the last twelve (`revenue: { from, to }`), balances and health as of the end.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeEventHash, decodeStoredEvent } from '@partner-ledger/events';
import type { PartnerType, RecordedEvent } from '@partner-ledger/events';
import type { EventStore, PagedReads, ReadAllOptions, ReadStreamOptions } from '@partner-ledger/store';
import { builtInProjections } from '../builtins';
import { commissionBalances } from '../projections/balances';
import { partnerRevenue } from '../projections/revenue';
import { defineProjection } from '../runtime/projection';
import type { AnyProjection } from '../runtime/projection';
import { replay } from '../runtime/runner';
import type { Action } from '../testing/simulator';
import { createSimulator } from '../testing/simulator';

const PARTNERS = 2_000;
const YEAR_MS = 365 * 24 * 3_600_000;
const START = '2026-01-01T00:00:00.000Z';
/** Statements for the last month of the history: what a monthly statement run asks for. */
const statementMonth = (years: number) => {
  const last = new Date(Date.parse(START) + years * YEAR_MS - 24 * 3_600_000).toISOString();
  const from = `${last.slice(0, 7)}-01T00:00:00.000Z`;
  const next = new Date(Date.UTC(Number(last.slice(0, 4)), Number(last.slice(5, 7)), 1));
  return { from, to: new Date(next.getTime() - 1).toISOString() };
};

/** Revenue by month over the last twelve months of the history, the last one included. */
const revenueYear = (years: number) => {
  const { to } = statementMonth(years);
  const end = new Date(Date.parse(to) + 1);
  const from = new Date(Date.UTC(end.getUTCFullYear() - 1, end.getUTCMonth(), 1)).toISOString();
  return { from, to };
};

/** What every timed and measured replay asks for: see the header. */
const builtIns = (years: number) =>
  builtInProjections({ statements: statementMonth(years), revenue: revenueYear(years) });

/** mulberry32: a small seeded PRNG, so that every run generates the same ledger. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};

const TYPES: readonly PartnerType[] = [
  ...Array<PartnerType>(10).fill('affiliate'),
  ...Array<PartnerType>(5).fill('referral'),
  'reseller',
  'reseller',
  'technology',
  'technology',
  'agency',
];

const generate = (size: number, years: number, file: string): void => {
  const random = prng(20260101);
  const int = (n: number): number => Math.floor(random() * n);
  // A skewed pick: a few partners bring most of the traffic, as in real programs.
  const partner = (): number => Math.floor(PARTNERS * random() * random());
  const lag = (): number => (random() < 0.1 ? int(48) : 0);
  const simulator = createSimulator({
    start: START,
    holdDays: 30,
    compact: true,
    stepMs: (years * YEAR_MS) / size,
  });
  const streams = new Map<string, { revision: number; hash: string }>();
  const temporary = `${file}.partial`;
  const fd = openSync(temporary, 'w');
  let buffer: string[] = [];
  let position = 0;
  const write = (events: ReturnType<typeof simulator.run>): void => {
    for (const { stream, event } of events) {
      const last = streams.get(stream);
      const unhashed = {
        ...event,
        stream,
        revision: last === undefined ? 0 : last.revision + 1,
        prevHash: last === undefined ? null : last.hash,
      };
      const hash = computeEventHash(unhashed);
      const recorded: RecordedEvent = { ...unhashed, position, hash };
      streams.set(stream, { revision: recorded.revision, hash });
      buffer.push(JSON.stringify(recorded));
      position += 1;
    }
    if (buffer.length >= 10_000) {
      writeSync(fd, buffer.join('\n') + '\n');
      buffer = [];
    }
  };
  for (let i = 0; i < PARTNERS; i += 1)
    write(
      simulator.run({ kind: 'join', partnerType: TYPES[int(TYPES.length)]!, withParent: random() < 0.1 }),
    );
  let month = simulator.now().slice(0, 7);
  while (position < size) {
    const now = simulator.now().slice(0, 7);
    if (now !== month) {
      month = now;
      for (let p = 0; p < PARTNERS && position < size; p += 1)
        write(simulator.run({ kind: 'payout', partner: p }));
      for (let f = 0; f < 5; f += 1) write(simulator.run({ kind: 'failPayout', payout: int(64) }));
      continue;
    }
    const r = random();
    let action: Action;
    if (r < 0.88) action = { kind: 'click', partner: partner(), fraud: random() < 0.02, lagHours: lag() };
    else if (r < 0.915)
      action = {
        kind: 'convert',
        cents: 2_000 + Math.floor(498_000 * random() ** 3),
        euro: random() < 0.25,
        partners: Array.from({ length: 1 + int(3) }, partner),
        influencer: random() < 0.2 ? partner() : null,
        renewal: random() < 0.2,
        held: random() < 0.03,
        lagHours: lag(),
      };
    else if (r < 0.935) action = { kind: 'influence', partner: partner(), account: int(20_000) };
    else if (r < 0.945) action = { kind: 'deal', partner: partner(), account: int(20_000) };
    else if (r < 0.949)
      action = { kind: 'reverse', conversion: int(500), full: random() < 0.6, lagHours: lag() };
    else if (r < 0.951) action = { kind: 'hold', line: int(1_000) };
    else if (r < 0.952) action = { kind: 'release', line: int(1_000) };
    else if (r < 0.9525) action = { kind: 'reject', line: int(1_000) };
    else if (r < 0.9535) action = { kind: 'adjust', partner: partner(), cents: int(20_001) - 10_000 };
    else action = { kind: 'click', partner: partner(), fraud: false, lagHours: 0 };
    write(simulator.run(action));
  }
  if (buffer.length > 0) writeSync(fd, buffer.join('\n') + '\n');
  closeSync(fd);
  renameSync(temporary, file);
};

/** The file's lines, a chunk at a time. */
async function* lineBatches(file: string): AsyncGenerator<string[]> {
  const handle = await open(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let rest = '';
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      const text = rest + chunk.toString('utf8', 0, bytesRead);
      const end = text.lastIndexOf('\n');
      rest = text.slice(end + 1);
      if (end >= 0) yield text.slice(0, end).split('\n');
    }
    if (rest.length > 0) yield [rest];
  } finally {
    await handle.close();
  }
}

/**
 * A stream index for the conversion streams (all a replay reads by stream: a reversal's conversion), on disk
 * beside the ledger as a database keeps its index, so that the process measured holds none of it: fixed-width
 * records (stream name padded to 64 characters, byte offset, byte length of the line), sorted by stream then
 * position, searched by bisection.
 */
const INDEX_STREAM = 64;
const INDEX_RECORD = INDEX_STREAM + 16 + 15 + 1;
const indexPathOf = (file: string): string => `${file}.conversion-streams.idx`;

const buildStreamIndex = async (file: string): Promise<void> => {
  const records: string[] = [];
  let offset = 0;
  for await (const lines of lineBatches(file))
    for (const line of lines) {
      const length = Buffer.byteLength(line, 'utf8');
      const { stream } = JSON.parse(line) as RecordedEvent;
      if (stream.startsWith('conversion-')) {
        if (stream.length > INDEX_STREAM) throw new Error(`stream name too long for the index: ${stream}`);
        records.push(
          `${stream.padEnd(INDEX_STREAM)}${String(offset).padStart(16, '0')}${String(length).padStart(15, '0')}\n`,
        );
      }
      offset += length + 1;
    }
  // Fixed-width keys then zero-padded offsets: plain string order is stream order, then log order.
  records.sort();
  const temporary = `${indexPathOf(file)}.partial`;
  const fd = openSync(temporary, 'w');
  for (let i = 0; i < records.length; i += 10_000) writeSync(fd, records.slice(i, i + 10_000).join(''));
  closeSync(fd);
  renameSync(temporary, indexPathOf(file));
};

/** Reads one stream's events through the index: what `readStream` of a store with a stream index does. */
const streamReader = (file: string) => {
  let files: { data: number; index: number; count: number } | undefined;
  const record = Buffer.allocUnsafe(INDEX_RECORD);
  const recordAt = (index: number, i: number): string => {
    readSync(index, record, 0, INDEX_RECORD, i * INDEX_RECORD);
    return record.toString('latin1');
  };
  return function* (stream: string, options: ReadStreamOptions = {}): Generator<RecordedEvent> {
    if ((options.direction ?? 'forwards') !== 'forwards' || options.asKnownAt !== undefined)
      throw new Error('the benchmark store reads streams forwards only');
    files ??= {
      data: openSync(file, 'r'),
      index: openSync(indexPathOf(file), 'r'),
      count: statSync(indexPathOf(file)).size / INDEX_RECORD,
    };
    const key = stream.padEnd(INDEX_STREAM);
    let low = 0;
    let high = files.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (recordAt(files.index, middle).slice(0, INDEX_STREAM) < key) low = middle + 1;
      else high = middle;
    }
    const from = options.fromRevision ?? 0;
    const last = from + (options.maxCount ?? Number.MAX_SAFE_INTEGER);
    for (let i = low, revision = 0; i < files.count && revision < last; i += 1, revision += 1) {
      const text = recordAt(files.index, i);
      if (text.slice(0, INDEX_STREAM) !== key) return;
      if (revision < from) continue;
      const offset = Number(text.slice(INDEX_STREAM, INDEX_STREAM + 16));
      const length = Number(text.slice(INDEX_STREAM + 16, INDEX_STREAM + 31));
      const line = Buffer.allocUnsafe(length);
      readSync(files.data, line, 0, length, offset);
      yield JSON.parse(line.toString('utf8')) as RecordedEvent;
    }
  };
};

/**
 * A read-only EventStore over the JSON-lines file: readAll streams it, an event at a time, and readAllPages
 * a page per chunk, as the file store does; readStream reads the conversion streams through the index on
 * disk.
 */
const fileStore = (file: string, head: number): EventStore => {
  const unsupported = (): never => {
    throw new Error('the benchmark store only reads');
  };
  const readStream = streamReader(file);
  return {
    append: unsupported,
    readStream: async function* (stream: string, options?: ReadStreamOptions) {
      yield* readStream(stream, options);
    },
    subscribe: unsupported,
    headPosition: () => Promise.resolve(head),
    close: () => Promise.resolve(),
    readAll: async function* (options: ReadAllOptions = {}) {
      const from = options.fromPosition ?? 0;
      for await (const lines of lineBatches(file)) {
        for (const line of lines) {
          const event = JSON.parse(line) as RecordedEvent;
          if (event.position >= from) yield event;
        }
      }
    },
    // As the file store offers them (PagedReads): the events of a chunk in one page, no promise per event.
    readAllPages: async function* (options: ReadAllOptions = {}) {
      const from = options.fromPosition ?? 0;
      for await (const lines of lineBatches(file)) {
        const page: RecordedEvent[] = [];
        for (const line of lines) {
          const event = JSON.parse(line) as RecordedEvent;
          if (event.position >= from) page.push(event);
        }
        if (page.length > 0) yield page;
      }
    },
  } as EventStore & PagedReads;
};

const bareLoop = async (file: string): Promise<number> => {
  let checksum = 0;
  for await (const lines of lineBatches(file))
    for (const line of lines) checksum += (JSON.parse(line) as RecordedEvent).position & 1;
  return checksum;
};

/** The bare loop plus decoding each event (upcast, codecs, money checks): what every replay pays first. */
const decodeLoop = async (file: string): Promise<number> => {
  let checksum = 0;
  for await (const lines of lineBatches(file))
    for (const line of lines) checksum += decodeStoredEvent(JSON.parse(line) as RecordedEvent).position & 1;
  return checksum;
};

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * Child process: times the bare loop, the decode loop, the full replay and balances alone, three rounds of
 * each, alternating, so that the best of each (what the parent reports) is taken in a quiet moment of a
 * shared machine for every one of them; prints JSON.
 */
const measureTime = async (file: string, size: number, years: number): Promise<void> => {
  const times = {
    bare: [] as number[],
    decode: [] as number[],
    replay: [] as number[],
    balances: [] as number[],
  };
  // CPU seconds (user + system) of the same runs: what a machine shared with other jobs disturbs less.
  const cpu = {
    bare: [] as number[],
    decode: [] as number[],
    replay: [] as number[],
    balances: [] as number[],
  };
  const timed = async (kind: keyof typeof times, run: () => Promise<unknown>): Promise<void> => {
    gc();
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    await run();
    const used = process.cpuUsage(cpuStart);
    times[kind].push(seconds(start));
    cpu[kind].push((used.user + used.system) / 1e6);
  };
  for (let round = 0; round < 3; round += 1) {
    await timed('bare', () => bareLoop(file));
    await timed('decode', () => decodeLoop(file));
    await timed('replay', () => replay(fileStore(file, size - 1), builtIns(years)));
    // One projection alone: what `partner-ledger report balances` replays; clicks are not even decoded.
    await timed('balances', () => replay(fileStore(file, size - 1), { balances: commissionBalances() }));
  }
  console.log(JSON.stringify({ ...times, cpu }));
};

/**
 * Two full replays and nothing else, timed, with the part spent building the results after the last event:
 * what to run under `node --cpu-prof`.
 */
const measureReplay = async (file: string, size: number, years: number): Promise<void> => {
  for (let round = 0; round < 2; round += 1) {
    const start = process.hrtime.bigint();
    let lastEvent = start;
    await replay(fileStore(file, size - 1), builtIns(years), {
      progressEvery: size,
      onProgress: ({ done, total }) => {
        if (done === total) lastEvent = process.hrtime.bigint();
      },
    });
    const end = process.hrtime.bigint();
    console.log(
      `full replay: ${seconds(start).toFixed(2)} s, of which results ${(Number(end - lastEvent) / 1e9).toFixed(2)} s`,
    );
  }
};

/** Child process: one replay alone, its peak RSS and the heap it retains. */
const measureMemory = async (file: string, size: number, years: number): Promise<void> => {
  let peakHeap = 0;
  const outcome = await replay(fileStore(file, size - 1), builtIns(years), {
    progressEvery: 50_000,
    onProgress: () => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    },
  });
  gc();
  const retainedHeap = process.memoryUsage().heapUsed;
  const summary = {
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    peakHeapMb: peakHeap / 2 ** 20,
    retainedHeapMb: retainedHeap / 2 ** 20,
    eventsApplied: outcome.eventsApplied,
    partners: Object.keys(outcome.results.balances.partners).length,
    openLines: outcome.results.balances.openLines,
    programRevenueUsd: outcome.results.revenue.program.total.reporting?.total ?? null,
  };
  console.log(JSON.stringify(summary));
};

/** Child process: one projection alone (or none: the reference data only), the heap it retains after GC. */
const measurePart = async (file: string, size: number, years: number, part: string): Promise<void> => {
  // Revenue over the whole history too (no window): what the window bounds.
  const all = { ...builtIns(years), revenueAllHistory: partnerRevenue() } as Record<string, AnyProjection>;
  const nothing = defineProjection({
    name: 'nothing',
    eventTypes: [],
    initialState: () => null,
    apply: (state) => state,
    result: () => null,
  });
  gc();
  const before = process.memoryUsage().heapUsed;
  const outcome = await replay(fileStore(file, size - 1), { [part]: all[part] ?? nothing });
  gc();
  const retained = process.memoryUsage().heapUsed - before;
  console.log(JSON.stringify({ part, retainedHeapMb: retained / 2 ** 20, eventsRead: outcome.eventsRead }));
};

const child = (mode: string, file: string, size: number, years: number, part = ''): unknown => {
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', __filename, mode, file, String(size), String(years), part],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  if (run.status !== 0) throw new Error(`${mode} ${size} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
};

const main = async (): Promise<void> => {
  const [mode, file, size, yearsArg, part] = process.argv.slice(2);
  if (mode === 'time') return measureTime(file!, Number(size), Number(yearsArg));
  if (mode === 'memory') return measureMemory(file!, Number(size), Number(yearsArg));
  if (mode === 'part') return measurePart(file!, Number(size), Number(yearsArg), part!);
  // For a CPU profile of the replay alone: node --cpu-prof dist/bench/replay-bench.js replay FILE SIZE YEARS
  if (mode === 'replay') return measureReplay(file!, Number(size), Number(yearsArg));
  // `parts` as the third argument: only the heap each projection retains alone (no timing).
  const partsOnly = process.argv.slice(3).includes('parts');
  const sizes = (mode ?? '1000000,3000000').split(',').map(Number);
  // `long` (default): 1M events per year, a larger size is a longer history; `dense`: every size is one
  // year of traffic (more events per day).
  const history = file === 'dense' ? 'dense' : 'long';
  const yearsOf = (n: number): number => (history === 'long' ? n / 1_000_000 : 1);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, ${history} histories`);
  const memory: Array<{ size: number; peakRssMb: number }> = [];
  for (const n of sizes) {
    const years = yearsOf(n);
    const path = join(tmpdir(), `partner-ledger-bench-${n}-${years}y.jsonl`);
    if (!existsSync(path)) {
      const start = process.hrtime.bigint();
      generate(n, years, path);
      console.log(`generated ${n} events in ${seconds(start).toFixed(1)} s -> ${path}`);
    }
    if (!existsSync(indexPathOf(path))) {
      const start = process.hrtime.bigint();
      await buildStreamIndex(path);
      console.log(`indexed its conversion streams in ${seconds(start).toFixed(1)} s -> ${indexPathOf(path)}`);
    }
    const mb = statSync(path).size / 2 ** 20;
    if (partsOnly) {
      const reference = child('part', path, n, years, 'reference') as { retainedHeapMb: number };
      const names = ['revenue', 'revenueAllHistory', 'balances', 'statements', 'health'];
      const parts = names.map((name) => child('part', path, n, years, name) as { retainedHeapMb: number });
      console.log(
        `${n} events over ${years} year(s), heap retained after GC (MB): reference data ${reference.retainedHeapMb.toFixed(1)}; ` +
          names
            .map((name, i) => `${name} ${(parts[i]!.retainedHeapMb - reference.retainedHeapMb).toFixed(1)}`)
            .join(', '),
      );
      continue;
    }
    const times = child('time', path, n, years) as {
      bare: number[];
      decode: number[];
      replay: number[];
      balances: number[];
      cpu: { bare: number[]; decode: number[]; replay: number[]; balances: number[] };
    };
    const bare = Math.min(...times.bare);
    const cpuBare = Math.min(...times.cpu.bare);
    const cpuFull = Math.min(...times.cpu.replay);
    const decode = Math.min(...times.decode);
    const full = Math.min(...times.replay);
    const balancesOnly = Math.min(...times.balances);
    const mem = child('memory', path, n, years) as {
      peakRssMb: number;
      peakHeapMb: number;
      retainedHeapMb: number;
    };
    memory.push({ size: n, peakRssMb: mem.peakRssMb });
    console.log(
      [
        `${n} events over ${years} year(s) (${mb.toFixed(0)} MB, ${((mb * 2 ** 20) / n).toFixed(0)} B/event)`,
        `  bare read+JSON.parse: ${bare.toFixed(2)} s (${Math.round(n / bare).toLocaleString('en')} events/s)  [runs: ${times.bare.map((t) => t.toFixed(2)).join(', ')}]`,
        `  read+JSON.parse+decodeStoredEvent: ${decode.toFixed(2)} s (${Math.round(n / decode).toLocaleString('en')} events/s, ${(decode / bare).toFixed(2)}x bare)  [runs: ${times.decode.map((t) => t.toFixed(2)).join(', ')}]`,
        `  full replay, 4 projections: ${full.toFixed(2)} s (${Math.round(n / full).toLocaleString('en')} events/s)  [runs: ${times.replay.map((t) => t.toFixed(2)).join(', ')}]`,
        `  balances alone: ${balancesOnly.toFixed(2)} s (${(balancesOnly / bare).toFixed(2)}x bare)  [runs: ${times.balances.map((t) => t.toFixed(2)).join(', ')}]`,
        `  ratio full/bare: ${(full / bare).toFixed(2)}x (target <= 2x, goal 1.5x); full/decode-loop: ${(full / decode).toFixed(2)}x`,
        `  per CPU-second (user + system, best of three): bare ${cpuBare.toFixed(2)} s, full ${cpuFull.toFixed(2)} s: ${(cpuFull / cpuBare).toFixed(2)}x; decode ${(Math.min(...times.cpu.decode) / cpuBare).toFixed(2)}x, balances alone ${(Math.min(...times.cpu.balances) / cpuBare).toFixed(2)}x`,
        `  memory of a replay alone: ${JSON.stringify(mem)}`,
      ].join('\n'),
    );
  }
  if (memory.length >= 2) {
    const [small, large] = [memory[0]!, memory.at(-1)!];
    console.log(
      `peak RSS ${small.size}: ${small.peakRssMb.toFixed(1)} MB, ${large.size}: ${large.peakRssMb.toFixed(1)} MB: ` +
        `+${((large.peakRssMb / small.peakRssMb - 1) * 100).toFixed(1)}% (target within 20%)`,
    );
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
