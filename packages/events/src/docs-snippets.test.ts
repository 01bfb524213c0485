/**
 * The docs, run: every TypeScript and shell block of README.md and docs/*.md marked `runnable` runs as
 * written against the packages as `npm pack` builds them, installed into a new project, the way a reader
 * who follows the docs would run it (see testing/snippets.ts for the markers). The blocks of one document
 * run in order, in one working directory: a later block may use what an earlier one made (the ledger that
 * section 2 of getting-started.md creates is the one section 3 opens). A TypeScript block is type-checked
 * against the shipped typings, then run as an ES module and, where it says `cjs`, as CommonJS too (on a
 * copy of the working directory, so that both see the same state). A block marked `typechecked` (a server
 * that would listen for ever) is type-checked the same way, and not run.
 *
 * It lives beside the packaging test, which checks the same tarballs.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPOSITORY, installPackedPackages, run } from './testing/packed';
import { expectedOutput, runShellSnippet, snippetsOf, whereIs as where } from './testing/snippets';
import type { Snippet } from './testing/snippets';

const documents = [
  join(REPOSITORY, 'README.md'),
  ...readdirSync(join(REPOSITORY, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(REPOSITORY, 'docs', name)),
];
const snippets = new Map(documents.map((file) => [file, snippetsOf(file)]));
const runnable = documents.filter((file) => snippets.get(file)!.some((s) => s.mode === 'runnable'));
const slug = (s: Snippet): string => `${relative(REPOSITORY, s.file).replace(/[^a-z0-9]+/gi, '-')}-${s.line}`;

describe('the snippets of the docs', () => {
  it('say whether they are runnable or illustrative, and which module systems a runnable one claims', () => {
    const all = [...snippets.values()].flat();
    expect(all.filter((s) => s.mode === 'unmarked').map(where)).toEqual([]);
    expect(
      all.filter((s) => s.language === 'ts' && s.mode !== 'illustrative' && !s.esm && !s.cjs).map(where),
    ).toEqual([]);
    expect(runnable.map((file) => relative(REPOSITORY, file))).toContain('docs/getting-started.md');
  });
});

describe('the runnable snippets of the docs, against the packed packages', () => {
  let consumer: string;
  let sandbox: string;

  beforeAll(() => {
    // The command and the library, as a reader installs them (server adapters are not needed here).
    consumer = installPackedPackages('partner-ledger-docs-', {
      without: ['@partner-ledger/store-eventstoredb'],
    });
    sandbox = mkdtempSync(join(consumer, 'tmp-'));
    const sources = [...snippets.values()]
      .flat()
      .filter((s) => s.language === 'ts' && (s.mode === 'runnable' || s.mode === 'typechecked'));
    const files = sources.flatMap((s) => [
      ...(s.esm ? [`${slug(s)}.mts`] : []),
      ...(s.cjs ? [`${slug(s)}.cts`] : []),
    ]);
    mkdirSync(join(consumer, 'snippets'));
    for (const s of sources) {
      if (s.esm) writeFileSync(join(consumer, 'snippets', `${slug(s)}.mts`), s.code);
      if (s.cjs) writeFileSync(join(consumer, 'snippets', `${slug(s)}.cts`), s.code);
    }
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          lib: ['ES2022'],
          strict: true,
          skipLibCheck: true,
          outDir: 'build',
          rootDir: 'snippets',
          typeRoots: [join(REPOSITORY, 'node_modules', '@types')],
          types: ['node'],
        },
        files: files.map((f) => `snippets/${f}`),
      }),
    );
    // Type-checked as written, against the typings the packages ship: a snippet that does not compile fails.
    run(
      process.execPath,
      [join(REPOSITORY, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer],
      consumer,
    );
  }, 400_000);

  afterAll(() => {
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  it.each(runnable.map((file) => relative(REPOSITORY, file)))(
    '%s runs as written',
    (document) => {
      const work = join(consumer, 'work', document.replace(/[^a-z0-9]+/gi, '-'));
      mkdirSync(work, { recursive: true });
      // The demo's default directory and every temporary file go to a directory of this test.
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: sandbox, npm_config_update_notifier: 'false' };
      delete env.PARTNER_LEDGER_STORE;
      for (const s of snippets.get(join(REPOSITORY, document))!) {
        if (s.mode !== 'runnable') continue;
        const context = `${where(s)} failed`;
        if (s.language === 'sh') {
          runShellSnippet(s, work, env);
          continue;
        }
        const variants: Array<[string, string]> = [];
        if (s.cjs) {
          // CommonJS runs on a copy of the state the ES module run starts from.
          const copy = `${work}-cjs-${s.line}`;
          cpSync(work, copy, { recursive: true });
          variants.push([join(consumer, 'build', `${slug(s)}.cjs`), copy]);
        }
        if (s.esm) variants.unshift([join(consumer, 'build', `${slug(s)}.mjs`), work]);
        for (const [program, cwd] of variants) {
          let stdout: string;
          try {
            stdout = run(process.execPath, [program], cwd, env);
          } catch (error) {
            throw new Error(
              `${context} (${program.endsWith('.cjs') ? 'CommonJS' : 'ES module'}): ${(error as Error).message}`,
              { cause: error },
            );
          }
          const expected = expectedOutput(s);
          if (expected.length > 0)
            expect([where(s), stdout.trimEnd().split('\n')]).toEqual([where(s), expected]);
        }
      }
      // The snippets run one after the other (the demo, a simulation): slower than jest's default allows.
    },
    600_000,
  );
});
