import { verifyLedger } from '@partner-ledger/cli';
import type { LedgerVerifyReport } from '@partner-ledger/cli';
import { commissionBalances, replay, sortKeys } from '@partner-ledger/projections';
import { computeDigest } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';

/** What the auditor kept from the close, outside the ledger (a signed PDF, an email, a ticket). */
export interface SavedClose {
  /** The global position of the last event of the close. */
  readonly position: number;
  /** `partner-ledger verify --up-to <position> --format json` printed it then. */
  readonly digest: string;
}

export interface AuditRequest {
  /** The end of the audited period: effective at (occurredAt <= asOf). */
  readonly asOf: string;
  /** When the figures were reported: as known at (recordedAt <= knownAt). */
  readonly knownAt: string;
  readonly saved: SavedClose;
}

export interface AuditReport {
  /** Every hash link and invariant of the whole ledger, today. */
  readonly verify: LedgerVerifyReport;
  /** The digest of the history up to the saved position, recomputed now. */
  readonly digestNow: string;
  readonly digestMatches: boolean;
  /** The balances as they were reported: effective at asOf, as known at knownAt (canonical JSON). */
  readonly balancesThen: string;
  readonly ok: boolean;
}

/** The record the auditor keeps at the close: the position reached and the digest of the history up to it. */
export const saveClose = async (store: EventStore): Promise<SavedClose> => {
  const { digest, position } = await computeDigest(store);
  return { position, digest };
};

/** Balances effective at `asOf` as known at `knownAt`, as canonical JSON: the same bytes on every replay. */
export const balancesAsOf = async (store: EventStore, asOf: string, knownAt: string): Promise<string> => {
  const { results } = await replay(
    store,
    { balances: commissionBalances() },
    { effectiveAt: asOf, asKnownAt: { recordedAt: knownAt } },
  );
  return JSON.stringify(sortKeys(results.balances));
};

/**
 * The auditor's routine: replay the balances as they were reported, verify the whole ledger, and prove that
 * the history up to the close has not changed since (its digest is the one saved then).
 */
export const audit = async (store: EventStore, request: AuditRequest): Promise<AuditReport> => {
  const verify = await verifyLedger(store);
  const now = await computeDigest(store, { upToPosition: request.saved.position });
  const digestMatches = now.position === request.saved.position && now.digest === request.saved.digest;
  return {
    verify,
    digestNow: now.digest,
    digestMatches,
    balancesThen: await balancesAsOf(store, request.asOf, request.knownAt),
    ok: verify.ok && digestMatches,
  };
};
