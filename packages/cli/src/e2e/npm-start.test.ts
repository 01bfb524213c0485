import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The README promises that `npm start` on a fresh clone builds and runs the demo on the embedded store. This
// runs exactly that script from the repository root (the build step is quick after `npm test`'s own build).
const root = join(__dirname, '..', '..', '..', '..');

describe('npm start (the README quick start)', () => {
  it('builds, simulates a program into a fresh embedded ledger, prints revenue, balances and verify ok', async () => {
    const { stdout } = await promisify(execFile)('npm', ['start', '--silent'], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, npm_config_loglevel: 'error' },
    });
    for (const heading of [
      '== Revenue by partner type',
      '== Commission balances by partner type',
      '== Verify',
    ])
      expect(stdout).toContain(heading);
    expect(stdout).toContain('rejected:  none');
    expect(stdout).toMatch(/status: +ok\nevents checked: +\d+\ndigest: +[0-9a-f]{64}/);
    const book = /== Month-end book \(HTML\) =*\n\n(\S+-book\.html)\n/.exec(stdout)?.[1];
    expect(book).toBeDefined();
    expect(readFileSync(book!, 'utf8')).toContain('<h2 id="revenue">');
  }, 180_000);
});
