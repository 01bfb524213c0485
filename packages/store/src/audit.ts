import { GENESIS_DIGEST, computeEventHash, nextDigest } from '@partner-ledger/events';
import type { RecordedEvent } from '@partner-ledger/events';
import { checkIntegerOption } from './append-rules';
import { eachEvent } from './paged';
import type { EventStore, ReadAllOptions } from './port';

/**
 * Where an event read for verification carries the SHA-256 of the very bytes it is stored as (see
 * {@link StoredTextHashReads}). Set by the store only when those bytes are the text the event's hash covers
 * and they hash to the event's stored hash.
 */
export const STORED_TEXT_HASH: unique symbol = Symbol('partner-ledger/stored-text-hash');

/**
 * What a store may offer verifyStore and computeDigest besides the port: a readAll whose events carry,
 * under {@link STORED_TEXT_HASH}, the hash of the bytes they were read from, when the store keeps each event
 * as exactly the canonical text its hash was taken over (the file store does). Hashing those bytes proves
 * what re-serialising the event proves: if they hash to the stored hash, they are the text that was hashed
 * when the event was recorded. An event without it is hashed from its content, as on any other store.
 */
export interface StoredTextHashReads {
  /**
   * The events of readAll in pages (as PagedReads gives them); those whose stored bytes check out carry
   * their hash under STORED_TEXT_HASH, and may be given as their {@link ChainLink} only (the fields
   * verifyStore and computeDigest read) when the store took those fields from the bytes without parsing
   * the rest.
   */
  readAllForVerify(options?: ReadAllOptions): AsyncIterable<readonly (RecordedEvent | ChainLink)[]>;
}

/**
 * What verifyStore and computeDigest read of an event: its place in the log and in its stream, and the two
 * hashes of its link. A store's readAllForVerify gives this instead of the whole event only for an event
 * whose stored bytes are the canonical text its hash covers and hash to its stored hash (STORED_TEXT_HASH,
 * set): nothing else of the event is needed to check its link and fold it into the digest.
 */
export type ChainLink = Pick<
  RecordedEvent,
  'position' | 'id' | 'stream' | 'revision' | 'prevHash' | 'hash'
> & {
  readonly [STORED_TEXT_HASH]: string;
};

/** An event as verifyStore and computeDigest read it: whole, or its chain link (see ChainLink). */
type Verified = RecordedEvent | ChainLink;

/** The event's hash, from its stored bytes when the store hashed them on the way (see STORED_TEXT_HASH). */
const contentHashOf = (event: Verified): string =>
  (event as { readonly [STORED_TEXT_HASH]?: string })[STORED_TEXT_HASH] ??
  computeEventHash(event as RecordedEvent);

/** What is wrong with an event, in the order verifyStore checks it. */
export type VerifyProblemKind =
  /** Its global position is not greater than the previous event's. */
  | 'position-out-of-order'
  /** Its revision is not the one after its stream's previous event (a gap, a repeat, or out of order). */
  | 'revision-out-of-sequence'
  /** Its prevHash is not the hash of its stream's previous event (or not null at revision 0). */
  | 'broken-link'
  /** Its content does not hash to its stored hash: it was changed after it was recorded. */
  | 'hash-mismatch';

/** The first event that does not check out. */
export interface VerifyProblem {
  readonly position: number;
  readonly eventId: string;
  readonly stream: string;
  readonly revision: number;
  readonly kind: VerifyProblemKind;
  readonly message: string;
}

/** What every verify report says, whether the history checked out or not. */
export interface VerifiedPrefix {
  /** How many events checked out (all of them when ok; those before the first problem otherwise). */
  readonly eventsChecked: number;
  /** The position of the last event that checked out; -1 when none did. */
  readonly headPosition: number;
  /** The digest of the events that checked out (see computeDigest). */
  readonly digest: string;
}

/** The digest of the history up to a position (inclusive), and how many events it folds. */
export interface DigestAt {
  readonly position: number;
  readonly eventCount: number;
  readonly digest: string;
}

/** The digests kept along the way, when verify was asked for them. */
export interface VerifiedDigests {
  /** Every `checkpointEvery` events: the digest so far (only when that option is given). */
  readonly checkpoints?: readonly DigestAt[];
  /**
   * The digest up to each position of `digestsAt`, in the order given, for the positions the walk reached
   * (a position past the head gets the digest of the whole history: nothing more was there). Only when
   * that option is given.
   */
  readonly digestsAt?: readonly DigestAt[];
}

