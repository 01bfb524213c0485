import type { OptionSpecs } from './args';
import { COMMON_OPTIONS } from './args';
import type { ExitCode } from './exit';
import type { CliIo } from './io';
import { DOCS_URL, linkDocs } from './invocation';

/** A verb of the command: what `--help` prints about it, and what it does. */
export interface Verb {
  readonly name: string;
  /** One line, for the list of verbs. */
  readonly summary: string;
  /** The synopsis after `partner-ledger `. */
  readonly usage: string;
  /** Paragraphs shown by `--help`. */
  readonly description: string;
  readonly options: OptionSpecs;
  /**
   * false for a verb that names its ledgers with other flags (copy's --from and --to): its help then lists
   * no --store, and the main help names it as the exception, since the verb refuses --store.
   */
  readonly takesStore?: false;
  /** Command lines shown by `--help`, each with a comment saying what it does. */
  readonly examples: ReadonlyArray<readonly [command: string, comment: string]>;
  /** Runs with the arguments after the verb; `--help` is handled before this is called. */
  readonly run: (io: CliIo, args: readonly string[]) => Promise<ExitCode>;
}

const wrap = (text: string, width: number, indent: string): string => {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > 0 && indent.length + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
};

/** The text of `partner-ledger <verb> --help`. */
export const renderVerbHelp = (verb: Verb): string => {
  // A verb may give a common flag its own description (demo's --store has another default).
  const options: OptionSpecs = {
    ...verb.options,
    ...Object.fromEntries(
      Object.entries(COMMON_OPTIONS).filter(
        ([name]) => !(name in verb.options) && !(name === 'store' && verb.takesStore === false),
      ),
    ),
  };
  const flags = Object.entries(options).map(([name, spec]) => {
    const short = spec.short === undefined ? '    ' : `-${spec.short}, `;
    const value = spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : '';
    return { flag: `${short}--${name}${value}`, description: spec.description };
  });
  const column = Math.min(28, Math.max(...flags.map((f) => f.flag.length)) + 4);
  const optionLines = flags.map(({ flag, description }) => {
    const text = wrap(linkDocs(description), 110, ' '.repeat(column + 2)).trimStart();
    return flag.length + 2 < column
      ? `  ${flag.padEnd(column)}${text}`
      : `  ${flag}\n${' '.repeat(column + 2)}${text}`;
  });
  const examples = verb.examples.map(([command, comment]) => `  # ${comment}\n  ${command}`);
  return [
    `Usage: partner-ledger ${verb.usage}`,
    '',
    verb.description
      .split('\n\n')
      .map((paragraph) => wrap(linkDocs(paragraph), 110, ''))
      .join('\n\n'),
    '',
    'Options:',
    ...optionLines,
    '',
    'Examples:',
    examples.join('\n\n'),
    '',
    'Exit codes: 0 success, 1 verify found a problem, 2 usage error or bad input.',
    '',
  ].join('\n');
};

/** The text of `partner-ledger --help`. */
export const renderMainHelp = (verbs: readonly Verb[], version: string): string => {
  const width = Math.max(...verbs.map((v) => v.name.length)) + 4;
  // The verbs that refuse --store (they name their ledgers with --from and --to) are named, so that the
  // sentence stays true.
  const without = verbs.filter((v) => v.takesStore === false).map((v) => v.name);
  const every =
    without.length === 0
      ? 'Every verb'
      : `Every verb but ${without.slice(0, -1).join(', ')}${without.length > 1 ? ' and ' : ''}${without.at(-1)}`;
  return [
    `partner-ledger ${version}: the ledger of a partner ecosystem, as an event-sourced, tamper-evident history.`,
    '',
    'Usage: partner-ledger <verb> [options]',
    '',
    'Verbs:',
    ...verbs.map((v) => `  ${v.name.padEnd(width)}${v.summary}`),
    '',
    wrap(
      `${every} takes --store STORE (a directory, default ./.partner-ledger, or a connection string: ` +
        'esdb:// and kurrentdb:// need @partner-ledger/store-eventstoredb installed, postgres:// needs ' +
        '@partner-ledger/store-postgres; also $PARTNER_LEDGER_STORE); every verb takes --help. Data goes to ' +
        'stdout; diagnostics and progress to stderr.',
      100,
      '',
    ),
    'Exit codes: 0 success, 1 verify found a problem, 2 usage error or bad input.',
    '',
    'Run `partner-ledger <verb> --help` for its options and examples.',
    `The book (getting started, every verb and flag, the events): ${DOCS_URL}/README.md`,
    '',
  ].join('\n');
};
