import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { openFileStore as OpenFileStore } from '../store';
import { benchEvent } from './events';

/**
 * Two builds of the file store's append path side by side in one process (not a test):
 * `node packages/store-file/dist/bench/append-ab.js` after `npm run build`.
 *
 * 64 writers (BENCH_WRITERS) append single events, prebuilt as in run.js, to a store of build A and to a
 * store of build B, in slices of BENCH_AB_EVENTS events (default 20,000) that alternate A, B, B, A, ...
 * for BENCH_AB_ROUNDS rounds (default 10; the first round warms up and is not counted). Printed per
 * build: the CPU time of the main thread per event (Linux: /proc/self/task/<pid>/schedstat, which counts
 * only the time the thread ran, so other work on the machine disturbs it far less than wall time), the
 * process's CPU per event (all threads: garbage collector helpers and libuv's thread pool included) and
 * the rate. Alternating slices in one process is what lets two builds be compared on a machine shared with
 * other work: a wall-clock rate measured a minute apart drifts by more than the differences sought.
 *
 * BENCH_AB_A and BENCH_AB_B: the `dist` directories of the two builds (default: this build for both; for
 * an earlier commit, copy its built packages/store-file/dist somewhere and run with NODE_PATH pointing at
 * this repository's node_modules so that it finds its dependencies). BENCH_DIR: where the two ledgers go
 * (default the OS temp directory; /dev/shm makes the disk free, so that only the CPU counts).
 */
const A = process.env.BENCH_AB_A ?? join(__dirname, '..');
const B = process.env.BENCH_AB_B ?? join(__dirname, '..');
const SLICE = Number(process.env.BENCH_AB_EVENTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 10);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 64);
const base = process.env.BENCH_DIR ?? tmpdir();

setFlagsFromString('--expose-gc');
/** A full collection before each slice, so that the pool just built is not copied during the slice (see run.js). */
const collectGarbage = runInNewContext('gc') as () => void;

/** Nanoseconds the main thread has run, or undefined where /proc does not say (not Linux). */
const mainThreadNanos = (): number | undefined => {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
};

interface Build {
  readonly name: string;
  readonly directory: string;
  readonly store: Awaited<ReturnType<typeof OpenFileStore>>;
  next: number;
  events: number;
  seconds: number;
  processCpu: number;
  mainCpu: number;
  readonly mainPerSlice: string[];
}

const main = async (): Promise<void> => {
  console.log(
    `# file store appends, build A against build B (node ${process.version}, ${new Date().toISOString()}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
  console.log(
    `A: ${A}\nB: ${B}\n${WRITERS} writers, slices of ${SLICE} events, ${ROUNDS} rounds, ledgers in ${base}`,
  );
  const builds: Build[] = [];
  for (const [name, dist] of [
    ['A', A],
    ['B', B],
  ] as const) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { openFileStore } = require(join(dist, 'store.js')) as { openFileStore: typeof OpenFileStore };
    const directory = mkdtempSync(join(base, `pl-append-ab-${name}-`));
    builds.push({
      name,
      directory,
      store: await openFileStore({ directory }),
      next: 0,
      events: 0,
      seconds: 0,
      processCpu: 0,
      mainCpu: 0,
      mainPerSlice: [],
    });
  }
  const streams = Array.from({ length: WRITERS }, (_, w) => `partner-${w}`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
      const first = build.next;
      const end = first + SLICE;
      // The builds' event ids differ (prefix), so that neither store sees the other's as a retry.
      const pool = Array.from({ length: SLICE }, (_, k) => benchEvent(first + k, `ab-${build.name}`));
      collectGarbage();
      const mainStarted = mainThreadNanos();
      const started = process.hrtime.bigint();
      const cpuStarted = process.cpuUsage();
      await Promise.all(
        streams.map(async (stream) => {
          while (build.next < end) {
            const i = build.next++;
            await build.store.append(stream, [pool[i - first]!]);
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = process.cpuUsage(cpuStarted);
      const mainEnded = mainThreadNanos();
      const mainNanos = mainStarted === undefined || mainEnded === undefined ? NaN : mainEnded - mainStarted;
      if (round === 0) continue; // warm-up
      build.events += SLICE;
      build.seconds += seconds;
      build.processCpu += cpu.user + cpu.system;
      build.mainCpu += mainNanos / 1000;
      build.mainPerSlice.push((mainNanos / 1000 / SLICE).toFixed(1));
    }
  }
  console.log('build | main thread CPU us per event (each slice) | process CPU us per event | events/s');
  for (const build of builds) {
    console.log(
      `${build.name} | ${(build.mainCpu / build.events).toFixed(2)} (${build.mainPerSlice.join(', ')}) | ${(build.processCpu / build.events).toFixed(2)} | ${Math.round(build.events / build.seconds).toLocaleString('en-US')}`,
    );
    await build.store.close();
    rmSync(build.directory, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