/** The outcome of verifyStore: every field but firstProblem is about the events that checked out. */
export type VerifyReport =
  | (VerifiedPrefix & VerifiedDigests & { readonly ok: true })
  | (VerifiedPrefix & VerifiedDigests & { readonly ok: false; readonly firstProblem: VerifyProblem });

/** How far verification has come. */
export interface VerifyProgress {
  readonly eventsChecked: number;
  readonly position: number;
}

/** How far `verifyStore` reads, how it reports progress, and its page size. */
export interface VerifyOptions {
  /** Verify the history up to this position (inclusive). Default: all of it. */
  readonly upToPosition?: number;
  /** Called every `progressEvery` events, and once at the end with the totals. */
  readonly onProgress?: (progress: VerifyProgress) => void;
  /** Default 10,000. */
  readonly progressEvery?: number;
  /** Page size for the store's readAll. Default: the store's. */
  readonly pageSize?: number;
  /** Keep the digest every this many events (`checkpoints`), so that a later check can say where it differs. */
  readonly checkpointEvery?: number;
  /** Positions whose digest to report (`digestsAt`): those of checkpoints kept earlier. */
  readonly digestsAt?: readonly number[];
}

/** How far `computeDigest` reads, and its page size. */
export interface DigestOptions {
  /** Fold the history up to this position (inclusive). Default: all of it. */
  readonly upToPosition?: number;
  readonly pageSize?: number;
}

/**
 * The digest of the history up to a position: keep it outside the ledger to prove later that nothing up to it
 * changed.
 */
export interface DigestResult {
  readonly digest: string;
  /** The position of the last event folded in; -1 when there was none (the digest is GENESIS_DIGEST). */
  readonly position: number;
  readonly eventCount: number;
}

/** Calls `visit` with each event up to the position, hashed from its stored bytes when the store can. */
const eachUpTo = (
  store: EventStore,
  upToPosition: number | undefined,
  pageSize: number | undefined,
  visit: (event: Verified) => boolean,
): Promise<void> => {
  checkIntegerOption('upToPosition', upToPosition, -1);
  const options: ReadAllOptions = {
    ...(pageSize === undefined ? {} : { pageSize }),
    ...(upToPosition === undefined ? {} : { asKnownAt: { position: upToPosition } }),
  };
  const forVerify = (store as Partial<StoredTextHashReads>).readAllForVerify;
  return eachEvent(
    store,
    options,
    visit,
    // The visit reads only a ChainLink's fields of each event, so links may stand in for events here.
    typeof forVerify === 'function'
      ? { pages: forVerify.bind(store) as (o: ReadAllOptions) => AsyncIterable<readonly RecordedEvent[]> }
      : {},
  );
};

const checkEvent = (
  event: Verified,
  previousPosition: number,
  streamHead: { readonly revision: number; readonly hash: string } | undefined,
  recomputed: string,
): { kind: VerifyProblemKind; message: string } | undefined => {
  if (event.position <= previousPosition) {
    return {
      kind: 'position-out-of-order',
      message: `position ${event.position} does not follow position ${previousPosition}`,
    };
  }
  const expectedRevision = streamHead === undefined ? 0 : streamHead.revision + 1;
  if (event.revision !== expectedRevision) {
    return {
      kind: 'revision-out-of-sequence',
      message: `revision ${event.revision} where revision ${expectedRevision} of the stream was expected`,
    };
  }
  const expectedPrevHash = streamHead === undefined ? null : streamHead.hash;
  if (event.prevHash !== expectedPrevHash) {
    return {
      kind: 'broken-link',
      message: `prevHash ${String(event.prevHash)} is not the hash of the previous event in the stream (${String(expectedPrevHash)})`,
    };
  }
  if (event.hash !== recomputed) {
    return {
      kind: 'hash-mismatch',
      message: `the event's content hashes to ${recomputed}, not to its stored hash ${event.hash}: it was changed`,
    };
  }
  return undefined;
};

/** What a chain verifier is told about the walk: where to keep digests, and how to report progress. */
export type ChainVerifierOptions = Pick<
  VerifyOptions,
  'onProgress' | 'progressEvery' | 'checkpointEvery' | 'digestsAt'
>;

