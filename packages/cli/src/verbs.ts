import { exportVerb } from './commands/export';
import { verifyVerb } from './commands/verify';
import type { Verb } from './verb';

/** The verbs of `partner-ledger`, in the order `--help` lists them. */
export const VERBS: readonly Verb[] = [verifyVerb, exportVerb];
