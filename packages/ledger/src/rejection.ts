/**
 * Why the ledger refused a command. A rejection is an ordinary outcome (bad input, a rule the command
 * breaks, a key reused with other content), returned as the left side of an Either: nothing was appended.
 */
export const REJECTION_CODES = [
  /** The command does not decode: `field` names the first offending field, `problems` lists them all. */
  'INVALID_COMMAND',
  /** A natural key (click id, conversion id, payout id, ...) was used before with different content. */
  'IDEMPOTENCY_CONFLICT',
  /** Other writers kept changing the streams this command decides on; the retries ran out. */
  'CONCURRENCY_CONFLICT',
  'PROGRAM_NOT_CONFIGURED',
  'OCCURRED_IN_FUTURE',
  /**
   * The command's occurredAt is earlier than the fact it acts on: a reversal or a review before its
   * conversion, a payout confirmed or failed before it was issued. Replayed as of a moment in between, such a
   * history would hold the effect without its cause.
   */
  'OCCURRED_BEFORE_SUBJECT',
  'PARTNER_NOT_FOUND',
  /** An erasure names a visitor no event can name: no visitors' key was made since the last erasure of all. */
  'VISITOR_NOT_FOUND',
  'PARTNER_NOT_ACTIVE',
  'PARTNER_TERMINATED',
  'PARENT_PARTNER_NOT_FOUND',
  'COUPON_TAKEN',
  'NO_CHANGE',
  'PLAN_NOT_FOUND',
  'PLAN_VERSION_OUT_OF_ORDER',
  'PLAN_EFFECTIVE_FROM_NOT_LATER',
  'PLAN_INVALID',
  'REGISTRATION_CONFLICT',
  'REGISTRATION_NOT_FOUND',
  'REGISTRATION_NOT_PENDING',
  'REGISTRATION_CLOSED',
  'REGISTRATION_EXPIRED',
  'REGISTRATION_NOT_EXPIRED',
  'EXPIRY_NOT_LATER',
  'FX_RATE_MISSING',
  'FX_RATE_AMBIGUOUS',
  'FX_RATE_AFTER_CONVERSION',
  'RATING_FAILED',
  'CONVERSION_NOT_FOUND',
  'REVERSAL_AMOUNT_INVALID',
  'REVERSAL_EXCEEDS_REMAINING',
  'NOTHING_LEFT_TO_REVERSE',
  'LINE_NOT_FOUND',
  'LINE_NOT_PENDING',
  'LINE_NOT_HELD',
  'LINE_ALREADY_REJECTED',
  'LINE_ALREADY_SETTLED',
  'PAYOUT_BELOW_MINIMUM',
  'PAYOUT_EXCEEDS_PAYABLE',
  'PAYOUT_NOT_FOUND',
  /** A payout that failed cannot be confirmed as paid (issue a new one). */
  'PAYOUT_ALREADY_FAILED',
] as const;

/** Why a command was refused: one of REJECTION_CODES. */
export type LedgerRejectionCode = (typeof REJECTION_CODES)[number];

/**
 * A refused command: the code, a message for people, and the field and rule it names. A refused command
 * appends nothing.
 */
export interface LedgerRejection {
  readonly code: LedgerRejectionCode;
  /** A sentence for people: what was refused and why, with the values involved. */
  readonly message: string;
  /** The command field at fault (`amount`, `fx`, `lines[2].amount`), when one is. */
  readonly field?: string;
  /** The rule the command breaks (`oneActiveRegistrationPerAccount`, `minimumPayout`), when one does. */
  readonly rule?: string;
  /** INVALID_COMMAND only: every problem found, each with its field. */
  readonly problems?: readonly { readonly path: string; readonly message: string }[];
}

export const reject = (
  code: LedgerRejectionCode,
  message: string,
  where: { readonly field?: string; readonly rule?: string } = {},
): LedgerRejection => ({ code, message, ...where });
