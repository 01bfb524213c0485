import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const REPO = resolve(__dirname, '../../../..');

const sources = (directory: string): string[] =>
  readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });

/**
 * Transpiles the sources of `packages` into `outDir` as CommonJS, with a node_modules shim per package, so
 * that a test can run child processes on plain `node` (fast to start, killable mid-transaction) without a
 * prior build. Third-party modules resolve through NODE_PATH (childEnvironment).
 */
export const compileForChildProcess = (outDir: string, packages: readonly string[]): void => {
  for (const name of packages) {
    const srcDir = join(REPO, 'packages', name, 'src');
    for (const file of sources(srcDir)) {
      const output = ts.transpileModule(readFileSync(file, 'utf8'), {
        fileName: file,
        compilerOptions: {
          module: ts.ModuleKind.CommonJS,
          target: ts.ScriptTarget.ES2022,
          esModuleInterop: true,
        },
      });
      const target = join(outDir, name, relative(srcDir, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, output.outputText);
    }
    const shim = join(outDir, 'node_modules', '@partner-ledger', name);
    mkdirSync(shim, { recursive: true });
    writeFileSync(
      join(shim, 'index.js'),
      `module.exports = require(${JSON.stringify(join(outDir, name, 'index.js'))});\n`,
    );
  }
};

/** The environment for a child that runs compiled code: third-party modules from the repository. */
export const childEnvironment = (): NodeJS.ProcessEnv => ({
  ...process.env,
  NODE_PATH: join(REPO, 'node_modules'),
});
