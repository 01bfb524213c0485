/**
 * The writer lock across real processes: many processes race to take over one stale lock, many times, and
 * every time exactly one of them holds it. The children run the lock module itself (lock.ts, with the
 * lock-file module it uses and the error classes it throws), compiled to CommonJS for them by the TypeScript compiler.
 */
import { fork, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { promises as fs, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { openFileStore } from './store';

const PROCESSES = Number(process.env.LOCK_RACE_PROCESSES ?? 5);
const TRIALS = Number(process.env.LOCK_RACE_TRIALS ?? 6);

/** Compiles lock.ts, the lock-file module and the error classes it needs into `dir`, importable by a plain node process. */
const compileLockModule = (dir: string): string => {
  const compile = (source: string, target: string, rewrite: (js: string) => string = (js) => js): void => {
    const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(dir, target), rewrite(outputText));
  };
  compile(join(__dirname, '../../store/src/errors.ts'), 'store-errors.js');
  compile(join(__dirname, 'errors.ts'), 'errors.js', (js) =>
    js.replace(/require\("@partner-ledger\/store"\)/g, 'require("./store-errors")'),
  );
  compile(join(__dirname, 'lock-file.ts'), 'lock-file.js');
  compile(join(__dirname, 'lock.ts'), 'lock.js');
  const child = join(dir, 'child.js');
  writeFileSync(
    child,
    `const { acquireWriterLock } = require('./lock');
process.on('message', (message) => {
  if (message.kind === 'exit') process.exit(0);
  acquireWriterLock(message.directory, () => new Date()).then(
    () => process.send({ kind: 'won' }),
    (error) => process.send({ kind: error.code === 'STORE_LOCKED' ? 'locked' : 'failed', message: String(error) }),
  );
});
process.send({ kind: 'ready' });
`,
  );
  return child;
};

const nextMessage = (child: ChildProcess): Promise<{ kind: string; message?: string }> =>
  new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as { kind: string }));
    child.once('error', reject);
  });

describe('the writer lock across processes', () => {
  let work: string;
  let childScript: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'partner-ledger-lock-race-'));
    childScript = compileLockModule(work);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(`${PROCESSES} processes taking over one stale lock together: exactly one holds it, ${TRIALS} times`, async () => {
    const winners: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const directory = join(work, `ledger-${trial}`);
      await fs.mkdir(directory);
      // A lock left by a process that is gone.
      const gone = spawnSync(process.execPath, ['-e', '0']).pid;
      await fs.writeFile(
        join(directory, 'LOCK'),
        JSON.stringify({ pid: gone, hostname: hostname(), since: '2026-01-01T00:00:00.000Z' }),
      );
      const children = Array.from({ length: PROCESSES }, () => fork(childScript, [], { stdio: 'ignore' }));
      try {
        await Promise.all(children.map(nextMessage)); // all ready: then they start together
        const answers = children.map(nextMessage);
        for (const child of children) child.send({ kind: 'go', directory });
        const outcomes = await Promise.all(answers);
        expect(outcomes.filter((o) => o.kind === 'failed')).toEqual([]);
        const won = children.filter((_, i) => outcomes[i]!.kind === 'won');
        winners.push(won.length);
        expect({ trial, holders: won.map((child) => child.pid) }).toEqual({
          trial,
          holders: [expect.any(Number)],
        });
        // And the lock file names that one.
        const holder = JSON.parse(await fs.readFile(join(directory, 'LOCK'), 'utf8')) as { pid: number };
        expect(holder.pid).toBe(won[0]!.pid);
      } finally {
        for (const child of children) if (child.connected) child.send({ kind: 'exit' });
        await Promise.all(
          children.map((child) =>
            child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)),
          ),
        );
      }
    }
    console.log(
      `lock race: ${TRIALS} trials x ${PROCESSES} processes over a stale lock; holders per trial: ${winners.join(',')}`,
    );
    expect(winners.every((count) => count === 1)).toBe(true);
  }, 600_000);

  it('a reader never blocks a writer: a writer opens while a read-only store is open', async () => {
    const directory = join(work, 'reader-and-writer');
    const first = await openFileStore({ directory });
    await first.close();
    const reader = await openFileStore({ directory, readOnly: true });
    try {
      const writer = await openFileStore({ directory });
      await writer.close();
    } finally {
      await reader.close();
    }
  });
});
