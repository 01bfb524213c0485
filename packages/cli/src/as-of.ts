import type { AsKnownAt } from '@partner-ledger/store';
import type { OptionSpecs } from './args';
import { parseMoment } from './args';
import { UsageError } from './exit';

/** The two meanings of "as of" (docs/concepts.md), as flags shared by report and export. */
export const AS_OF_OPTIONS = {
  'as-of': {
    type: 'string',
    valueName: 'T',
    description:
      'Effective at T: only what happened (occurredAt) at or before T. A date alone (2026-03-31) means the end of that day, UTC.',
  },
  'known-at': {
    type: 'string',
    valueName: 'K',
    description:
      'As known at K: only what the ledger had recorded (recordedAt) at or before K, or, when K is a whole number, up to that global position.',
  },
} as const satisfies OptionSpecs;

export interface AsOf {
  /** occurredAt <= effectiveAt. */
  readonly effectiveAt?: string;
  readonly knownAt?: AsKnownAt;
}

export const parseAsOf = (options: { readonly 'as-of'?: string; readonly 'known-at'?: string }): AsOf => {
  const effectiveAt =
    options['as-of'] === undefined ? undefined : parseMoment('as-of', options['as-of'], 'endOfDay');
  const k = options['known-at'];
  let knownAt: AsKnownAt | undefined;
  if (k !== undefined) {
    if (/^[0-9]+$/.test(k)) {
      const position = Number(k);
      if (!Number.isSafeInteger(position)) throw new UsageError(`--known-at: position ${k} is too large`);
      knownAt = { position };
    } else {
      knownAt = { recordedAt: parseMoment('known-at', k, 'endOfDay') };
    }
  }
  return {
    ...(effectiveAt === undefined ? {} : { effectiveAt }),
    ...(knownAt === undefined ? {} : { knownAt }),
  };
};
