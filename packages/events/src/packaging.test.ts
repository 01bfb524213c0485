/**
 * Proves that every published package works for a consumer: packs each package with `npm pack`, installs
 * the tarballs into a fresh temporary project, then loads each one through `require` and through `import`,
 * and type-checks a CommonJS and an ES module consumer against the shipped typings. Checks what a tarball
 * must hold (LICENSE, README, source maps that carry their sources) and what the command costs a user who
 * installs only it (printed, for docs/benchmarks.md).
 *
 * It lives here, in the package at the bottom of the graph, because it checks the packaging that every
 * package shares (the exports map and build settings of tsconfig.base.json), not one package's code.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY, installPackedPackages, run, runNpm, workspacePackages } from './testing/packed';

const packages = workspacePackages().map(({ dir, manifest }) => ({
  dir,
  manifest,
  name: manifest.name,
  subpaths: Object.keys(manifest.exports).filter((k) => k !== './package.json'),
}));
const specifiers = packages.flatMap((p) =>
  p.subpaths.map((s) => (s === '.' ? p.name : `${p.name}/${s.slice(2)}`)),
);

/** The packages a consumer gets by installing `name`: its dependencies, transitively (peers are theirs). */
const installedClosure = (consumer: string, name: string): Map<string, string> => {
  const found = new Map<string, string>();
  const visit = (pkg: string, from: string): void => {
    if (found.has(pkg)) return;
    // Node's resolution: the nearest node_modules up from the package that depends on it.
    for (let dir = from; ; dir = join(dir, '..')) {
      const candidate = join(dir, 'node_modules', pkg);
      try {
        const manifest = JSON.parse(readFileSync(join(candidate, 'package.json'), 'utf8')) as {
          dependencies?: Record<string, string>;
        };
        found.set(pkg, candidate);
        for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency, candidate);
        return;
      } catch {
        if (dir === consumer || dir === join(dir, '..')) throw new Error(`${pkg} is not installed`);
      }
    }
  };
  visit(name, consumer);
  return found;
};

const sizeOf = (path: string): number => {
  const entry = statSync(path);
  if (!entry.isDirectory()) return entry.size;
  return readdirSync(path)
    .filter((name) => name !== 'node_modules')
    .reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
};

describe('packed packages, installed into a fresh project', () => {
  let consumer: string;

  beforeAll(() => {
    consumer = installPackedPackages('partner-ledger-consumer-');
  }, 300_000);

  afterAll(() => {
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  it('ships compiled code, typings, LICENSE and README, and no tests', () => {
    for (const p of packages) {
      const files = runNpm(['pack', '--dry-run', '--json'], join(REPOSITORY, 'packages', p.dir));
      const paths = (JSON.parse(files) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map(
        (f) => f.path,
      );
      expect(paths).toContain('dist/index.js');
      expect(paths).toContain('dist/index.d.ts');
      expect([p.name, paths.includes('LICENSE'), paths.includes('README.md')]).toEqual([p.name, true, true]);
      expect(paths.filter((f) => /\.test\.|type-test|testing\//.test(f))).toEqual([]);
    }
  });

  it('says where it comes from: keywords, homepage, bugs and repository in every manifest', () => {
    for (const { name, manifest, dir } of packages) {
      expect([name, manifest.keywords?.includes('partner-ledger')]).toEqual([name, true]);
      expect(manifest.homepage).toBe(
        `https://github.com/partner-ledger/partner-ledger/tree/main/packages/${dir}#readme`,
      );
      expect(manifest.bugs?.url).toBe('https://github.com/partner-ledger/partner-ledger/issues');
      expect(manifest.repository).toEqual({
        type: 'git',
        url: 'https://github.com/partner-ledger/partner-ledger.git',
        directory: `packages/${dir}`,
      });
      const license = readFileSync(join(REPOSITORY, 'packages', dir, 'LICENSE'), 'utf8');
      expect(license).toBe(readFileSync(join(REPOSITORY, 'LICENSE'), 'utf8'));
    }
  });

  it('ships source maps that carry their sources (the sources themselves are not shipped)', () => {
    let maps = 0;
    for (const p of packages) {
      const installed = join(consumer, 'node_modules', p.name);
      const walk = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
        );
      for (const file of walk(join(installed, 'dist'))) {
        // A declaration map would send an editor to a .ts file that is not there.
        expect(file).not.toMatch(/\.d\.ts\.map$/);
        if (!file.endsWith('.js.map')) continue;
        maps += 1;
        const map = JSON.parse(readFileSync(file, 'utf8')) as {
          sources: string[];
          sourcesContent?: string[];
        };
        expect([file, map.sourcesContent?.length]).toEqual([file, map.sources.length]);
        expect(map.sourcesContent!.every((content) => content.length > 0)).toBe(true);
      }
    }
    expect(maps).toBeGreaterThan(50);
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

  it('costs a user of the command only the command: no server client is installed with it, none loaded', () => {
    const closure = installedClosure(consumer, '@partner-ledger/cli');
    const names = [...closure.keys()].sort();
    expect(names.filter((n) => /grpc|protobuf|@eventstore|^pg$/.test(n))).toEqual([]);
    expect(names).not.toContain('@partner-ledger/store-eventstoredb');
    const bytes = [...closure.values()].reduce((sum, dir) => sum + sizeOf(dir), 0);
    const script = `
      const before = new Set(Object.keys(require.cache));
      require('@partner-ledger/cli');
      const loaded = Object.keys(require.cache).filter((m) => !before.has(m));
      console.log(JSON.stringify({ modules: loaded.length, servers: loaded.filter((m) => /grpc|protobuf|@eventstore/.test(m)) }));`;
    const { modules, servers } = JSON.parse(run(process.execPath, ['-e', script], consumer)) as {
      modules: number;
      servers: string[];
    };
    expect(servers).toEqual([]);
    // With the EventStoreDB adapter added (what every user installed when the command depended on it).
    const withServer = new Map([
      ...closure,
      ...installedClosure(consumer, '@partner-ledger/store-eventstoredb'),
    ]);
    const serverBytes = [...withServer.values()].reduce((sum, dir) => sum + sizeOf(dir), 0);
    // The figures of docs/benchmarks.md ("What a user installs"): printed, never asserted as a budget.
    const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
    console.log(
      `@partner-ledger/cli for a consumer: ${names.length} packages, ${mib(bytes)} MiB installed; ` +
        `require('@partner-ledger/cli') loads ${modules} modules. ` +
        `With @partner-ledger/store-eventstoredb added: ${withServer.size} packages, ${mib(serverBytes)} MiB.`,
    );
  });

  it('declares what the contract suite needs at run time: jest, as an optional peer', () => {
    const store = packages.find((p) => p.name === '@partner-ledger/store')!.manifest;
    expect(store.peerDependencies?.jest).toBeDefined();
    expect(store.peerDependenciesMeta?.jest?.optional).toBe(true);
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
          typeRoots: [join(REPOSITORY, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['consumer.cts', 'consumer.mts'],
      }),
    );
    expect(() =>
      run(
        process.execPath,
        [join(REPOSITORY, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer],
        consumer,
      ),
    ).not.toThrow();
  });
});
