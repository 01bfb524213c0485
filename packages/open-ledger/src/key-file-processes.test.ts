import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import { createKeyFile, openKeyFile } from './key-file';

// Several processes with one key file open (the CLI and services on one host): real separate processes,
// each opening the file, saying `ready`, and starting at once when told `go` on its stdin, so that their
// writes interleave. The key file's code is transpiled for them to plain CommonJS (fast to start); the
// events package it uses resolves to its build through the repository's node_modules.

const REPO = resolve(__dirname, '../../..');

const CHILD = `
const { appendsAfterKeys, openKeyFile } = require('./key-file.js');
const [mode, path, name, count] = process.argv.slice(2);
const b64 = (key) => Buffer.from(key).toString('base64');
const go = new Promise((resolve) => process.stdin.once('data', resolve));
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
(async () => {
  const out = {};
  const keys = await openKeyFile(path, { newKeys: mode === 'make-deferred' || mode === 'hold-and-make' || mode === 'race' ? 'beforeAppend' : 'immediately' });
  // hold-and-make holds the key about to be erased in memory, as a service that used it would.
  if (mode === 'hold-and-make' && (await keys.get(name)).state !== 'present') throw new Error('no key ' + name);
  process.stdout.write('ready\\n');
  await go;
  if (mode === 'make' || mode === 'make-deferred') {
    for (let i = 0; i < Number(count); i += 1) {
      const id = 'partner:' + name + '-' + i;
      out[id] = b64(await keys.getOrCreate(id));
      await keys.writeMadeKeys();
    }
  } else if (mode === 'hold-and-make') {
    for (let i = 0; i < Number(count); i += 1) {
      out['partner:m-' + i] = b64(await keys.getOrCreate('partner:m-' + i));
      await keys.writeMadeKeys();
      await pause(2);
    }
  } else if (mode === 'erase') {
    await pause(20);
    await keys.destroy(name, '2026-12-01T00:00:00.000Z');
  } else if (mode === 'race') {
    const store = appendsAfterKeys({ append: async () => ({ events: [] }) }, keys);
    const key = b64(await keys.getOrCreate('visitors'));
    try {
      await store.append('visitor-x', []);
      out.appended = key;
    } catch (error) {
      out.refused = error.name;
    }
  }
  process.stdout.write(JSON.stringify(out) + '\\n');
  process.exit(0);
})().catch((error) => {
  process.stderr.write(String(error && error.stack));
  process.exit(1);
});
`;

interface Child {
  readonly ready: Promise<void>;
  readonly go: () => void;
  readonly done: Promise<Record<string, string>>;
}

describe('a key file shared by several processes', () => {
  let root: string;
  let script: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-key-processes-'));
    const source = join(__dirname, 'key-file.ts');
    const output = ts.transpileModule(readFileSync(source, 'utf8'), {
      fileName: source,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
    });
    writeFileSync(join(root, 'key-file.js'), output.outputText);
    script = join(root, 'child.js');
    writeFileSync(script, CHILD);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const start = (...args: string[]): Child => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, NODE_PATH: join(REPO, 'node_modules') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sayReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      sayReady = resolve;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.startsWith('ready\n')) sayReady();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const done = new Promise<Record<string, string>>((resolve, reject) =>
      child.on('close', (code) => {
        sayReady();
        if (code !== 0) reject(new Error(`child ${args.join(' ')} exited ${code}: ${stderr}`));
        else resolve(JSON.parse(stdout.slice('ready\n'.length)) as Record<string, string>);
      }),
    );
    return { ready, go: () => child.stdin.end('go\n'), done };
  };
  /** Starts every child, waits until each has the file open, then lets them all go at once. */
  const runTogether = async (...children: string[][]) => {
    const started = children.map((args) => start(...args));
    await Promise.all(started.map((child) => child.ready));
    for (const child of started) child.go();
    return Promise.all(started.map((child) => child.done));
  };
  const fileOf = (path: string) =>
    JSON.parse(readFileSync(path, 'utf8')) as {
      keys: Record<string, string>;
      erased: Record<string, string>;
    };

  it('four processes making distinct keys at once, each write read-modify-write: the file has every key', async () => {
    for (let round = 0; round < 3; round += 1) {
      const path = join(root, `distinct-${round}.keys`);
      await createKeyFile(path);
      const outputs = await runTogether(
        ['make', path, `a${round}`, '30'],
        ['make', path, `b${round}`, '30'],
        ['make-deferred', path, `c${round}`, '30'],
        ['make-deferred', path, `d${round}`, '30'],
      );
      const made = Object.assign({}, ...outputs) as Record<string, string>;
      expect(Object.keys(made)).toHaveLength(120);
      expect(fileOf(path).keys).toEqual(made);
    }
  });

  it('an erasure made by one process while another, holding the key, makes keys: the key stays erased', async () => {
    for (let round = 0; round < 3; round += 1) {
      const path = join(root, `erase-${round}.keys`);
      await createKeyFile(path);
      await (await openKeyFile(path)).getOrCreate('partner:x');
      const [made] = await runTogether(
        ['hold-and-make', path, 'partner:x', '40'],
        ['erase', path, 'partner:x'],
      );
      const file = fileOf(path);
      expect(file.erased).toEqual({ 'partner:x': '2026-12-01T00:00:00.000Z' });
      expect(file.keys).toEqual(made);
      // And the process that held it learns of it at its next look at the file.
      expect(await (await openKeyFile(path)).get('partner:x')).toEqual({
        state: 'erased',
        erasedAt: '2026-12-01T00:00:00.000Z',
      });
    }
  });

  it('two processes racing to make the visitors key: one key in the end, no append with the other', async () => {
    let refusals = 0;
    for (let round = 0; round < 6; round += 1) {
      const path = join(root, `race-${round}.keys`);
      await createKeyFile(path);
      const outputs = await runTogether(['race', path], ['race', path]);
      const key = fileOf(path).keys['visitors'];
      expect(key).toBeDefined();
      for (const output of outputs)
        expect(output).toEqual(
          output['refused'] === undefined ? { appended: key } : { refused: 'KeyFileConflictError' },
        );
      expect(outputs.filter((output) => output['appended'] !== undefined).length).toBeGreaterThanOrEqual(1);
      refusals += outputs.filter((output) => output['refused'] !== undefined).length;
    }
    // Reported, not required: how often the loser had already made its key (the other way, it read the
    // winner's before making one).
    process.stdout.write(`visitors key races: ${refusals} refused append(s) in 6 rounds\n`);
  });
});
