import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Compiled or source code of a package, the files that decide what a replay computes. */
const isCode = (name: string): boolean =>
  /\.(js|ts)$/.test(name) && !/\.d\.ts$|\.test\.|\.type-test\./.test(name);
/** Folders of a package that no replay runs. */
const NOT_RUN = new Set(['bench', 'testing', 'node_modules']);

const codeFiles = (root: string, folder = root): string[] =>
  readdirSync(folder, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) return NOT_RUN.has(entry.name) ? [] : codeFiles(root, path);
      return entry.isFile() && isCode(entry.name) ? [path] : [];
    });

let cached: string | undefined;

/**
 * A digest of the code that folds events into states: this package's code (the projections and their
 * runtime) and the events package's (decoding and upcasting), as installed. A checkpoint records it, and one
 * taken by other code is never resumed: a fix to a projection invalidates every state it had computed.
 * Computed once per process (a few milliseconds: it reads the packages' code files).
 */
export const projectionCodeVersion = (): string => {
  if (cached !== undefined) return cached;
  const hash = createHash('sha256');
  // This file is <package>/(src|dist)/runtime/code-version.(ts|js): the package's code is its parent folder.
  const roots = [join(__dirname, '..')];
  try {
    roots.push(dirname(require.resolve('@partner-ledger/events')));
  } catch {
    // Not resolvable from here (an unusual bundling): the projections' own code still versions the states.
  }
  for (const root of roots)
    for (const file of codeFiles(root)) {
      hash.update(`${relative(root, file)}\u0000`);
      hash.update(readFileSync(file));
      hash.update('\u0000');
    }
  cached = hash.digest('hex');
  return cached;
};
