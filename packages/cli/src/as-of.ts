import type { AsKnownAt, EventStore } from '@partner-ledger/store';
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
      'As known at K: only what the ledger had recorded (recordedAt) at or before K, or, when K is a whole number, up to that global position. A position past the head is an error.',
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

/**
 * Refuses a --known-at position past the store's head: that position does not exist yet, so a report "as known
 * at" it would silently be one as of the head, and change with the next append. A usage error (exit code 2)
 * naming the option and the head. A time is a filter (what was recorded at or before it) and is never refused:
 * the ledger as known at the end of last quarter is the whole ledger when nothing was recorded since, and an
 * auditor asks exactly that.
 */
export const checkKnownAtWithinHead = async (store: EventStore, asOf: AsOf): Promise<void> => {
  const position = asOf.knownAt?.position;
  if (position === undefined) return;
  const head = await store.headPosition();
  if (position > head)
    throw new UsageError(
      `--known-at: position ${position} is past the ledger's head (${head === -1 ? 'the store is empty' : `position ${head}`})`,
    );
};
