import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '@partner-ledger/events';
import { verifyStore } from '@partner-ledger/store';
import { StoreLockedError } from './errors';
import { openFileStore } from './store';
import { childEnvironment, compileForChildProcess } from './testing/compile';

/**
 * Crash safety: a child process appends from several concurrent writers and prints each acknowledged
 * event id; we SIGKILL it at a seeded random moment, reopen the ledger (recovery runs) and check that every
 * acknowledged event is there, intact, in order, and that the hash chains verify. The same ledger grows
 * across rounds, so later rounds recover a ledger that earlier kills left behind, over many segments.
 */
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 50);
const SEED = Number(process.env.CRASH_SEED ?? 20261120);

const seededRandom = (seed: number) => {
  let state = seed >>> 0;
  return (below: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % below;
  };
};

interface Round {
  readonly acknowledged: string[];
  readonly stderr: string;
  readonly signal: NodeJS.Signals | null;
}

const runAndKill = (script: string, directory: string, round: number, writers: number, killAfterMs: number) =>
  new Promise<Round>((resolve, reject) => {
    const child = spawn(process.execPath, [script, directory, String(round), String(writers)], {
      env: childEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (timer === undefined && (stdout + chunk).includes('ready')) {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    // 'close': the process is gone (and reaped, so its pid reads as dead) and its pipes are drained.
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n');
      lines.pop(); // a line cut short by the kill was never fully printed, so never counted as acknowledged
      resolve({ acknowledged: lines.filter((line) => !line.startsWith('ready')), stderr, signal });
    });
  });

describe('crash safety (SIGKILL during appends)', () => {
  let work: string;
  let directory: string;
  let script: string;
  const random = seededRandom(SEED);
  const everAcknowledged: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pl-crash-'));
    directory = join(work, 'ledger');
    compileForChildProcess(join(work, 'build'));
    script = join(work, 'build', 'store-file', 'testing', 'crash-child.js');
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  afterAll(() => {
    // Not vacuous: the kills landed while appends were being acknowledged.
    expect(everAcknowledged.length).toBeGreaterThanOrEqual(ROUNDS * 5);
  });

  it('while a writer process runs: another writer is refused naming it, readers see what it acknowledged', async () => {
    const shared = join(work, 'live');
    const child = spawn(process.execPath, [script, shared, '9999', '4'], {
      env: childEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const exited = new Promise((resolve) => child.on('close', resolve));
    try {
      const waitUntil = Date.now() + 20_000;
      while (stdout.split('\n').length < 50) {
        if (child.exitCode !== null || Date.now() > waitUntil)
          throw new Error(`the writer process stopped early: ${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const error: unknown = await openFileStore({ directory: shared }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreLockedError);
      expect(error).toMatchObject({ holder: { pid: child.pid } });
      expect((error as Error).message).toContain(`pid ${child.pid}`);
      const acknowledged = stdout.split('\n').slice(1, -1);
      const reader = await openFileStore({ directory: shared, readOnly: true });
      try {
        const ids = new Set<string>();
        for await (const event of reader.readAll()) ids.add(event.id);
        expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
        expect((await verifyStore(reader)).ok).toBe(true);
      } finally {
        await reader.close();
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });

  for (let round = 0; round < ROUNDS; round++) {
    it(`round ${round} (seed ${SEED}): every acknowledged event survives, in order, and the chains verify`, async () => {
      const writers = [1, 3, 8, 24, 48][random(5)]!; // 24 and 48 exercise the pipelined group commit
      const killAfterMs = random(120);
      const result = await runAndKill(script, directory, round, writers, killAfterMs);
      expect(result.stderr).toBe('');
      expect(result.signal).toBe('SIGKILL');
      everAcknowledged.push(...result.acknowledged);

      const store = await openFileStore({ directory });
      try {
        const events: RecordedEvent[] = [];
        for await (const event of store.readAll()) events.push(event);
        const positionOf = new Map(events.map((event) => [event.id, event.position]));
        const missing = everAcknowledged.filter((id) => !positionOf.has(id));
        expect(missing).toEqual([]);
        // In order: each writer's acknowledged appends sit in the order they were acknowledged.
        const lastOfWriter = new Map<string, number>();
        for (const id of result.acknowledged) {
          const writer = id.slice(0, id.lastIndexOf('-'));
          const position = positionOf.get(id)!;
          expect(position).toBeGreaterThan(lastOfWriter.get(writer) ?? -1);
          lastOfWriter.set(writer, position);
        }
        // A two-event append is all there or not at all.
        for (const event of events) {
          if (event.id.endsWith('-b')) expect(positionOf.get(event.id.slice(0, -2))).toBe(event.position - 1);
          else if ((event.data as { n: number }).n % 5 === 0 && !event.stream.startsWith('shared'))
            expect(positionOf.get(`${event.id}-b`)).toBe(event.position + 1);
        }
        expect(events.map((event) => event.position)).toEqual(events.map((_, i) => i));
        const report = await verifyStore(store);
        expect(report).toMatchObject({ ok: true, eventsChecked: events.length });
        if (store.openReport.tornTail !== null) {
          expect(store.openReport.tornTail.bytesDropped).toBeGreaterThan(0);
        }
      } finally {
        await store.close();
      }
    });
  }
});
