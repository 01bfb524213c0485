import { randomUUID } from 'node:crypto';
import type { IdGenerator } from '@partner-ledger/ledger';

/**
 * Correlation ids for commands run from the command line: random, since each run is its own request.
 * (Event ids do not come from here: the ledger derives them from the commands' natural keys, which is
 * what makes a repeated import append nothing.)
 */
export const cliIds = (): IdGenerator => () => `cli-${randomUUID()}`;
