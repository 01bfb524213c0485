import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { openLedger } from '@partner-ledger/open-ledger';
import { createDirectoryShelf } from '@partner-ledger/projections';
import type { EventStore } from '@partner-ledger/store';
import { openFileStore } from '@partner-ledger/store-file';
import { runCli } from '../cli';
import type { CliIo } from '../io';
import { runReport } from '../report/run-report';

// Benchmark: `report balances` re-run on a ledger that grew by a few events since the last report, resuming
// from the checkpoint that report wrote, against the bare cost of what it cannot avoid: reading and parsing
// the checkpoint file, and reading the new events. Both in the same open store (opening costs the same with
// or without checkpoints), in one process, alternating, best of ROUNDS each (wall and CPU time apart), so
// that the ratio holds on a shared machine. Also prints the first report's cost with checkpoint writes
// against without.
//
//   node packages/cli/dist/bench/report-resume-bench.js [EVENTS] [ADDED] [ROUNDS]
//
// EVENTS (default 1000000) are simulated once by `partner-ledger simulate --partners 2000 --days 365` into
// $TMPDIR/partner-ledger-resume-bench-EVENTS/base and copied for each run; ADDED (default 1000) clicks are then
// tracked through the ledger API, after a first report that wrote the checkpoints.

const events = Number(process.argv[2] ?? 1_000_000);
const added = Number(process.argv[3] ?? 1_000);
const rounds = Number(process.argv[4] ?? 5);
const root = join(tmpdir(), `partner-ledger-resume-bench-${events}`);
const base = join(root, 'base');
const ledger = join(root, 'ledger');
const checkpoints = `${ledger}.checkpoints`;
const bin = join(__dirname, '..', 'bin.js');

const io = (): CliIo & { out: () => string; err: () => string } => {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const stderr = new PassThrough();
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  return {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env: {},
    cwd: root,
    now: () => new Date(),
    out: () => out,
    err: () => err,
  };
};

const seconds = (start: number): number => (performance.now() - start) / 1000;

/** The process's CPU time (user + system) since `start`, in seconds. */
const cpuSeconds = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

const report = async (...extra: string[]): Promise<{ seconds: number; stdout: string; stderr: string }> => {
  const streams = io();
  const start = performance.now();
  const code = await runCli(['report', 'balances', '--format', 'json', '--store', ledger, ...extra], streams);
  const took = seconds(start);
  if (code !== 0) throw new Error(`report exited ${code}: ${streams.err()}`);
  return { seconds: took, stdout: streams.out(), stderr: streams.err() };
};

/** The latest checkpoint file of the shelf (the only set a balances report writes here). */
const latestCheckpoint = (): string => {
  const [set, ...others] = readdirSync(checkpoints);
  if (set === undefined || others.length > 0)
    throw new Error(`expected one checkpoint set in ${checkpoints}`);
  const files = readdirSync(join(checkpoints, set)).filter((name) => name.endsWith('.checkpoint'));
  return join(checkpoints, set, files.sort().pop()!);
};

/** The floor, in the open store: read and parse the checkpoint, read the events after it. */
const bare = async (store: EventStore): Promise<{ seconds: number; cpu: number }> => {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const text = readFileSync(latestCheckpoint(), 'utf8');
  const end = text.indexOf('\n');
  const header = JSON.parse(text.slice(0, end)) as { position: number };
  JSON.parse(text.slice(end + 1));
  let read = 0;
  for await (const event of store.readAll({ fromPosition: header.position + 1 })) read += event.position & 1;
  void read;
  return { seconds: seconds(start), cpu: cpuSeconds(cpu) };
};

