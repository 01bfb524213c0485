import { exportVerb } from './commands/export';
import { importVerb } from './commands/import';
import { initVerb } from './commands/init';
import { reportVerb } from './commands/report';
import { verifyVerb } from './commands/verify';
import type { Verb } from './verb';

/** The verbs of `partner-ledger`, in the order `--help` lists them. */
export const VERBS: readonly Verb[] = [initVerb, importVerb, reportVerb, verifyVerb, exportVerb];
