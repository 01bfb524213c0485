import { closest } from './closest';
import { EXIT, UsageError } from './exit';
import type { ExitCode } from './exit';
import type { CliIo } from './io';
import { renderMainHelp, renderVerbHelp } from './verb';
import type { Verb } from './verb';
import { VERBS } from './verbs';
import { VERSION } from './version';

const wantsHelp = (args: readonly string[]): boolean => {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
};

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Runs the command with the arguments after `partner-ledger`, and returns its exit code. Never calls
 * process.exit, and never writes to the process streams directly: the binary passes them in `io`.
 */
export const runCli = async (
  argv: readonly string[],
  io: CliIo,
  verbs: readonly Verb[] = VERBS,
): Promise<ExitCode> => {
  const [first, ...rest] = argv;
  const report = (message: string, hint?: string): ExitCode => {
    io.stderr.write(`partner-ledger: ${message}\n${hint === undefined ? '' : `${hint}\n`}`);
    return EXIT.usage;
  };
  if (first === undefined) {
    io.stderr.write(renderMainHelp(verbs, VERSION));
    return EXIT.usage;
  }
  if (first === '--help' || first === '-h') {
    io.stdout.write(renderMainHelp(verbs, VERSION));
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const names = verbs.map((v) => v.name);
  if (first === 'help') {
    const target = verbs.find((v) => v.name === rest[0]);
    if (rest[0] === undefined) io.stdout.write(renderMainHelp(verbs, VERSION));
    else if (target === undefined)
      return report(`unknown verb ${JSON.stringify(rest[0])}`, `Verbs: ${names.join(', ')}.`);
    else io.stdout.write(renderVerbHelp(target));
    return EXIT.ok;
  }
  const verb = verbs.find((v) => v.name === first);
  if (verb === undefined) {
    const suggestion = closest(first, names);
    return report(
      `unknown verb ${JSON.stringify(first)}${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}`,
      `Verbs: ${names.join(', ')}. Run \`partner-ledger --help\` for more.`,
    );
  }
  if (wantsHelp(rest)) {
    io.stdout.write(renderVerbHelp(verb));
    return EXIT.ok;
  }
  try {
    return await verb.run(io, rest);
  } catch (error) {
    if (error instanceof UsageError) return report(error.message, error.hint);
    // A fault (an I/O error, a store that cannot be opened or read): the message, and the stack only when
    // asked for, since it helps us and not the user.
    if (io.env.PARTNER_LEDGER_DEBUG) io.stderr.write(`${(error as Error).stack ?? describeError(error)}\n`);
    return report(`${verb.name}: ${describeError(error)}`);
  }
};
