import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import { pseudonymOf } from '@partner-ledger/events';
import { verifyStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { openFileStore } from '@partner-ledger/store-file';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { KeyFileConflictError, appendsAfterKeys, createKeyFile, openKeyFile } from './key-file';
import { openLedger } from './open-ledger';

// A key file opened for a ledger (newKeys: 'beforeAppend') writes a key it makes before the next append,
// not when it is made: a command refused before appending leaves the file untouched, and an event is never
// acknowledged while its key could still be lost. These tests watch the file itself: every write renames a
// new file into place, so its bytes and modification time tell whether it was written.

describe('a key file that writes new keys before appends', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-key-file-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const fileNow = (path: string) => ({ bytes: readFileSync(path), modified: statSync(path).mtimeMs });
  const keysIn = (path: string): string[] =>
    Object.keys((JSON.parse(readFileSync(path, 'utf8')) as { keys: object }).keys).sort();
  /** Waits long enough for a rewritten file to show another modification time on any file system. */
  const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('keeps a key made in memory until writeMadeKeys; discarding it first writes nothing', async () => {
    const path = join(root, 'a.keys');
    await createKeyFile(path);
    const keys = await openKeyFile(path, { newKeys: 'beforeAppend' });
    const empty = fileNow(path);
    await tick();
    const key = await keys.getOrCreate('visitors');
    expect(await keys.getOrCreate('visitors')).toEqual(key);
    expect(fileNow(path)).toEqual(empty);
    await keys.discard!('visitors', key);
    expect(fileNow(path)).toEqual(empty);
    await keys.writeMadeKeys();
    expect(fileNow(path)).toEqual(empty); // nothing to write

    // Made and written (an append needed it): a discard after that writes the file again without it.
    const kept = await keys.getOrCreate('partner:a');
    const made = await keys.getOrCreate('visitors');
    await keys.writeMadeKeys();
    expect(keysIn(path)).toEqual(['partner:a', 'visitors']);
    await keys.discard!('visitors', made);
    expect(keysIn(path)).toEqual(['partner:a']);
    const reopened = await openKeyFile(path);
    expect(await reopened.get('partner:a')).toEqual({ state: 'present', key: kept });
    expect(await reopened.get('visitors')).toEqual({ state: 'missing' });
  });

  it('writes an erasure at once, and by default a key made at once', async () => {
    const path = join(root, 'b.keys');
    await createKeyFile(path);
    const deferred = await openKeyFile(path, { newKeys: 'beforeAppend' });
    await deferred.getOrCreate('partner:a');
    await deferred.destroy('partner:b', '2026-12-01T00:00:00.000Z');
    // The whole state is written: the key made before the erasure too.
    expect(keysIn(path)).toEqual(['partner:a']);
    const atOnce = await openKeyFile(path);
    await atOnce.getOrCreate('partner:c');
    expect(keysIn(path)).toEqual(['partner:a', 'partner:c']);
  });

  it('an append waits for the keys made before it, and one under way', async () => {
    const path = join(root, 'c.keys');
    await createKeyFile(path);
    const keys = await openKeyFile(path, { newKeys: 'beforeAppend' });
    const seen: string[][] = [];
    const inner = { append: async () => seen.push(keysIn(path)) } as unknown as EventStore;
    const store = appendsAfterKeys(inner, keys);
    await keys.getOrCreate('partner:a');
    // Two appends at once: the second finds nothing left to write, but must still wait for the first's write.
    await Promise.all([store.append('s', []), store.append('t', [])]);
    expect(seen).toEqual([['partner:a'], ['partner:a']]);
  });

  it('a key one caller is making is in the file before another caller`s append that found it made', async () => {
    const path = join(root, 'd.keys');
    await createKeyFile(path);
    const keys = await openKeyFile(path, { newKeys: 'beforeAppend' });
    const inner = { append: async () => keysIn(path) } as unknown as EventStore;
    const store = appendsAfterKeys(inner, keys);
    // The second caller starts some turns of the microtask queue after the first one: at some of them it
    // finds the key already made (and seals with it) while the first caller has not yet come back.
    for (let turns = 0; turns < 24; turns += 1) {
      const keyId = `partner:${turns}`;
      const first = keys.getOrCreate(keyId);
      for (let i = 0; i < turns; i += 1) await Promise.resolve();
      const inFile = await keys.getOrCreate(keyId).then(() => store.append('s', []));
      expect([turns, inFile]).toEqual([turns, expect.arrayContaining([keyId])]);
      await first;
    }
  });

  const settings = {
    programId: 'p',
    name: 'P',
    currency: 'USD',
    attribution: {
      model: 'lastTouch' as const,
      clickWindowDays: 30,
      halfLifeDays: 7,
      precedence: ['clicks' as const],
    },
    minimumPayout: '10.00',
    minClickToConversionSeconds: 0,
  };
  const plan = {
    planId: 's',
    version: 1,
    name: 'S',
    currency: 'USD',
    holdDays: 0,
    effectiveFrom: '2025-01-01T00:00:00Z',
    rules: [{ kind: 'revenueShare' as const, rate: '0.1' }],
  };
  const ana = {
    partnerId: 'ana',
    name: 'Ana',
    partnerType: 'affiliate',
    planId: 's',
    payoutCurrency: 'USD',
  } as const;
  const click = { clickId: 'c-1', partnerId: 'ana', visitorId: 'v-1', occurredAt: '2025-02-01T00:00:00Z' };

  it('a fault between the key write and the append: the key is in the file, the event is not, and the next run records it', async () => {
    const directory = join(root, 'books');
    const path = `${directory}.keys`;
    await createKeyFile(path);
    const clock = () => new Date('2026-12-01T00:00:00Z');
    const files = await openFileStore({ directory });
    // The first click's and the partner's appends fail once (a crash there), after looking at the file.
    const keysAtAppend: Record<string, string[]> = {};
    const failing = new Set(['partner-ana', 'visitor-']);
    const faulty: EventStore = {
      ...files,
      append: async (stream, events, options) => {
        const prefix = [...failing].find((name) => stream.startsWith(name));
        if (prefix === undefined) return files.append(stream, events, options);
        failing.delete(prefix);
        keysAtAppend[prefix] = keysIn(path);
        throw new Error('injected fault');
      },
    };
    const first = await openLedger({ store: faulty, keys: path, cwd: root, clock });
    expect(E.isRight(await first.configureProgram(settings)())).toBe(true);
    expect(E.isRight(await first.publishPlan(plan)())).toBe(true);
    await expect(first.joinPartner(ana)()).rejects.toThrow('injected fault');
    expect(E.isRight(await first.joinPartner(ana)())).toBe(true);
    await expect(first.trackClick(click)()).rejects.toThrow('injected fault');
    // Each key was in the file when the append that needed it was made.
    expect(keysAtAppend).toEqual({ 'partner-ana': ['partner:ana'], 'visitor-': ['partner:ana', 'visitors'] });
    await files.close();

    // The next run: the key is there, no click is; the click is recorded under that very key.
    const key = (await (await openKeyFile(path)).get('visitors')) as { state: string; key: Uint8Array };
    expect(key.state).toBe('present');
    const pseudonym = pseudonymOf(key.key, 'v-1');
    const reopened = await openFileStore({ directory });
    const stored: string[] = [];
    for await (const event of reopened.readStream(`visitor-${pseudonym}`)) stored.push(event.type);
    expect(stored).toEqual([]);
    const next = await openLedger({ store: reopened, keys: path, cwd: root, clock });
    await expect(next.trackClick(click)()).resolves.toMatchObject({
      right: { stream: `visitor-${pseudonym}`, alreadyRecorded: false },
    });
    expect(keysIn(path)).toEqual(['partner:ana', 'visitors']);
    expect((await verifyStore(reopened)).ok).toBe(true);
    await reopened.close();
  });
});

