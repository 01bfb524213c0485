import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore } from '@partner-ledger/store-file';
import { buildCli, runBin } from './testing/fixtures';

// withStore names the ledger in front of a failure that comes from it ("the ledger at ...: ..."), but not in
// front of one about a file outside it, such as the --out a verb writes: that error names its own path.
// Through the built command: in jest's sandbox, Node's own errors are not instances of the sandbox's Error.

beforeAll(buildCli, 300_000);

it('an --out that cannot be written is named as itself, not as the ledger', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pl-store-'));
  try {
    const store = join(root, 'ledger');
    expect((await runBin(['init', '--store', store])).code).toBe(0);
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const book = await runBin(['report', 'book', '--out', join(file, 'book.html'), '--store', store]);
    expect(book.code).toBe(2);
    expect(book.stderr).toContain(`--out: cannot create the directory ${file}: a file, not a directory`);
    expect(book.stderr).not.toContain('the ledger at');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

it('a ledger another process is writing to is refused in words a command user can act on; reads still run', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pl-store-'));
  try {
    const store = join(root, 'ledger');
    expect((await runBin(['init', '--store', store])).code).toBe(0);
    const writer = await openFileStore({ directory: store });
    try {
      const out = join(root, 'payouts.csv');
      const prepare = await runBin([
        'payouts',
        'prepare',
        '--as-of',
        '2026-06-01',
        '--method',
        'csv',
        '--out',
        out,
        '--store',
        store,
      ]);
      expect(prepare.code).toBe(2);
      expect(prepare.stderr).toContain(`process ${process.pid} on `);
      expect(prepare.stderr).toContain('Wait for that process to finish or stop it');
      expect(prepare.stderr).not.toContain('readOnly');
      const verify = await runBin(['verify', '--store', store]);
      expect(verify.stdout).toContain('status:         ok');
      expect(verify.code).toBe(0);
    } finally {
      await writer.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
