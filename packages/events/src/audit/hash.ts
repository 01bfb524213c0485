import { createHash } from 'node:crypto';
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
  const keys = Object.keys(record).sort();
  let text = '{';
  let first = true;
  for (const key of keys) {
    const member = serialize(record[key]);
    if (member === undefined) continue;
    text += `${first ? '' : ','}${quote(key)}:${member}`;
    first = false;
  }
  return `${text}}`;
};

/** RFC 8785 (JSON Canonicalization Scheme) text of a JSON value: sorted keys, no spaces, stable numbers. */
export const canonicalJson = (value: unknown): string => {
  const text = serialize(value);
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
