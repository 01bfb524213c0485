import { copyVerb } from './commands/copy';
import { demoVerb } from './commands/demo';
import { exportVerb } from './commands/export';
import { importVerb } from './commands/import';
import { initVerb } from './commands/init';
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
  verifyVerb,
  exportVerb,
  copyVerb,
  projectVerb,
  demoVerb,
];
