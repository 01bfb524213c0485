import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess as run } from '../testing/in-process';

// `--out` names a file for the book and a directory for the statements: the other kind is refused before
// the ledger is replayed, naming the path and what to give instead, never with a bare EISDIR or EEXIST.

describe('report --out of the wrong kind', () => {
  let root: string;
  let store: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pl-report-out-'));
    store = join(root, 'ledger');
    expect((await run(['init', '--store', store])).code).toBe(0);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('report book --out DIRECTORY is refused, naming it', async () => {
    const directory = join(root, 'pages');
    mkdirSync(directory);
    const result = await run(['report', 'book', '--out', directory, '--store', store]);
    expect([result.code, result.stderr]).toEqual([
      2,
      expect.stringContaining(`--out: ${directory} is a directory: report book writes one HTML file`),
    ]);
  });

  it('report statements --format html --out FILE is refused, naming it', async () => {
    const file = join(root, 'statements.html');
    writeFileSync(file, 'kept');
    const result = await run(['report', 'statements', '--format', 'html', '--out', file, '--store', store]);
    expect([result.code, result.stderr]).toEqual([
      2,
      expect.stringContaining(
        `--out: ${file} is a file: the statements are one page per partner, in a directory`,
      ),
    ]);
  });
});
