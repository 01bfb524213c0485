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

/**
 * The same text as `serialize`, written as UTF-8 into one scratch buffer and decoded once at the end. Every
 * append serialises its data: `serialize` builds it from some sixty pieces (a tree of strings, each quoted
 * value a string of its own) and then flattens the tree into a copy, about 3 KB of garbage for a 400-byte
 * text; written here, the garbage is the text itself and the key lists. Plain ASCII strings and member names
 * are copied character by character; anything else goes through JSON.stringify (whose escaping is RFC
 * 8785's) and Buffer#write. Property-tested against `serialize` and the canonicalize package.
 */
let scratch = Buffer.allocUnsafe(64 * 1024);
/** In use by a canonicalJson call: a toJSON that calls canonicalJson itself gets `serialize`. */
let scratchInUse = false;
/** writeValue's answer for a value that has no JSON form (undefined, a function, a symbol). */
const NO_FORM = -1;

/** Makes room for `bytes` more bytes at `at` (the text so far is kept). */
const room = (at: number, bytes: number): void => {
  if (at + bytes <= scratch.length) return;
  const larger = Buffer.allocUnsafe(Math.max(2 * scratch.length, at + bytes));
  scratch.copy(larger, 0, 0, at);
  scratch = larger;
};

/** Writes `text` as UTF-8 at `at`, as it is (a member name, a number, a literal); returns its end. */
const writeRaw = (text: string, at: number): number => {
  room(at, text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) {
      room(at, 3 * text.length);
      return at + scratch.write(text, at, 'utf8');
    }
    scratch[at + i] = code;
  }
  return at + text.length;
};

/** Writes a JSON string value (quoted, escaped as JSON.stringify escapes) at `at`; returns its end. */
const writeString = (text: string, at: number): number => {
  room(at, text.length + 2);
  scratch[at] = 0x22;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code >= 0x80 || code === 0x22 || code === 0x5c)
      return writeRaw(JSON.stringify(text), at);
    scratch[at + 1 + i] = code;
  }
  scratch[at + 1 + text.length] = 0x22;
  return at + text.length + 2;
};

const writeValue = (value: unknown, at: number): number => {
  if (value === null) return writeRaw('null', at);
  switch (typeof value) {
    case 'string':
      return writeString(value, at);
    case 'boolean':
      return writeRaw(value ? 'true' : 'false', at);
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`cannot canonicalize the number ${value}`);
      return writeRaw(JSON.stringify(value), at);
    case 'object':
      break;
    case 'bigint':
      throw new Error('cannot canonicalize a bigint: JSON has no form for it');
    default:
      return NO_FORM; // undefined, functions and symbols have no JSON form, as in JSON.stringify
  }
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return writeValue(withJson.toJSON(), at);
  if (Array.isArray(value)) {
    let cursor = writeRaw('[', at);
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) cursor = writeRaw(',', cursor);
      const end = writeValue(value[i], cursor);
      cursor = end === NO_FORM ? writeRaw('null', cursor) : end;
    }
    return writeRaw(']', cursor);
  }
  const record = value as Record<string, unknown>;
  const keys = sortKeys(Object.keys(record));
  let cursor = writeRaw('{', at);
  let first = true;
  for (const key of keys) {
    // The member is written, then taken back if its value has no JSON form.
    const memberStart = cursor;
    if (!first) cursor = writeRaw(',', cursor);
    const end = writeValue(record[key], writeRaw(memberName(key), cursor));
    if (end === NO_FORM) {
      cursor = memberStart;
      continue;
    }
    cursor = end;
    first = false;
  }
  return writeRaw('}', cursor);
};

/** RFC 8785 (JSON Canonicalization Scheme) text of a JSON value: sorted keys, no spaces, stable numbers. */
export const canonicalJson = (value: unknown): string => {
  if (scratchInUse) {
    const text = serialize(value);
    if (text === undefined) throw new Error('cannot canonicalize a value that has no JSON form');
    return flatten(text);
  }
  scratchInUse = true;
  try {
    const end = writeValue(value, 0);
    if (end === NO_FORM) throw new Error('cannot canonicalize a value that has no JSON form');
    return scratch.toString('utf8', 0, end);
  } finally {
    scratchInUse = false;
  }
};

