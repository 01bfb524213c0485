import * as crypto from 'node:crypto';
import type { NewEvent, RecordedEvent } from '../envelope';

/**
 * The RFC 8785 (JSON Canonicalization Scheme) form of a JSON value: object keys sorted by UTF-16 code units
 * (what Array#sort does with strings), no white space, strings and numbers exactly as ECMAScript's
 * JSON.stringify writes them (which is what RFC 8785 specifies). Written here rather than taken from the
 * `canonicalize` package because every append and every verify hashes every event: this is about three
 * times faster, and a property test holds it to the package's output, byte for byte.
 */
// Strings with nothing to escape (the vast majority: ids, amounts, timestamps) are quoted directly; the
// rest go through JSON.stringify, whose escaping is the one RFC 8785 prescribes.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;
const quote = (text: string): string => (NEEDS_ESCAPING.test(text) ? JSON.stringify(text) : `"${text}"`);
const isPlain = (text: string): boolean => !NEEDS_ESCAPING.test(text);

/**
 * Sorts keys by UTF-16 code units, as Array#sort does, in place: insertion sort for the few keys of an
 * event's objects (Array#sort allocates a working copy on every call, which dominated the garbage of an
 * append), Array#sort for larger objects.
 */
const sortKeys = (keys: string[]): string[] => {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
};

/**
 * A string built by `+=` is a tree of its pieces (a V8 "cons string") until something reads it; reading one
 * character joins the tree into one flat string at once. Done here because the file store keeps each
 * event's canonical data from `append` until the write is durable: a tree of a few hundred pieces lives
 * that long and is copied by every garbage collection it survives (measured: scavenge time per event down
 * about four times), a flat string is one object. Harmless, and useless, elsewhere.
 */
const flatten = (text: string): string => {
  text.charCodeAt(0);
  return text;
};

const serialize = (value: unknown): string | undefined => {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`cannot canonicalize the number ${value}`);
      return JSON.stringify(value);
    case 'object':
      break;
    case 'bigint':
      throw new Error('cannot canonicalize a bigint: JSON has no form for it');
    default:
      return undefined; // undefined, functions and symbols have no JSON form, as in JSON.stringify
  }
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return serialize(withJson.toJSON());
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) text += ',';
      text += serialize(value[i]) ?? 'null';
    }
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = sortKeys(Object.keys(record));
  let text = '{';
  let first = true;
  for (const key of keys) {
    const member = serialize(record[key]);
    if (member === undefined) continue;
    if (!first) text += ',';
    text += memberName(key);
    text += member;
    first = false;
  }
  return `${text}}`;
};

/**
 * `"key":` for an object key, remembered: the data of events uses a few dozen keys over and over, and
 * quoting each one again was a quarter of the serializer's time and garbage. Bounded, for data whose keys
 * are not a small vocabulary.
 */
const memberNames = new Map<string, string>();
const memberName = (key: string): string => {
  let name = memberNames.get(key);
  if (name === undefined) {
    name = `${quote(key)}:`;
    if (memberNames.size < 4096) memberNames.set(key, name);
  }
  return name;
};

/** RFC 8785 (JSON Canonicalization Scheme) text of a JSON value: sorted keys, no spaces, stable numbers. */
export const canonicalJson = (value: unknown): string => {
  const text = serialize(value);
  if (text === undefined) throw new Error('cannot canonicalize a value that has no JSON form');
  return flatten(text);
};

// One-shot hashing (Node >= 20.12) skips the Hash object that createHash builds: about twice as fast for
// the short texts hashed here, on every append and every verify.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const sha256 = (text: string): string =>
  oneShotHash === undefined
    ? crypto.createHash('sha256').update(text, 'utf8').digest('hex')
    : oneShotHash('sha256', text, 'hex');

/** What an event's hash covers: everything it records but its own hash and its global position. */
export type HashedFields = Omit<RecordedEvent, 'hash' | 'position'>;

