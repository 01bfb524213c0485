import { ANY, NO_STREAM, STREAM_EXISTS, WrongExpectedVersionError } from '@eventstore/db-client';
import type { AppendExpectedRevision, CurrentRevision } from '@eventstore/db-client';
import type { ActualRevision, ExpectedRevision } from '@partner-ledger/store';

// Revisions are numbers in the port and bigints (or string constants) in the client. A stream revision
// fits in a number for any stream this ledger can hold (2^53 events), so the conversions are exact, and
// they refuse anything outside that range rather than round it.

const toSafeNumber = (value: bigint, what: string): number => {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${what} ${value} is outside the range of revisions the ledger supports`);
  }
  return Number(value);
};

/** The port's expected revision in the client's terms. */
export const toClientExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision => {
  switch (expected) {
    case 'any':
      return ANY;
    case 'noStream':
      return NO_STREAM;
    case 'streamExists':
      return STREAM_EXISTS;
    default:
      if (!Number.isSafeInteger(expected) || expected < 0) {
        throw new RangeError(`expected revision must be a revision >= 0, got ${String(expected)}`);
      }
      return BigInt(expected);
  }
};

/** The revision a stream was at, as the client reports it, in the port's terms. */
export const fromClientCurrentRevision = (current: CurrentRevision): ActualRevision =>
  current === NO_STREAM ? 'noStream' : toSafeNumber(current, 'stream revision');

/**
 * The revision a stream is at, as an append result with `success: false` reports it (the client answers
 * so instead of throwing when `throwOnAppendFailure` is off): -1 means that the stream does not exist.
 */
export const fromNextExpectedRevision = (next: bigint): ActualRevision =>
  next < 0n ? 'noStream' : toSafeNumber(next, 'stream revision');

export const isWrongExpectedVersion = (error: unknown): error is WrongExpectedVersionError =>
  error instanceof WrongExpectedVersionError;
