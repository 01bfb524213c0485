import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { NewEvent, RecordedEvent } from '../envelope';

/** RFC 8785 (JSON Canonicalization Scheme) text of a JSON value: sorted keys, no spaces, stable numbers. */
export const canonicalJson = (value: unknown): string => {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('cannot canonicalize a value that has no JSON form');
  return text;
};

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The hash of an event: SHA-256 of the canonical JSON of everything the event says, including the hash of
 * its predecessor in the stream. The global position is left out on purpose: it is assigned by the store
 * (on EventStoreDB, by the server), so that the chain is the same on every store.
 */
export const computeEventHash = (event: Omit<RecordedEvent, 'hash' | 'position'>): string =>
  sha256(
    canonicalJson({
      id: event.id,
      type: event.type,
      schemaVersion: event.schemaVersion,
      stream: event.stream,
      revision: event.revision,
      occurredAt: event.occurredAt,
      recordedAt: event.recordedAt,
      actor: event.actor,
      correlationId: event.correlationId,
      causationId: event.causationId,
      data: event.data,
      prevHash: event.prevHash,
    }),
  );

/**
 * Whether two events state the same fact, for idempotent appends: the same type, schema version,
 * occurrence time and data. recordedAt, actor and correlation may differ on a retry of the same fact.
 */
export const sameEventBody = (a: NewEvent, b: NewEvent): boolean =>
  a.type === b.type &&
  a.schemaVersion === b.schemaVersion &&
  a.occurredAt === b.occurredAt &&
  canonicalJson(a.data) === canonicalJson(b.data);

/** The digest of an empty history. */
export const GENESIS_DIGEST = sha256('partner-ledger/digest/v1');

/**
 * A digest folds event hashes in global order: d(n) = SHA-256(d(n-1) + hash(n)). Kept outside the ledger,
 * it lets an auditor prove later that the history up to that position has not changed.
 */
export const nextDigest = (previous: string, eventHash: string): string => sha256(previous + eventHash);
