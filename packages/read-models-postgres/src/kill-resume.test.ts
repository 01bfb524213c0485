import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { historyArbitrary, simulate } from '@partner-ledger/projections/testing';
import { createPostgresStore } from '@partner-ledger/store-postgres';
import type { PostgresEventStore } from '@partner-ledger/store-postgres';
import {
  childEnvironment,
  compileForChildProcess,
  dropSchema,
  testDatabaseUrl,
  uniqueSchema,
} from '@partner-ledger/store-postgres/testing';
import { Pool } from 'pg';
import { startProjector } from './projector';
import { readTables } from './testing/tables';

/**
 * Exactly-once effect: a projector process killed with SIGKILL at seeded random moments, and started again
 * each time, ends with the tables of a clean run.
 */
const SEED = Number(process.env.READ_MODELS_KILL_SEED ?? 20261205);
const KILLS = Number(process.env.READ_MODELS_KILLS ?? 12);

const seededRandom = (seed: number) => {
  let state = seed >>> 0;
  return (below: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % below;
  };
};

const url = testDatabaseUrl();
let outDir: string;
let pool: Pool;
let source: PostgresEventStore;
const sourceSchema = uniqueSchema('rmsrc');
const schemas: string[] = [];

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'pl-rm-children-'));
  compileForChildProcess(outDir, [
    'events',
    'store',
    'store-postgres',
    'projections',
    'read-models-postgres',
  ]);
  pool = new Pool({ connectionString: url, max: 3 });
  source = await createPostgresStore({ connectionString: url, schema: sourceSchema });
  const events = simulate(fc.sample(historyArbitrary(400), { seed: SEED, numRuns: 1 })[0]!);
  for (const { stream, event } of events) await source.append(stream, [event]);
});
afterAll(async () => {
  await source.close();
  for (const schema of schemas) {
    await dropSchema(url, schema);
    for (let g = 1; g <= 3; g += 1) await dropSchema(url, `${schema}_g${g}`);
  }
  await dropSchema(url, sourceSchema);
  await pool.end();
  await rm(outDir, { recursive: true, force: true });
});

interface Outcome {
  readonly batches: number;
  readonly finished: boolean;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

const runChild = (schema: string, batchSize: number, killAfterMs: number | undefined) =>
  new Promise<Outcome>((resolve, reject) => {
    const script = join(outDir, 'read-models-postgres', 'testing', 'projector-child.js');
    const child = spawn(process.execPath, [script, url, sourceSchema, schema, String(batchSize)], {
      env: childEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // Killed only once it is projecting: the moment is counted from its first commit.
      if (killAfterMs !== undefined && timer === undefined && stdout.includes('batch '))
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({
        batches: stdout.split('\n').filter((line) => line.startsWith('batch ')).length,
        finished: stdout.includes('done\n'),
        signal,
        stderr,
      });
    });
  });

it(`ends with the tables of a clean run after ${KILLS} SIGKILLs at random moments`, async () => {
  const clean = uniqueSchema('rmclean');
  const killed = uniqueSchema('rmkill');
  schemas.push(clean, killed);
  await startProjector({ source, pool, schema: clean, exitWhenCaughtUp: true }).done;
  const expected = await readTables(pool, clean);
  expect(expected.commission_lines!.length).toBeGreaterThan(0);

  const random = seededRandom(SEED);
  let interrupted = 0;
  for (let i = 0; i < KILLS; i += 1) {
    const outcome = await runChild(killed, 3 + random(8), random(400));
    expect(outcome.stderr).toBe('');
    if (outcome.signal === 'SIGKILL' && !outcome.finished) interrupted += 1;
    // Once caught up the child exits; start again from the last commit.
    if (outcome.finished) break;
  }
  const last = await runChild(killed, 5, undefined);
  expect(last).toMatchObject({ finished: true, stderr: '' });
  process.stderr.write(`kill-resume: ${interrupted} projector processes killed mid-run\n`);
  expect(interrupted).toBeGreaterThan(0);
  expect(await readTables(pool, killed)).toEqual(expected);
  // The state was resumed from parts, not from one document: the history is large enough to be split.
  const parts = await pool.query(`SELECT count(*)::int AS n FROM ${killed}_g1.projector_state`);
  expect(parts.rows[0].n).toBeGreaterThan(1);
}, 300_000);
