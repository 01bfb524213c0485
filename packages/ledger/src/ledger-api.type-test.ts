import type * as TE from 'fp-ts/TaskEither';
import type { CommandInput, CommandName } from './commands';
import type { Ledger, Outcome } from './ledger-api';
import type { LedgerRejection } from './rejection';

// Compiles only while the written-out Ledger interface has exactly one method per command of COMMANDS,
// each taking that command's input (and `execute`).
type Mapped = {
  readonly [N in CommandName]: (input: CommandInput<N>) => TE.TaskEither<LedgerRejection, Outcome>;
};
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const everyCommandIsAMethod: Same<Omit<Ledger, 'execute'>, Mapped> = true;
export const noOtherMethod: Same<Exclude<keyof Ledger, CommandName | 'execute'>, never> = true;
