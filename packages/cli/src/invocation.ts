import { isAbsolute, relative, sep } from 'node:path';

/** Where the book lives: `--help` links it by URL, since the docs are not in the package. */
export const DOCS_URL = 'https://github.com/partner-ledger/partner-ledger/blob/main/docs';

/** `docs/cli.md` in a help text becomes the URL of that page. */
export const linkDocs = (text: string): string =>
  text.replace(/(?<![\w/])docs\/([\w-]+\.md)/g, `${DOCS_URL}/$1`);

/**
 * The command line a user would type to run this command again, for the "try" lines a verb prints: how
 * it was started decides it. `npx partner-ledger` (npm sets npm_command=exec), a binary inside a
 * node_modules (a local install: npx finds it), a script inside the working directory (`npm start` in a
 * clone runs `node packages/cli/dist/bin.js`), else the name on the PATH.
 */
export const commandLine = (
  env: Readonly<Record<string, string | undefined>>,
  script: string | undefined,
  cwd: string,
): string => {
  if (env.npm_command === 'exec') return 'npx partner-ledger';
  if (script === undefined || script === '') return 'partner-ledger';
  if (script.split(/[\\/]/).includes('node_modules')) return 'npx partner-ledger';
  const inside = relative(cwd, script);
  if (inside !== '' && !inside.startsWith('..') && !isAbsolute(inside))
    return `node ${inside.split(sep).join('/')}`;
  return 'partner-ledger';
};
