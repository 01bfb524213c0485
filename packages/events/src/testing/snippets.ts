import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPOSITORY, run } from './packed';

// The snippets of the docs, as the docs test and the examples test run them. A fenced block of TypeScript
// or shell says what it is in its info string, after the language:
//
//   ```ts runnable esm cjs    runs as written: as an ES module and (a copy) as CommonJS
//   ```ts runnable esm        runs as an ES module only (top-level await)
//   ```sh runnable            runs in bash, in the doc's working directory, after the snippets before it
//   ```ts typechecked esm     type-checked as an ES module against the packed packages, not run (a server
//                              that would listen for ever, a call to a third party)
//   ```ts illustrative        a sketch: not run (names in it may be the reader's own)
//
// Every TypeScript or shell block must say one or the other: nothing is left unchecked by accident.

export type SnippetLanguage = 'ts' | 'sh';

export interface Snippet {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly language: SnippetLanguage;
  readonly mode: 'runnable' | 'typechecked' | 'illustrative' | 'unmarked';
  /** For TypeScript: the module systems it is claimed to run under. */
  readonly esm: boolean;
  readonly cjs: boolean;
  readonly code: string;
}

const LANGUAGES: Readonly<Record<string, SnippetLanguage>> = {
  ts: 'ts',
  typescript: 'ts',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
};

/** The TypeScript and shell blocks of a Markdown file, in order. */
export const snippetsOf = (file: string, text: string = readFileSync(file, 'utf8')): Snippet[] => {
  const lines = text.split('\n');
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${file}:${i + 1}: a code block that is never closed`);
    const language = LANGUAGES[open[1]!.toLowerCase()];
    const words = open[2]!.trim().split(/\s+/).filter(Boolean);
    if (language !== undefined) {
      const mode = words.includes('runnable')
        ? 'runnable'
        : words.includes('typechecked')
          ? 'typechecked'
          : words.includes('illustrative')
            ? 'illustrative'
            : 'unmarked';
      found.push({
        file,
        line: i + 1,
        language,
        mode,
        esm: words.includes('esm'),
        cjs: words.includes('cjs'),
        code: lines.slice(i + 1, end).join('\n') + '\n',
      });
    }
    i = end;
  }
  return found;
};

/**
 * What a snippet says it prints, in order, one line of output each: the text after `// => ` in TypeScript
 * (`console.log(x); // => 50.00`), or on a comment line `# => ` in shell.
 */
export const expectedOutput = (snippet: Snippet): string[] =>
  snippet.code
    .split('\n')
    .map((line) => (snippet.language === 'ts' ? /\/\/ => (.*)$/ : /^\s*# => (.*)$/).exec(line)?.[1]?.trim())
    .filter((text): text is string => text !== undefined);

/** The expected lines that are not found in `output`, in order (each after the one before it). */
export const missingLines = (output: string, expected: readonly string[]): string[] => {
  const lines = output.split('\n').map((l) => l.trim());
  const missing: string[] = [];
  let from = 0;
  for (const line of expected) {
    const at = lines.indexOf(line, from);
    if (at < 0) missing.push(line);
    else from = at + 1;
  }
  return missing;
};

/** Where a snippet is, for messages: `docs/getting-started.md:42`. */
export const whereIs = (snippet: Snippet): string => `${relative(REPOSITORY, snippet.file)}:${snippet.line}`;

/**
 * Runs a shell snippet as written, in bash with -e and pipefail (a failing command fails it), in `cwd`;
 * then checks that the lines it says it prints (`# => ...`) are in its output, in order.
 */
export const runShellSnippet = (snippet: Snippet, cwd: string, env: NodeJS.ProcessEnv): string => {
  let stdout: string;
  try {
    stdout = run('bash', ['-e', '-o', 'pipefail', '-c', snippet.code], cwd, env);
  } catch (error) {
    throw new Error(`${whereIs(snippet)} failed: ${(error as Error).message}`, { cause: error });
  }
  const missing = missingLines(stdout, expectedOutput(snippet));
  if (missing.length > 0)
    throw new Error(
      `${whereIs(snippet)}: the output lacks ${missing.map((l) => JSON.stringify(l)).join(', ')}; it printed:\n${stdout}`,
    );
  return stdout;
};