/**
 * The checks of verifyStore, fed one event (or chain link) at a time by whoever reads the history: a
 * store's readAll (verifyStore), or a reader of a store's files that checks their bytes in the same pass
 * (the file store's one-pass verify). `visit` returns false at the first event that does not check out;
 * `finish` gives the report (call it once, after the last visit or the one that returned false).
 */
export interface ChainVerifier {
  /** Checks the next event in global order and folds it into the digest; false at the first that does not check out. */
  readonly visit: (event: RecordedEvent | ChainLink) => boolean;
  /** The report of what was visited: ok, or the first problem (and the digests asked for, up to it). */
  readonly finish: () => VerifyReport;
}

/** A ChainVerifier (see verifyStore for what it checks); the options are checked here. */
export const createChainVerifier = (options: ChainVerifierOptions = {}): ChainVerifier => {
  const { onProgress, progressEvery = 10_000, checkpointEvery } = options;
  checkIntegerOption('progressEvery', progressEvery, 1);
  checkIntegerOption('checkpointEvery', checkpointEvery, 1);
  for (const position of options.digestsAt ?? []) checkIntegerOption('digestsAt', position, -1);
  // Each stream's head, changed in place as the stream grows: one look-up and no allocation per event
  // (a new head object per event would outlive the young generation and fill the old one with garbage).
  const heads = new Map<string, { revision: number; hash: string }>();
  let digest = GENESIS_DIGEST;
  let eventsChecked = 0;
  let headPosition = -1;
  const checkpoints: DigestAt[] = [];
  // The digest up to p is known once the walk reaches the first event after p (or the end).
  const targets = [...new Set(options.digestsAt ?? [])].sort((a, b) => a - b);
  const reached = new Map<number, DigestAt>();
  let nextTarget = 0;
  const settleTargets = (before: number): void => {
    while (nextTarget < targets.length && targets[nextTarget]! < before) {
      reached.set(targets[nextTarget]!, {
        position: targets[nextTarget]!,
        eventCount: eventsChecked,
        digest,
      });
      nextTarget += 1;
    }
  };
  /** The optional parts of the report, present when asked for. */
  const digests = (): VerifiedDigests => ({
    ...(checkpointEvery === undefined ? {} : { checkpoints }),
    ...(options.digestsAt === undefined
      ? {}
      : {
          digestsAt: options.digestsAt.flatMap((p) => {
            const found = reached.get(p);
            return found === undefined ? [] : [found];
          }),
        }),
  });
  let failure = undefined as VerifyReport | undefined;
  const visit = (event: Verified): boolean => {
    settleTargets(event.position);
    const recomputed = contentHashOf(event);
    const head = heads.get(event.stream);
    const problem = checkEvent(event, headPosition, head, recomputed);
    if (problem !== undefined) {
      onProgress?.({ eventsChecked, position: headPosition });
      const { position, id: eventId, stream, revision } = event;
      failure = {
        ok: false,
        eventsChecked,
        headPosition,
        digest,
        ...digests(),
        firstProblem: {
          position,
          eventId,
          stream,
          revision,
          kind: problem.kind,
          message: `event ${JSON.stringify(eventId)} at position ${position} (stream ${JSON.stringify(stream)}, revision ${revision}): ${problem.message}`,
        },
      };
      return false;
    }
    if (head === undefined) heads.set(event.stream, { revision: event.revision, hash: event.hash });
    else {
      head.revision = event.revision;
      head.hash = event.hash;
    }
    digest = nextDigest(digest, recomputed);
    eventsChecked += 1;
    headPosition = event.position;
    if (checkpointEvery !== undefined && eventsChecked % checkpointEvery === 0)
      checkpoints.push({ position: headPosition, eventCount: eventsChecked, digest });
    if (eventsChecked % progressEvery === 0) onProgress?.({ eventsChecked, position: headPosition });
    return true;
  };
  const finish = (): VerifyReport => {
    if (failure !== undefined) return failure;
    settleTargets(Number.POSITIVE_INFINITY);
    onProgress?.({ eventsChecked, position: headPosition });
    return { ok: true, eventsChecked, headPosition, digest, ...digests() };
  };
  return { visit, finish };
};

