import { StoreCorruptionError, verifyStore } from '@partner-ledger/store';
import type { DigestAt, EventStore, VerifyProgress, VerifyReport } from '@partner-ledger/store';
import { verifyInOnePass } from '@partner-ledger/store-file';
import type { FileEventStore } from '@partner-ledger/store-file';
import { checkInvariants } from './invariants';
import type { InvariantProblem } from './invariants';

/** The first thing wrong with a ledger, whichever check found it. */
export interface LedgerProblem {
  /** `damage`: bytes on disk do not check out; `chain`: a hash link or hash; `invariant`: a rule of the ledger. */
  readonly kind: 'damage' | 'chain' | 'invariant';
  readonly position: number | null;
  readonly eventId: string | null;
  readonly stream: string | null;
  /** For damage: where the bytes are. */
  readonly file: string | null;
  readonly offset: number | null;
  /** For invariants: which one (`creditsSumToAmount`, ...). */
  readonly rule: string | null;
  readonly message: string;
}

/** What `verifyLedger` found: the hash links of every stream, then the ledger's invariants. */
export interface LedgerVerifyReport {
  /** True when every link and every invariant checked out. */
  readonly ok: boolean;
  /** Events whose links checked out (up to the first problem). */
  readonly eventsChecked: number;
  readonly headPosition: number;
  /** The digest of the events that checked out. */
  readonly digest: string;
  /** The digest every `checkpointEvery` events (empty without the option). */
  readonly checkpoints: readonly DigestAt[];
  /** The digest up to each position of `digestsAt` that the walk reached. */
  readonly digestsAt: readonly DigestAt[];
  readonly firstProblem: LedgerProblem | null;
}

/** What `verifyLedger` checks, and how it reports progress. */
export interface LedgerVerifyOptions {
  /** Verify the history up to this global position only (default: all of it). */
  readonly upToPosition?: number;
  readonly checkpointEvery?: number;
  readonly digestsAt?: readonly number[];
  /** Called as events are checked (links first, then the invariants replay), with a phase name. */
  readonly onProgress?: (phase: 'links' | 'invariants', eventsDone: number) => void;
}

const isFileStore = (store: EventStore): store is FileEventStore =>
  'openReport' in store && typeof (store as FileEventStore).openReport === 'object';

/**
 * Verifies a ledger: the bytes (the file store's checksums, when the store was opened tolerating damage),
 * every hash link (verifyStore), then the ledger's invariants (docs/auditing.md) over a replay. Returns the
 * earliest problem, or none.
 */
export const verifyLedger = async (
  store: EventStore,
  options: LedgerVerifyOptions = {},
): Promise<LedgerVerifyReport> => {
  const damage = isFileStore(store) ? store.openReport.damage : [];
  let chains: VerifyReport | null = null;
  let readFailure: StoreCorruptionError | null = null;
  const chainOptions = {
    ...(options.checkpointEvery === undefined ? {} : { checkpointEvery: options.checkpointEvery }),
    ...(options.digestsAt === undefined ? {} : { digestsAt: options.digestsAt }),
    progressEvery: 5_000,
    onProgress: ({ eventsChecked }: VerifyProgress) => options.onProgress?.('links', eventsChecked),
  };
  try {
    // A file store the open found clean: its links in one read of its bytes, up to what the open saw (a
    // writer may have appended since). Anything to report there, and any other store, goes through verifyStore.
    const head = isFileStore(store) && damage.length === 0 ? await store.headPosition() : undefined;
    chains =
      (head === undefined
        ? undefined
        : await verifyInOnePass((store as FileEventStore).directory, {
            ...chainOptions,
            upToPosition: Math.min(head, options.upToPosition ?? head),
          })) ??
      (await verifyStore(store, {
        ...(options.upToPosition === undefined ? {} : { upToPosition: options.upToPosition }),
        ...chainOptions,
      }));
  } catch (error) {
    if (!(error instanceof StoreCorruptionError)) throw error;
    readFailure = error;
  }
  const candidates: LedgerProblem[] = damage
    .filter(
      (d) => options.upToPosition === undefined || d.position === null || d.position <= options.upToPosition,
    )
    .map((d) => ({
      kind: 'damage',
      position: d.position,
      eventId: d.eventId,
      stream: d.stream,
      file: d.file,
      offset: d.offset,
      rule: null,
      message: `${d.eventId === null ? 'a damaged record' : `event ${JSON.stringify(d.eventId)}${d.position === null ? '' : ` at position ${d.position}`} is damaged`}: ${d.reason}`,
    }));
  if (chains !== null && !chains.ok) {
    const { position, eventId, stream, message } = chains.firstProblem;
    candidates.push({
      kind: 'chain',
      position,
      eventId,
      stream,
      file: null,
      offset: null,
      rule: null,
      message,
    });
  }
  if (readFailure !== null && candidates.length === 0) {
    candidates.push({
      kind: 'damage',
      position: readFailure.position ?? null,
      eventId: null,
      stream: null,
      file: readFailure.file ?? null,
      offset: readFailure.offset ?? null,
      rule: null,
      message: readFailure.message,
    });
  }
  if (candidates.length === 0 && chains !== null) {
    // The bytes and the links are sound: now the rules that the numbers must follow.
    const problem: InvariantProblem | null = await checkInvariants(store, {
      ...(options.upToPosition === undefined ? {} : { upToPosition: options.upToPosition }),
      onProgress: (done) => options.onProgress?.('invariants', done),
    });
    if (problem !== null) {
      candidates.push({
        kind: 'invariant',
        position: problem.position,
        eventId: problem.eventId,
        stream: problem.stream,
        file: null,
        offset: null,
        rule: problem.rule,
        message: `event ${JSON.stringify(problem.eventId)} at position ${problem.position} (stream ${JSON.stringify(problem.stream)}): ${problem.message}`,
      });
    }
  }
  // The earliest position first; damage that cannot be placed (a missing segment) first of all.
  candidates.sort((a, b) => (a.position ?? -1) - (b.position ?? -1));
  const firstProblem = candidates[0] ?? null;
  const eventsChecked = chains?.eventsChecked ?? 0;
  const headPosition = chains?.headPosition ?? -1;
  const digest = chains?.digest ?? '';
  const checkpoints = chains?.checkpoints ?? [];
  const digestsAt = chains?.digestsAt ?? [];
  if (firstProblem?.kind === 'damage' && firstProblem.position !== null) {
    // Count and digest only what precedes the damaged record, as verifyStore does for a broken link. (An
    // invariant problem keeps the full count and digest: every link checked out, the numbers did not.)
    const before = await verifyStore(store, { upToPosition: Math.max(-1, firstProblem.position - 1) }).catch(
      () => null,
    );
    if (before !== null)
      return {
        ok: false,
        eventsChecked: before.eventsChecked,
        headPosition: before.headPosition,
        digest: before.digest,
        checkpoints: checkpoints.filter((d) => d.position <= before.headPosition),
        digestsAt: digestsAt.filter((d) => d.position <= before.headPosition),
        firstProblem,
      };
  }
  return {
    ok: firstProblem === null,
    eventsChecked,
    headPosition,
    digest,
    checkpoints,
    digestsAt,
    firstProblem,
  };
};
