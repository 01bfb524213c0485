import { copyVerb } from './commands/copy';
import { demoVerb } from './commands/demo';
import { eraseVerb } from './commands/erase';
import { exportVerb } from './commands/export';
import { exportSubjectVerb } from './commands/export-subject';
import { importVerb } from './commands/import';
import { initVerb } from './commands/init';
import { payoutsVerb } from './commands/payouts';
import { projectVerb } from './commands/project';
import { reportVerb } from './commands/report';
import { simulateVerb } from './commands/simulate';
import { verifyVerb } from './commands/verify';
import type { Verb } from './verb';

/** The verbs of `partner-ledger`, in the order `--help` lists them. */
export const VERBS: readonly Verb[] = [
  initVerb,
  simulateVerb,
  importVerb,
  reportVerb,
  payoutsVerb,
  verifyVerb,
  exportVerb,
  exportSubjectVerb,
  eraseVerb,
  copyVerb,
  projectVerb,
  demoVerb,
];