/** canonicalJson by the string-building serializer alone (for the tests that hold the two to each other). */
export const canonicalJsonByStrings = (value: unknown): string => {
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
 * Whether each envelope field has the kind the catalogue gives it (text, null where allowed, whole numbers)
 * and the data is there: the field-by-field writers below rely on it; anything else goes through the
 * generic serializer, so the text is canonicalJson of the envelope either way.
 */
const hasEnvelopeKinds = (event: HashedFields): boolean =>
  isText(event.actor) &&
  (event.causationId === null || isText(event.causationId)) &&
  isText(event.correlationId) &&
  event.data !== undefined &&
  isText(event.id) &&
  isText(event.occurredAt) &&
  (event.prevHash === null || isText(event.prevHash)) &&
  isText(event.recordedAt) &&
  isWholeNumber(event.revision) &&
  isWholeNumber(event.schemaVersion) &&
  isText(event.stream) &&
  isText(event.type);

/**
 * The RFC 8785 text of what an event's hash covers, written field by field in sorted key order (actor,
 * causationId, ..., type) instead of through the generic serializer, which sorts the keys of every
 * envelope again. `canonicalData` is canonicalJson(event.data) when the caller already has it (the file
 * store serialises each event's data once, for the hash and the record). An envelope with a field of an
 * unexpected kind takes the generic path, so the text is always canonicalJson of the envelope.
 */
const hashedText = (event: HashedFields, canonicalData?: string): string => {
  const { actor, causationId, correlationId, id, occurredAt, prevHash, recordedAt } = event;
  if (!hasEnvelopeKinds(event)) return canonicalJson(pickHashed(event));
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
 * Writes the UTF-8 bytes of an event's hashed text (hashEvent's canonicalText) into `target` at `offset`,
 * closing brace included; returns the offset just after it, or -1 when `target` may lack the room (nothing
 * is promised about its bytes from `offset` on). hashOfEncodedText then takes the event's hash of those
 * bytes. For a store that frames that text as its record: the text is encoded once, into the frame, and
 * hashed there, instead of built as a string (a tree of some twenty pieces, flattened into a copy by the
 * hash and encoded again by the frame) that becomes garbage at once. The usual envelope (text fields of
 * ASCII with nothing to escape) is written byte by byte; anything else goes through hashedText, so the bytes
 * are always the UTF-8 of hashEvent's text (property-tested).
 */
export const encodeHashedText = (
  event: HashedFields,
  canonicalData: string | undefined,
  target: Buffer,
  offset: number,
): number => {
  const end = encodePlainEnvelope(event, canonicalData, target, offset);
  if (end !== NOT_PLAIN) return end;
  const text = hashedText(event, canonicalData);
  // A UTF-16 code unit takes at most 3 bytes of UTF-8 (a surrogate pair, 2 units, takes 4).
  if (target.length - offset < 3 * text.length) return -1;
  return offset + target.write(text, offset, 'utf8');
};

/** The event hash of a hashed text that encodeHashedText wrote at [start, end) of `bytes`. */
export const hashOfEncodedText = (bytes: Uint8Array, start: number, end: number): string => {
  // A plain view: Buffer#subarray builds a Buffer (its constructor chain) for each event.
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
  return oneShotBytesHash === undefined
    ? crypto.createHash('sha256').update(view).digest('hex')
    : oneShotBytesHash('sha256', view, 'hex');
};

const oneShotBytesHash = (
  crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }
).hash;

/** encodePlainEnvelope's answer for an envelope it does not write (a field to escape, outside ASCII, of another kind). */
const NOT_PLAIN = -2;

/**
 * The constant pieces of the text and the numbers: at most this many bytes besides the text fields and the
 * data (the member names, quotes and commas take 150; two safe integers at most 17 characters each).
 */
const ENVELOPE_OVERHEAD_BYTES = 256;

/** Writes ASCII `text` that needs no escaping (a constant piece) at `at`; returns its end. */
const writeAscii = (target: Buffer, text: string, at: number): number => {
  for (let i = 0; i < text.length; i++) target[at + i] = text.charCodeAt(i);
  return at + text.length;
};

/**
 * Writes a text field's characters at `at` if they are all ASCII that JSON does not escape (no quote, no
 * backslash, no control character); returns its end, or NOT_PLAIN at the first other character.
 */