const isText = (value: unknown): value is string => typeof value === 'string';
const isWholeNumber = (value: unknown): value is number => Number.isSafeInteger(value);

/**
 * The RFC 8785 text of what an event's hash covers, written field by field in sorted key order (actor,
 * causationId, ..., type) instead of through the generic serializer, which sorts the keys of every
 * envelope again. `canonicalData` is canonicalJson(event.data) when the caller already has it (the file
 * store serialises each event's data once, for the hash and the record). An envelope with a field of an
 * unexpected kind takes the generic path, so the text is always canonicalJson of the envelope.
 */
const hashedText = (event: HashedFields, canonicalData?: string): string => {
  const { actor, causationId, correlationId, id, occurredAt, prevHash, recordedAt } = event;
  if (
    !isText(actor) ||
    !(causationId === null || isText(causationId)) ||
    !isText(correlationId) ||
    event.data === undefined ||
    !isText(id) ||
    !isText(occurredAt) ||
    !(prevHash === null || isText(prevHash)) ||
    !isText(recordedAt) ||
    !isWholeNumber(event.revision) ||
    !isWholeNumber(event.schemaVersion) ||
    !isText(event.stream) ||
    !isText(event.type)
  ) {
    return canonicalJson(pickHashed(event));
  }
  const data = canonicalData ?? canonicalJson(event.data);
  const { stream, type } = event;
  if (
    isPlain(actor) &&
    (causationId === null || isPlain(causationId)) &&
    isPlain(correlationId) &&
    isPlain(id) &&
    isPlain(occurredAt) &&
    (prevHash === null || isPlain(prevHash)) &&
    isPlain(recordedAt) &&
    isPlain(stream) &&
    isPlain(type)
  ) {
    // The usual case, nothing to escape: the quotes are part of the template, no quoted copy of each field.
    return (
      `{"actor":"${actor}","causationId":${causationId === null ? 'null' : `"${causationId}"`}` +
      `,"correlationId":"${correlationId}","data":${data},"id":"${id}","occurredAt":"${occurredAt}"` +
      `,"prevHash":${prevHash === null ? 'null' : `"${prevHash}"`},"recordedAt":"${recordedAt}"` +
      `,"revision":${event.revision},"schemaVersion":${event.schemaVersion},"stream":"${stream}","type":"${type}"}`
    );
  }
  return (
    `{"actor":${quote(actor)},"causationId":${causationId === null ? 'null' : quote(causationId)}` +
    `,"correlationId":${quote(correlationId)},"data":${data},"id":${quote(id)}` +
    `,"occurredAt":${quote(occurredAt)},"prevHash":${prevHash === null ? 'null' : quote(prevHash)}` +
    `,"recordedAt":${quote(recordedAt)},"revision":${event.revision},"schemaVersion":${event.schemaVersion}` +
    `,"stream":${quote(event.stream)},"type":${quote(event.type)}}`
  );
};

const pickHashed = (event: HashedFields): HashedFields => ({
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
});

/**
 * The hash of an event: SHA-256 of the canonical JSON of everything the event says, including the hash of
 * its predecessor in the stream. The global position is left out on purpose: it is assigned by the store
 * (on EventStoreDB, by the server), so that the chain is the same on every store. Pass `canonicalData`
 * (canonicalJson(event.data)) when you already have it, to save serialising the data twice.
 */
export const computeEventHash = (event: HashedFields, canonicalData?: string): string =>
  sha256(hashedText(event, canonicalData));

/**
 * An event's hash together with the text it is the hash of (the RFC 8785 form of the envelope without hash
 * and position), for a store that writes that text as its record instead of serialising the event again.
 */
export const hashEvent = (
  event: HashedFields,
  canonicalData?: string,
): { readonly hash: string; readonly canonicalText: string } => {
  const canonicalText = hashedText(event, canonicalData);
  return { hash: sha256(canonicalText), canonicalText };
};

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
