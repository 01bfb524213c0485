/**
 * Proves that every published package works for a consumer: packs each package with `npm pack`, installs
 * the tarballs into a fresh temporary project, then loads each one through `require` and through `import`,
 * and type-checks a CommonJS and an ES module consumer against the shipped typings.
 *
 * It lives here, in the package at the bottom of the graph, because it checks the packaging that every
 * package shares (the exports map and build settings of tsconfig.base.json), not one package's code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const packages = readdirSync(join(root, 'packages')).map((dir) => {
  const manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, unknown>;
  };
  return {
    dir,
    name: manifest.name,
    subpaths: Object.keys(manifest.exports).filter((k) => k !== './package.json'),
  };
});
const specifiers = packages.flatMap((p) =>
  p.subpaths.map((s) => (s === '.' ? p.name : `${p.name}/${s.slice(2)}`)),
);

const run = (command: string, args: string[], cwd: string): string => {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, {
      cause: error,
    });
  }
};

describe('packed packages, installed into a fresh project', () => {
  let consumer: string;

  beforeAll(() => {
    // `npm test` builds before it tests; packing an unbuilt package would prove nothing.
    for (const p of packages) {
      if (!existsSync(join(root, 'packages', p.dir, 'dist', 'index.js')))
        throw new Error(`packages/${p.dir} is not built: run \`npm run build\` first`);
    }
    consumer = mkdtempSync(join(tmpdir(), 'partner-ledger-consumer-'));
    const tarballs = packages.map((p) =>
      join(
        consumer,
        run(npm, ['pack', '--silent', '--pack-destination', consumer], join(root, 'packages', p.dir))
          .trim()
          .split('\n')
          .pop()!,
      ),
    );
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
    );
    run(
      npm,
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs],
      consumer,
    );
  }, 300_000);

  afterAll(() => {
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  it('ships compiled code and typings, and no tests', () => {
    for (const p of packages) {
      const files = run(npm, ['pack', '--dry-run', '--json'], join(root, 'packages', p.dir));
      const paths = (JSON.parse(files) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map(
        (f) => f.path,
      );
      expect(paths).toContain('dist/index.js');
      expect(paths).toContain('dist/index.d.ts');
      expect(paths.filter((f) => /\.test\.|type-test|testing\//.test(f))).toEqual([]);
    }
  });

  it.each(specifiers)('%s loads through require() and import, with the same named exports', (specifier) => {
    const script = `
      const viaRequire = require(${JSON.stringify(specifier)});
      import(${JSON.stringify(specifier)}).then((viaImport) => {
        const required = Object.keys(viaRequire).filter((k) => k !== '__esModule').sort();
        const imported = Object.keys(viaImport).filter((k) => !['default', 'module.exports', '__esModule'].includes(k)).sort();
        console.log(JSON.stringify({ required, imported }));
      });`;
    const { required, imported } = JSON.parse(run(process.execPath, ['-e', script], consumer)) as {
      required: string[];
      imported: string[];
    };
    expect(imported).toEqual(required);
  });

  it('type-checks a CommonJS and an ES module consumer against the shipped typings', () => {
    const usage = `
      import { LedgerDecimal, decodeEvent, formatAmount } from '@partner-ledger/events';
      import type { EventStore } from '@partner-ledger/store';
      const total: string = formatAmount(new LedgerDecimal('12.5'), 'USD');
      const result = decodeEvent({});
      export const check = (store: EventStore) => [total, result._tag, store.headPosition];
    `;
    writeFileSync(join(consumer, 'consumer.cts'), usage);
    writeFileSync(join(consumer, 'consumer.mts'), usage);
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          lib: ['ES2022'],
          // A Node library's consumers have Node's types; take them from this repository.
          typeRoots: [join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['consumer.cts', 'consumer.mts'],
      }),
    );
    expect(() =>
      run(
        process.execPath,
        [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer],
        consumer,
      ),
    ).not.toThrow();
  });
});
