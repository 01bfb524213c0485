import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirectory } from './make-directory';
import { runInProcess as run } from './testing/in-process';

describe('makeDirectory', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-make-directory-'));
    writeFileSync(join(root, 'file'), 'x');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('makes the missing directories, and takes one that exists', async () => {
    await makeDirectory(join(root, 'a', 'b', 'c'));
    expect(statSync(join(root, 'a', 'b', 'c')).isDirectory()).toBe(true);
    await makeDirectory(join(root, 'a', 'b'));
  });

  it('fails at once, naming the path, below a regular file or under /proc', async () => {
    await expect(makeDirectory(join(root, 'file', 'sub'))).rejects.toMatchObject({
      code: 'ENOTDIR',
      message: expect.stringContaining(`cannot create the directory ${join(root, 'file', 'sub')}`),
    });
    await expect(makeDirectory(join(root, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    if (process.platform === 'linux')
      await expect(makeDirectory('/proc/x/y')).rejects.toThrow(
        'cannot create the directory /proc/x/y (at /proc/x)',
      );
  });
});

describe('report --out that cannot be created', () => {
  let root: string;
  let store: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pl-out-'));
    store = join(root, 'ledger');
    writeFileSync(join(root, 'file'), 'x');
    const simulated = await run([
      'simulate',
      '--partners',
      '5',
      '--events',
      '100',
      '--seed',
      '2',
      '--store',
      store,
    ]);
    expect(simulated.code).toBe(0);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('fails fast with exit code 2 and a message naming the path (book and statements)', async () => {
    const under = join(root, 'file', 'sub');
    const outs = [under, ...(process.platform === 'linux' ? ['/proc/x'] : [])];
    for (const out of outs) {
      const book = await run(['report', 'book', '--out', join(out, 'book.html'), '--store', store]);
      expect(book.code).toBe(2);
      expect(book.stderr).toContain(`--out: cannot create the directory ${out}`);
      const statements = await run([
        'report',
        'statements',
        '--format',
        'html',
        '--out',
        out,
        '--store',
        store,
      ]);
      expect(statements.code).toBe(2);
      expect(statements.stderr).toContain(`--out: cannot create the directory ${out}`);
    }
    expect(existsSync(under)).toBe(false);
  }, 20_000);
});
