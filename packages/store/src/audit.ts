import { GENESIS_DIGEST, computeEventHash, nextDigest } from '@partner-ledger/events';
import type { RecordedEvent } from '@partner-ledger/events';
import { checkIntegerOption } from './append-rules';
import type { EventStore } from './port';

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

/** The outcome of verifyStore: every field but firstProblem is about the events that checked out. */
export type VerifyReport =
  | (VerifiedPrefix & { readonly ok: true })
  | (VerifiedPrefix & { readonly ok: false; readonly firstProblem: VerifyProblem });

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

const readUpTo = (store: EventStore, upToPosition: number | undefined, pageSize: number | undefined) => {
  checkIntegerOption('upToPosition', upToPosition, -1);
  return store.readAll({
    ...(pageSize === undefined ? {} : { pageSize }),
    ...(upToPosition === undefined ? {} : { asKnownAt: { position: upToPosition } }),
  });
};

const checkEvent = (
  event: RecordedEvent,
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

/**
 * Walks the history in global order and checks every event: positions strictly increase; in each stream,
 * revisions run 0, 1, 2, ... and every prevHash is the hash of the stream's previous event; every hash is
 * what the event's content hashes to. Stops at the first event that does not check out and names it.
 * Memory grows with the number of streams, not with the number of events.
 *
 * What a chain cannot show, the digest can: events removed from the end of a stream, or a history rewritten
 * consistently from some point on. Keep digests (computeDigest) where the store cannot change them.
 */
export const verifyStore = async (store: EventStore, options: VerifyOptions = {}): Promise<VerifyReport> => {
  const { upToPosition, onProgress, progressEvery = 10_000, pageSize } = options;
  checkIntegerOption('progressEvery', progressEvery, 1);
  const heads = new Map<string, { readonly revision: number; readonly hash: string }>();
  let digest = GENESIS_DIGEST;
  let eventsChecked = 0;
  let headPosition = -1;
  for await (const event of readUpTo(store, upToPosition, pageSize)) {
    const recomputed = computeEventHash(event);
    const problem = checkEvent(event, headPosition, heads.get(event.stream), recomputed);
    if (problem !== undefined) {
      onProgress?.({ eventsChecked, position: headPosition });
      const { position, id: eventId, stream, revision } = event;
      return {
        ok: false,
        eventsChecked,
        headPosition,
        digest,
        firstProblem: {
          position,
          eventId,
          stream,
          revision,
          kind: problem.kind,
          message: `event ${JSON.stringify(eventId)} at position ${position} (stream ${JSON.stringify(stream)}, revision ${revision}): ${problem.message}`,
        },
      };
    }
    heads.set(event.stream, { revision: event.revision, hash: event.hash });
    digest = nextDigest(digest, recomputed);
    eventsChecked += 1;
    headPosition = event.position;
    if (eventsChecked % progressEvery === 0) onProgress?.({ eventsChecked, position: headPosition });
  }
  onProgress?.({ eventsChecked, position: headPosition });
  return { ok: true, eventsChecked, headPosition, digest };
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
  for await (const event of readUpTo(store, options.upToPosition, options.pageSize)) {
    digest = nextDigest(digest, computeEventHash(event));
    position = event.position;
    eventCount += 1;
  }
  return { digest, position, eventCount };
};
