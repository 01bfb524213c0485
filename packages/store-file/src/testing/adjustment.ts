import type { NewEvent } from '@partner-ledger/events';

/** The instant `seconds` after 2026-01-01T00:00:00Z, in the stored form. */
export const at = (seconds: number): string => new Date(Date.UTC(2026, 0, 1) + seconds * 1000).toISOString();

/**
 * A ledger event with money in it for the verify tests: non-ASCII and escaped text in its reason (the bytes
 * hashed are UTF-8, as the hash of the text is). For tests only.
 */
export const adjustment = (n: number): NewEvent => ({
  id: `e-${n}`,
  type: 'ManualAdjustmentRecorded',
  schemaVersion: 1,
  data: {
    adjustmentId: `e-${n}`,
    partnerId: `partner-${n % 3}`,
    amount: `${100 + n}.00`,
    currency: 'USD',
    reason: n % 2 === 0 ? 'goodwill, Zürich "VIP" \u2603' : 'line\nbreak \ud83d\ude00',
  },
  occurredAt: at(n),
  recordedAt: at(n),
  actor: 'user:auditor@vendor.example',
  correlationId: `corr-${n}`,
  causationId: null,
});
