/** The command's exit codes: the contract scripts rely on. */
export const EXIT = {
  /** Everything went as asked. */
  ok: 0,
  /** `verify` found a problem (a broken hash link or a broken invariant). */
  problem: 1,
  /** A usage error (unknown verb or flag, bad value) or bad input (an invalid NDJSON line, an unreadable store). */
  usage: 2,
} as const;

/** The exit codes of the command: 0 success, 1 verify found a problem, 2 usage error or bad input. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * A mistake in how the command was called or in what it was given: reported on stderr, exit code 2. Not a
 * bug: the message is for the user, so it says what was wrong and, where it helps, what to type instead.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Printed after the message, e.g. "Run `partner-ledger report --help` for the options." */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
