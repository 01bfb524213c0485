import { spawnSync } from 'node:child_process';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockFileFormat, readLockHolder, takeLockFile } from './lock-file';

// The lock-file mechanism shared by the writer lock (lock.ts, and its race across processes in
// lock.test.ts) and open-ledger's key-file lock: what both rely on, tested once here.

const format = lockFileFormat('nonce');
const gonePid = (): number => spawnSync(process.execPath, ['-e', '0']).pid;

describe('lock files', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'partner-ledger-lock-file-'));
    file = join(dir, 'x.lock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const me = (nonce: string) => ({ pid: process.pid, hostname: hostname(), nonce });
  const options = (busy = async (): Promise<void> => undefined) => ({
    format,
    draft: join(dir, `draft-${Math.random()}.tmp`),
    busy,
  });

  it('reads a holder record of its format; a record missing the tag or with a field of another type names none', async () => {
    await fs.writeFile(file, JSON.stringify({ pid: 7, hostname: 'h', nonce: 'n' }));
    expect(await readLockHolder(file, format)).toEqual({ pid: 7, hostname: 'h', nonce: 'n' });
    await fs.writeFile(file, JSON.stringify({ pid: 7, hostname: 'h', since: '2026-01-01' }));
    expect(await readLockHolder(file, format)).toBeNull();
    await fs.writeFile(file, JSON.stringify({ pid: '7', hostname: 'h', nonce: 'n' }));
    expect(await readLockHolder(file, format)).toBeNull();
    await fs.writeFile(file, 'null');
    expect(await readLockHolder(file, format)).toBeNull();
    await fs.rm(file);
    await expect(readLockHolder(file, format)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a live holder is left to the caller (busy, "held"); giving up leaves its lock and no draft behind', async () => {
    const live = { pid: process.ppid, hostname: hostname(), nonce: 'live' };
    await fs.writeFile(file, JSON.stringify(live));
    const seen: unknown[] = [];
    const refused = takeLockFile(file, me('a'), {
      ...options(async (...args) => {
        seen.push(args);
        throw new Error('refused');
      }),
    });
    await expect(refused).rejects.toThrow('refused');
    expect(seen).toEqual([[live, 0, 'held']]);
    expect(await readLockHolder(file, format)).toEqual(live);
    expect(await fs.readdir(dir)).toEqual(['x.lock']);
  });

  it('stops after the attempts of its limit with the error the caller makes', async () => {
    await fs.writeFile(file, JSON.stringify({ pid: process.ppid, hostname: hostname(), nonce: 'live' }));
    let calls = 0;
    const taking = takeLockFile(file, me('a'), {
      ...options(async () => {
        calls += 1;
      }),
      limit: { attempts: 3, exhausted: async () => new Error('exhausted') },
    });
    await expect(taking).rejects.toThrow('exhausted');
    expect(calls).toBe(3);
  });

  it('takes over a dead holder, and a take-over marker left by a process that died during its take-over', async () => {
    const dead = { pid: gonePid(), hostname: hostname(), nonce: 'dead' };
    await fs.writeFile(file, JSON.stringify(dead));
    await fs.writeFile(
      `${file}.takeover-${dead.pid}-dead`,
      JSON.stringify({ pid: gonePid(), hostname: hostname(), nonce: 'diedtakingover' }),
    );
    const lock = await takeLockFile(file, me('a'), options());
    expect(await readLockHolder(file, format)).toEqual(me('a'));
    expect(await fs.readdir(dir)).toEqual(['x.lock']);
    await lock.release();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('release removes the lock only while it still names this holder', async () => {
    const lock = await takeLockFile(file, me('a'), options());
    // Another taking by this very process (same pid and host, another tag) is not this holder's.
    await fs.writeFile(file, JSON.stringify(me('b')));
    await lock.release();
    expect(await readLockHolder(file, format)).toEqual(me('b'));
  });
});