describe('a key file opened twice (two processes, as far as the file can tell)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-key-file-twice-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('the same id made by both: the file`s key wins, and the loser appends nothing from then on', async () => {
    const path = join(root, 'a.keys');
    await createKeyFile(path);
    const a = await openKeyFile(path, { newKeys: 'beforeAppend' });
    const b = await openKeyFile(path, { newKeys: 'beforeAppend' });
    const won = await a.getOrCreate('visitors');
    const lost = await b.getOrCreate('visitors');
    expect(Buffer.from(lost).equals(Buffer.from(won))).toBe(false);
    await a.writeMadeKeys();
    const appended: string[] = [];
    const inner = { append: async (stream: string) => appended.push(stream) } as unknown as EventStore;
    const store = appendsAfterKeys(inner, b);
    await expect(store.append('visitor-lost', [])).rejects.toThrow(KeyFileConflictError);
    await expect(store.append('visitor-later', [])).rejects.toThrow('"visitors"');
    expect(appended).toEqual([]);
    expect(await b.get('visitors')).toEqual({ state: 'present', key: won });
    expect(await (await openKeyFile(path)).get('visitors')).toEqual({ state: 'present', key: won });
  });

  it('an id not known yet is looked up in the file again; a key erased elsewhere is never written back', async () => {
    const path = join(root, 'b.keys');
    await createKeyFile(path);
    const a = await openKeyFile(path, { newKeys: 'beforeAppend' });
    const b = await openKeyFile(path);
    const x = await a.getOrCreate('partner:x');
    await a.writeMadeKeys();
    expect(await b.get('partner:x')).toEqual({ state: 'present', key: x });
    const z = await b.getOrCreate('partner:z');
    expect(await a.get('partner:z')).toEqual({ state: 'present', key: z });
    await b.destroy('partner:x', '2026-12-01T00:00:00.000Z');
    // a still holds partner:x in memory; its next write merges the file's erasure instead of undoing it.
    await a.getOrCreate('partner:y');
    await a.writeMadeKeys();
    const file = JSON.parse(readFileSync(path, 'utf8')) as { keys: object; erased: object };
    expect(Object.keys(file.keys).sort()).toEqual(['partner:y', 'partner:z']);
    expect(file.erased).toEqual({ 'partner:x': '2026-12-01T00:00:00.000Z' });
    expect(await a.get('partner:x')).toEqual({ state: 'erased', erasedAt: '2026-12-01T00:00:00.000Z' });
    // An erasure repeated later keeps the time first recorded.
    await a.destroy('partner:x', '2026-12-02T00:00:00.000Z');
    expect(await b.get('partner:x')).toEqual({ state: 'erased', erasedAt: '2026-12-01T00:00:00.000Z' });
  });

  it('an id the file lacks is read again only once the file has changed', async () => {
    const path = join(root, 'd.keys');
    await createKeyFile(path);
    const a = await openKeyFile(path);
    const b = await openKeyFile(path);
    // The module object key-file.ts calls readFile on (an `import * as` here would be a copy of it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fsPromises = require('node:fs/promises') as { readFile: (name: unknown) => unknown };
    const reads = jest.spyOn(fsPromises, 'readFile');
    try {
      const readsOfKeyFile = () => reads.mock.calls.filter(([name]) => name === path).length;
      expect(await a.get('partner:none')).toEqual({ state: 'missing' });
      expect(await a.get('partner:none')).toEqual({ state: 'missing' });
      expect(readsOfKeyFile()).toBe(1);
      const made = await b.getOrCreate('partner:none');
      const before = readsOfKeyFile();
      expect(await a.get('partner:none')).toEqual({ state: 'present', key: made });
      expect(readsOfKeyFile()).toBe(before + 1);
    } finally {
      reads.mockRestore();
    }
  });

  it('a lock left by a dead process is taken over; the lock is gone after each write', async () => {
    const path = join(root, 'c.keys');
    await createKeyFile(path);
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: dead, hostname: hostname(), nonce: 'crashed' }));
    const keys = await openKeyFile(path);
    await keys.getOrCreate('partner:a');
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(Object.keys((JSON.parse(readFileSync(path, 'utf8')) as { keys: object }).keys)).toEqual([
      'partner:a',
    ]);
  });
});
