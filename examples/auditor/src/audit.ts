import { verifyLedger } from '@partner-ledger/cli';
import type { LedgerVerifyReport } from '@partner-ledger/cli';
import { commissionBalances, replay, sortKeys } from '@partner-ledger/projections';
import { compareWithKept } from '@partner-ledger/store';
import type { DigestAt, EventStore, KeptComparison } from '@partner-ledger/store';

/**
 * What the auditor kept from the close, outside the ledger (a signed PDF, an email, a ticket): the report
 * that `partner-ledger verify --format json > close.json` wrote then. Its head position, event count and
 * digest, and a checkpoint every 1,000 events.
 */
export interface SavedClose {
  readonly ok: boolean;
  readonly headPosition: number;
  readonly eventsChecked: number;
  readonly digest: string;
  readonly checkpoints?: readonly DigestAt[];
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
  /** The history up to the close, against the digests kept then: the same, or where it first differs. */
  readonly close: KeptComparison;
  /** The balances as they were reported: effective at asOf, as known at knownAt (canonical JSON). */
  readonly balancesThen: string;
  readonly ok: boolean;
}

/** The record the auditor keeps at the close: what `partner-ledger verify --format json` prints. */
export const saveClose = async (store: EventStore): Promise<SavedClose> => {
  const { ok, headPosition, eventsChecked, digest, checkpoints } = await verifyLedger(store, {
    checkpointEvery: 1000,
  });
  return { ok, headPosition, eventsChecked, digest, checkpoints };
};

/** The digests a saved close holds, in increasing position: its checkpoints, then its head. */
const keptDigests = (saved: SavedClose): DigestAt[] => [
  ...(saved.checkpoints ?? []).filter((d) => d.position < saved.headPosition),
  { position: saved.headPosition, eventCount: saved.eventsChecked, digest: saved.digest },
];

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
 * the history up to the close has not changed since (its digests are the ones saved then), as
 * `partner-ledger verify --expect close.json` does.
 */
export const audit = async (store: EventStore, request: AuditRequest): Promise<AuditReport> => {
  const kept = keptDigests(request.saved);
  const verify = await verifyLedger(store, { digestsAt: kept.map((d) => d.position) });
  const close = compareWithKept(kept, verify.digestsAt);
  return {
    verify,
    close,
    balancesThen: await balancesAsOf(store, request.asOf, request.knownAt),
    ok: verify.ok && close.same,
  };
};