const writePlainField = (target: Buffer, text: string, at: number): number => {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code >= 0x80 || code === 0x22 || code === 0x5c) return NOT_PLAIN;
    target[at + i] = code;
  }
  return at + text.length;
};

/** Writes a safe integer in decimal as JSON.stringify does (so -0 as 0); returns its end. */
const writeInteger = (target: Buffer, value: number, at: number): number => {
  let cursor = at;
  let rest = value;
  if (rest < 0) {
    target[cursor++] = 0x2d; // -
    rest = -rest;
  }
  let digits = 1;
  for (let scan = rest; scan >= 10; scan = Math.floor(scan / 10)) digits++;
  const end = cursor + digits;
  for (let i = end - 1; i >= cursor; i--) {
    const next = Math.floor(rest / 10);
    target[i] = 0x30 + (rest - next * 10);
    rest = next;
  }
  return end;
};

/** A nullable text field: null, or the field between quotes; NOT_PLAIN as writePlainField. */
const writeNullablePlain = (target: Buffer, text: string | null, at: number): number => {
  if (text === null) return writeAscii(target, 'null', at);
  target[at] = 0x22;
  const end = writePlainField(target, text, at + 1);
  if (end === NOT_PLAIN) return NOT_PLAIN;
  target[end] = 0x22;
  return end + 1;
};

/**
 * hashedText's usual case written as bytes: the members in sorted key order, each text field checked and
 * copied in one loop. NOT_PLAIN for anything else, -1 when `target` may lack the room.
 */
const encodePlainEnvelope = (
  event: HashedFields,
  canonicalData: string | undefined,
  target: Buffer,
  offset: number,
): number => {
  const { actor, causationId, correlationId, id, occurredAt, prevHash, recordedAt, revision, schemaVersion } =
    event;
  const { stream, type } = event;
  if (!hasEnvelopeKinds(event)) return NOT_PLAIN;
  const data = canonicalData ?? canonicalJson(event.data);
  const fieldsLength =
    actor.length +
    (causationId === null ? 0 : causationId.length) +
    correlationId.length +
    id.length +
    occurredAt.length +
    (prevHash === null ? 0 : prevHash.length) +
    recordedAt.length +
    stream.length +
    type.length;
  if (target.length - offset < ENVELOPE_OVERHEAD_BYTES + fieldsLength + 3 * data.length) return -1;
  let at = writeAscii(target, '{"actor":"', offset);
  if ((at = writePlainField(target, actor, at)) === NOT_PLAIN) return NOT_PLAIN;
  at = writeAscii(target, '","causationId":', at);
  if ((at = writeNullablePlain(target, causationId, at)) === NOT_PLAIN) return NOT_PLAIN;
  at = writeAscii(target, ',"correlationId":"', at);
  if ((at = writePlainField(target, correlationId, at)) === NOT_PLAIN) return NOT_PLAIN;
  at = writeAscii(target, '","data":', at);
  // The data is canonical JSON already: its bytes as they are (Buffer#write: one call for a few hundred).
  at += target.write(data, at, 'utf8');
  at = writeAscii(target, ',"id":"', at);
  if ((at = writePlainField(target, id, at)) === NOT_PLAIN) return NOT_PLAIN;
  at = writeAscii(target, '","occurredAt":"', at);
  if ((at = writePlainField(target, occurredAt, at)) === NOT_PLAIN) return NOT_PLAIN;
  at = writeAscii(target, '","prevHash":', at);
  if ((at = writeNullablePlain(target, prevHash, at)) === NOT_PLAIN) return NOT_PLAIN;
  at = writeAscii(target, ',"recordedAt":"', at);
  if ((at = writePlainField(target, recordedAt, at)) === NOT_PLAIN) return NOT_PLAIN;
  at = writeAscii(target, '","revision":', at);
  at = writeInteger(target, revision, at);
  at = writeAscii(target, ',"schemaVersion":', at);
  at = writeInteger(target, schemaVersion, at);
  at = writeAscii(target, ',"stream":"', at);
  if ((at = writePlainField(target, stream, at)) === NOT_PLAIN) return NOT_PLAIN;
  at = writeAscii(target, '","type":"', at);
  if ((at = writePlainField(target, type, at)) === NOT_PLAIN) return NOT_PLAIN;
  return writeAscii(target, '"}', at);
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
