import * as t from 'io-ts';
import { Id, NonNegativeInteger, Timestamp, nullable, struct } from './codec/primitives';
import { isId, isRecordOf, isSha256Hex, isTimestamp } from './catalogue/guards';

/** Who or what caused an event, and why: carried by every event, covered by its hash. */
export interface EventContext {
  /** When it happened in the source system. "Effective at T" means occurredAt <= T. */
  readonly occurredAt: string;
  /** When the ledger learnt it. "As known at K" means recordedAt <= K. */
  readonly recordedAt: string;
  /** The user, service or job that caused it (`user:ana@vendor.com`, `service:checkout`). */
  readonly actor: string;
  /** Ties together every event caused by one request or job. */
  readonly correlationId: string;
  /** The id of the event or command that caused this one, if any. */
  readonly causationId: string | null;
}

/** An event as the ledger asks a store to append it. The store adds stream, revision, position and hashes. */
export interface NewEvent<Type extends string = string, Data = unknown> extends EventContext {
  readonly id: string;
  readonly type: Type;
  readonly schemaVersion: number;
  readonly data: Data;
}

/** An event as stored: what every store returns, and what `verify` checks. */
export interface RecordedEvent<Type extends string = string, Data = unknown> extends NewEvent<Type, Data> {
  readonly stream: string;
  /** 0-based position of the event in its stream. */
  readonly revision: number;
  /**
   * The event's place in the store's global order: an integer >= 0, strictly increasing in that order and
   * never reused. Compare positions; do not count with them. The in-memory and file stores number events
   * 0, 1, 2, ... with no gap; on EventStoreDB it is the server's commit position (gaps, not from 0).
   */
  readonly position: number;
  /** The hash of the previous event in the same stream; null for revision 0. */
  readonly prevHash: string | null;
  /** SHA-256 (hex) over this event's canonical form, which includes prevHash. */
  readonly hash: string;
}

const Hash = new t.Type<string, string, unknown>(
  'a SHA-256 hash (64 lowercase hex digits)',
  isSha256Hex,
  (u, c) =>
    isSha256Hex(u)
      ? t.success(u)
      : t.failure(u, c, `expected a SHA-256 hash (64 lowercase hex digits), got ${JSON.stringify(u)}`),
  (a) => a,
);

const ENVELOPE_FIELDS = {
  id: Id,
  type: Id,
  schemaVersion: NonNegativeInteger,
  stream: Id,
  revision: NonNegativeInteger,
  position: NonNegativeInteger,
  occurredAt: Timestamp,
  recordedAt: Timestamp,
  actor: Id,
  correlationId: Id,
  causationId: nullable(Id),
  data: t.unknown,
  prevHash: nullable(Hash),
  hash: Hash,
};
/** The generic codec of the envelope: its `validate` explains failures; tests compare the guard below with its `is`. */
export const GenericRecordedEventEnvelope = struct('a recorded event', ENVELOPE_FIELDS);
const Envelope = GenericRecordedEventEnvelope;
const ENVELOPE_KEYS = new Set(Object.keys(ENVELOPE_FIELDS));

/**
 * Exactly what `Envelope.is` accepts (an object, not an array, with no key but the envelope's, no own
 * `__proto__`, each field passing its codec's guard, `data` anything but missing), written out field by field
 * because every event a replay reads goes through it: the generic struct guard loops over codecs and keys.
 */
const isEnvelope = (u: unknown): u is t.TypeOf<typeof Envelope> => {
  if (!isRecordOf(u, ENVELOPE_KEYS)) return false;
  const e = u;
  return (
    isId(e.id) &&
    isId(e.type) &&
    NonNegativeInteger.is(e.schemaVersion) &&
    isId(e.stream) &&
    NonNegativeInteger.is(e.revision) &&
    NonNegativeInteger.is(e.position) &&
    isTimestamp(e.occurredAt) &&
    isTimestamp(e.recordedAt) &&
    isId(e.actor) &&
    isId(e.correlationId) &&
    (e.causationId === null || isId(e.causationId)) &&
    (e.prevHash === null || isSha256Hex(e.prevHash)) &&
    isSha256Hex(e.hash) &&
    // io-ts refuses a missing key even where the field's codec takes anything.
    (e.data !== undefined || Object.prototype.hasOwnProperty.call(e, 'data'))
  );
};

/** The envelope of a stored event, with its data left undecoded (see `decodeEvent` for the data). */
export const RecordedEventEnvelope = new t.Type<
  t.TypeOf<typeof Envelope>,
  t.OutputOf<typeof Envelope>,
  unknown
>(Envelope.name, isEnvelope, Envelope.validate, Envelope.encode);
