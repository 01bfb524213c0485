import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '@partner-ledger/events';
import { verifyStore } from '@partner-ledger/store';
import { createPostgresStore } from './store';
import { childEnvironment, compileForChildProcess } from './testing/compile';
import { dropSchema, testDatabaseUrl, uniqueSchema } from './testing/database';

/**
 * Several writer PROCESSES on one database, each with concurrent writers; some are killed with SIGKILL in
 * the middle of their transactions. Afterwards every acknowledged event is stored exactly once, no append
 * is partly stored (its three events are all there or none), positions are dense, and verify is ok.
 */
const SEED = Number(process.env.PG_PROCESS_SEED ?? 20261204);

const seededRandom = (seed: number) => {
  let state = seed >>> 0;
  return (below: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % below;
  };
};

interface Outcome {
  readonly acknowledged: string[];
  readonly finished: boolean;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

const url = testDatabaseUrl();
let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'pl-pg-children-'));
  compileForChildProcess(outDir, ['events', 'store', 'store-postgres']);
});
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

const runWriter = (schema: string, name: string, killAfterMs: number | undefined) =>
  new Promise<Outcome>((resolve, reject) => {
    const script = join(outDir, 'store-postgres', 'testing', 'writer-child.js');
    // A writer to be killed has more appends than it could make before its kill (the store got fast
    // enough to finish 4 x 30 within the 0.3 to 1.5 s a kill waits), so that the kill lands mid-append.
    const appends = killAfterMs === undefined ? '30' : '100000';
    const child = spawn(process.execPath, [script, url, schema, name, '4', appends], {
      env: childEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (killAfterMs !== undefined && timer === undefined && (stdout + chunk).includes('ready')) {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n');
      lines.pop(); // a line cut short by the kill was never fully printed: not counted as acknowledged
      resolve({
        acknowledged: lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4)),
        finished: lines.includes('done'),
        signal,
        stderr,
      });
    });
  });

it('four writer processes, three of them killed mid-transaction: every acknowledged event once, no partial append, verify ok', async () => {
  const schema = uniqueSchema('procs');
  const random = seededRandom(SEED);
  try {
    // The schema exists before the processes start, so that the kills land in appends, not migrations.
    await (await createPostgresStore({ connectionString: url, schema })).close();
    const outcomes = await Promise.all(
      ['p0', 'p1', 'p2', 'p3'].map((name, i) =>
        runWriter(schema, name, i === 0 ? undefined : 300 + random(1200)),
      ),
    );
    const survivor = outcomes[0] as Outcome;
    expect(survivor.stderr).toBe('');
    expect(survivor.finished).toBe(true);
    expect(outcomes.slice(1).every((o) => o.signal === 'SIGKILL' && !o.finished)).toBe(true);
    // A new instance seals whatever a killed writer committed but did not seal.
    const store = await createPostgresStore({ connectionString: url, schema });
    try {
      const all: RecordedEvent[] = [];
      for await (const event of store.readAll()) all.push(event);
      const ids = all.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(all.map((e) => e.position)).toEqual(ids.map((_, i) => i));
      const stored = new Set(ids);
      const acknowledged = outcomes.flatMap((o) => o.acknowledged);
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
      expect(acknowledged.length).toBeGreaterThan(100);
      // All three events of an append, consecutive, or none of them.
      for (let i = 0; i < all.length; i += 3) {
        const prefix = all[i]?.id.replace(/-a$/, '');
        expect(all.slice(i, i + 3).map((e) => e.id)).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
      }
      const report = await verifyStore(store);
      expect(report).toMatchObject({ ok: true, eventsChecked: all.length });
    } finally {
      await store.close();
    }
  } finally {
    await dropSchema(url, schema);
  }
});