/**
 * Walks the history in global order and checks every event: positions strictly increase; in each stream,
 * revisions run 0, 1, 2, ... and every prevHash is the hash of the stream's previous event; every hash is
 * what the event's content hashes to. Stops at the first event that does not check out and names it.
 * Memory grows with the number of streams, not with the number of events. On a store that keeps each event
 * as the canonical text its hash covers (the file store: {@link StoredTextHashReads}), an event whose stored
 * bytes hash to its stored hash is not serialised again: those bytes are the text that was hashed.
 *
 * What a chain cannot show, the digest can: events removed from the end of a stream, or a history rewritten
 * consistently from some point on. Keep digests (computeDigest) where the store cannot change them.
 */
export const verifyStore = async (store: EventStore, options: VerifyOptions = {}): Promise<VerifyReport> => {
  const verifier = createChainVerifier(options);
  await eachUpTo(store, options.upToPosition, options.pageSize, verifier.visit);
  return verifier.finish();
};

/**
 * The digest of the history up to a position: d0 = GENESIS_DIGEST, d(n) = nextDigest(d(n-1), hash(n)),
 * in global order. Each event's hash is recomputed from its content (on an intact store it equals the stored
 * hash), so that any change to an event changes the digest, even one that left the stored hash alone.
 * An auditor who kept the digest of position P can later prove that nothing up to P has changed.
 */
export const computeDigest = async (
  store: EventStore,
  options: DigestOptions = {},
): Promise<DigestResult> => {
  let digest = GENESIS_DIGEST;
  let position = -1;
  let eventCount = 0;
  await eachUpTo(store, options.upToPosition, options.pageSize, (event) => {
    digest = nextDigest(digest, contentHashOf(event));
    position = event.position;
    eventCount += 1;
    return true;
  });
  return { digest, position, eventCount };
};

/** How a history compares with digests kept from it earlier (see compareWithKept). */
export type KeptComparison =
  | { readonly same: true; readonly position: number }
  | {
      readonly same: false;
      /** The last kept position whose digest still matches; null when none does. */
      readonly sameUpTo: number | null;
      /** The first kept position whose digest differs: the first change is after sameUpTo and at or before it. */
      readonly differsBy: number;
      readonly message: string;
    };

/**
 * Compares digests kept earlier (`checkpoints` and the head of a verify report, in increasing position) with
 * those of the history now (`digestsAt` of a verifyStore run given the same positions). Names the window in
 * which the first change lies: after the last kept position that still matches, at or before the first that
 * does not. Kept every event (`checkpointEvery: 1`), that window is one position.
 *
 * `headNow` is the position of the store's last event now. Give it: the digest "up to" a position past the
 * end is that of the whole shorter history, so a kept position past the head, with that digest and count
 * written in (by hand, or by a tool), would otherwise compare as the same, though an event was kept at that
 * position and is no longer there.
 */
export const compareWithKept = (
  kept: readonly DigestAt[],
  now: readonly DigestAt[],
  headNow?: number,
): KeptComparison => {
  const current = new Map(now.map((d) => [d.position, d]));
  let sameUpTo: number | null = null;
  for (const expected of [...kept].sort((a, b) => a.position - b.position)) {
    const found = current.get(expected.position);
    const window =
      sameUpTo === null
        ? `at or before position ${expected.position}`
        : `after position ${sameUpTo} (unchanged up to there) and at or before position ${expected.position}`;
    if (headNow !== undefined && expected.position > headNow)
      return {
        same: false,
        sameUpTo,
        differsBy: expected.position,
        message: `the history ends at ${headNow === -1 ? 'no event (the store is empty)' : `position ${headNow}`}, before the kept position ${expected.position}: events were removed; the first change is ${window}`,
      };
    if (found === undefined)
      return {
        same: false,
        sameUpTo,
        differsBy: expected.position,
        message: `the history could not be read up to position ${expected.position}; the first change is ${window}`,
      };
    if (found.digest !== expected.digest || found.eventCount !== expected.eventCount) {
      const count =
        found.eventCount === expected.eventCount
          ? ''
          : ` (${found.eventCount} events up to it now, ${expected.eventCount} then: ${found.eventCount < expected.eventCount ? 'events were removed' : 'events were added'})`;
      return {
        same: false,
        sameUpTo,
        differsBy: expected.position,
        message: `the digest up to position ${expected.position} differs from the kept one${count}; the first change is ${window}`,
      };
    }
    sameUpTo = expected.position;
  }
  return { same: true, position: sameUpTo ?? -1 };
};