/** What `report balances --format json` does once the store is open: resume, read on, print. */
const resumedReport = async (
  store: EventStore,
): Promise<{ seconds: number; cpu: number; stdout: string }> => {
  const notices: string[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  const report = await runReport(store, 'balances', {
    checkpoints: { shelf: createDirectoryShelf(checkpoints), onNotice: (message) => notices.push(message) },
  });
  const stdout = `${JSON.stringify(report.json, null, 2)}\n`;
  const took = seconds(start);
  const cpuTook = cpuSeconds(cpu);
  if (notices.length > 0) throw new Error(`the report ignored a checkpoint: ${notices.join('; ')}`);
  return { seconds: took, cpu: cpuTook, stdout };
};

const best = (values: readonly number[]): number => Math.min(...values);

const main = async (): Promise<void> => {
  if (!existsSync(base)) {
    console.log(`simulating ${events} events into ${base} (once)...`);
    const run = spawnSync(
      process.execPath,
      [bin, 'simulate', '--events', String(events), '--partners', '2000', '--days', '365', '--store', base],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (run.status !== 0) throw new Error('simulate failed');
  }
  rmSync(ledger, { recursive: true, force: true });
  rmSync(checkpoints, { recursive: true, force: true });
  cpSync(base, ledger, { recursive: true });

  // The first report of the ledger: a full replay that writes the checkpoints, against one that writes none.
  const plainFirst = await report('--no-checkpoint');
  const first = await report();
  console.log(
    `first report (the command, store open included): ${first.seconds.toFixed(2)} s writing checkpoints, ` +
      `${plainFirst.seconds.toFixed(2)} s without (${(first.seconds / plainFirst.seconds).toFixed(2)}x); ` +
      `checkpoint ${latestCheckpoint()} (${statSync(latestCheckpoint()).size} bytes)`,
  );
  if (first.stdout !== plainFirst.stdout) throw new Error('the reports differ with and without checkpoints');

  // The ledger grows by ADDED events.
  const opened = await openLedger({ store: ledger });
  let partnerId: string | undefined;
  for await (const event of opened.store.readAll())
    if (event.type === 'PartnerJoined') {
      partnerId = (event.data as { partnerId: string }).partnerId;
      break;
    }
  for (let i = 0; i < added; i += 1) {
    const result = await opened.trackClick({
      clickId: `bench-click-${i}`,
      partnerId: partnerId!,
      visitorId: `bench-visitor-${i}`,
    })();
    if (result._tag === 'Left') throw new Error(`trackClick: ${JSON.stringify(result.left)}`);
  }
  await opened.close();

  // Both sides in the same open store: opening a file ledger (its index) costs the same with or without
  // checkpoints, and on a loaded machine its noise would hide what is compared.
  const openStart = performance.now();
  const store = await openFileStore({ directory: ledger, readOnly: true });
  const openSeconds = seconds(openStart);
  const resumed: number[] = [];
  const floor: number[] = [];
  const resumedCpu: number[] = [];
  const floorCpu: number[] = [];
  let output = '';
  for (let round = 0; round < rounds; round += 1) {
    const base = await bare(store);
    floor.push(base.seconds);
    floorCpu.push(base.cpu);
    const again = await resumedReport(store);
    resumed.push(again.seconds);
    resumedCpu.push(again.cpu);
    output = again.stdout;
  }
  await store.close();
  const full = await report('--no-checkpoint');
  if (full.stdout !== output) throw new Error('the resumed report differs from the full replay');
  const [r, f] = [best(resumed), best(floor)];
  const [rc, fc] = [best(resumedCpu), best(floorCpu)];
  console.log(
    JSON.stringify({
      events,
      added,
      rounds,
      resumed,
      floor,
      resumedCpu,
      floorCpu,
      openSeconds,
      fullCommandSeconds: full.seconds,
      ratio: r / f,
      cpuRatio: rc / fc,
    }),
  );
  console.log(
    `report balances after ${added} new events, store open: ${r.toFixed(3)} s resumed; floor (read and parse ` +
      `the checkpoint, read the ${added} events) ${f.toFixed(3)} s: ${(r / f).toFixed(2)}x; CPU time ${rc.toFixed(3)} s ` +
      `against ${fc.toFixed(3)} s: ${(rc / fc).toFixed(2)}x. Opening the ledger: ` +
      `${openSeconds.toFixed(2)} s; the whole command with --no-checkpoint: ${full.seconds.toFixed(2)} s`,
  );
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
