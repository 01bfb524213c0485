import * as crypto from 'node:crypto';

/*
 * The byte scan behind chain-link.ts, with no import of the store package, so that a worker thread of the
 * one-pass verify (verify-worker.ts) can run it over a shared buffer: scanChainLink checks a record's bytes
 * (its layout, the JSON grammar of its data, its hash) and leaves the offsets of the link's fields in an
 * Int32Array; linkFields of chain-link.ts makes the strings from them. See chain-link.ts for what is accepted.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

const bytesOf = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'latin1'));
const ACTOR = bytesOf('{"actor":"');
const CAUSATION = bytesOf(',"causationId":');
const CORRELATION = bytesOf(',"correlationId":"');
const DATA = bytesOf(',"data":');
const ID = bytesOf(',"id":');
const OCCURRED = bytesOf(',"occurredAt":');
const PREV_HASH = bytesOf(',"prevHash":');
const RECORDED = bytesOf(',"recordedAt":');
const REVISION = bytesOf(',"revision":');
const SCHEMA = bytesOf(',"schemaVersion":');
const STREAM = bytesOf(',"stream":');
const TYPE = bytesOf(',"type":');
const HASH = bytesOf(',"hash":');
const POSITION = bytesOf(',"position":');
const NULL = bytesOf('null');

/** Whether `literal` is at `at` of `buffer`. */
const hasAt = (buffer: Uint8Array, at: number, literal: Uint8Array): boolean => {
  if (at < 0 || at + literal.length > buffer.length) return false;
  for (let i = 0; i < literal.length; i++) if (buffer[at + i] !== literal[i]) return false;
  return true;
};

/** Bytes that end or interrupt the plain run of a JSON string: the quote, the backslash, control characters. */
const SPECIAL = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) SPECIAL[c] = 1;
SPECIAL[QUOTE] = 1;
SPECIAL[BACKSLASH] = 1;

/** The end (after the closing quote) of a string with nothing escaped starting at its opening quote; -1 if none. */
const plainStringEnd = (buffer: Uint8Array, at: number, end: number): number => {
  if (at >= end || buffer[at] !== QUOTE) return -1;
  let i = at + 1;
  while (i < end && SPECIAL[buffer[i]!] === 0) i++;
  return i < end && buffer[i] === QUOTE ? i + 1 : -1;
};

/** The start (the opening quote) of a string with nothing escaped whose closing quote is at `close`; -1 if none. */
const plainStringStart = (buffer: Uint8Array, close: number, start: number): number => {
  if (close < start || buffer[close] !== QUOTE) return -1;
  let i = close - 1;
  while (i >= start && SPECIAL[buffer[i]!] === 0) i--;
  return i >= start && buffer[i] === QUOTE ? i : -1;
};

/** The start of the digits ending just before `end` (a non-negative integer, at most 15 digits, no leading zero); -1 if none. */
const digitsStart = (buffer: Uint8Array, end: number, start: number): number => {
  let i = end - 1;
  while (i >= start && i >= end - 16 && buffer[i]! >= 0x30 && buffer[i]! <= 0x39) i--;
  const first = i + 1;
  const count = end - first;
  if (count === 0 || count > 15) return -1;
  if (count > 1 && buffer[first] === 0x30) return -1;
  return first;
};

export const digitsValue = (buffer: Uint8Array, from: number, to: number): number => {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + (buffer[i]! - 0x30);
  return value;
};

/** Back over `,"key":"value"` ending just before `end`; the offset of its comma, or -1. */
const backOverString = (buffer: Uint8Array, end: number, key: Uint8Array, start: number): number => {
  const open = plainStringStart(buffer, end - 1, start);
  if (open < 0 || !hasAt(buffer, open - key.length, key)) return -1;
  return open - key.length;
};

/** Back over `,"key":N` ending just before `end`; the offset of its comma, or -1. */
const backOverInteger = (buffer: Uint8Array, end: number, key: Uint8Array, start: number): number => {
  const first = digitsStart(buffer, end, start);
  if (first < 0 || !hasAt(buffer, first - key.length, key)) return -1;
  return first - key.length;
};

/** 0-9, a-f, A-F (JSON accepts either case in \u escapes). */
const isHexDigit = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** The end of a string (any JSON string: escapes checked) starting at its opening quote; -1 if it is not one. */
const jsonStringEnd = (buffer: Uint8Array, at: number, end: number): number => {
  for (let i = at + 1; i < end; i++) {
    while (i < end && SPECIAL[buffer[i]!] === 0) i++; // the plain run, one table look-up per byte
    if (i >= end) return -1;
    const c = buffer[i]!;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      i++;
      if (i >= end) return -1;
      const e = buffer[i]!;
      if (e === 0x75 /* u */) {
        if (i + 4 >= end) return -1;
        for (let k = 1; k <= 4; k++) if (!isHexDigit(buffer[i + k]!)) return -1;
        i += 4;
      } else if (
        e !== QUOTE &&
        e !== BACKSLASH &&
        e !== 0x2f && // /
        e !== 0x62 && // b
        e !== 0x66 && // f
        e !== 0x6e && // n
        e !== 0x72 && // r
        e !== 0x74 // t
      ) {
        return -1;
      }
    }
  }
  return -1;
};

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** The end of a JSON number starting at `at`; -1 if it is not one. */
const jsonNumberEnd = (buffer: Uint8Array, at: number, end: number): number => {
  let i = at;
  if (buffer[i] === 0x2d) i++;
  if (i >= end) return -1;
  if (buffer[i] === 0x30) i++;
  else if (isDigit(buffer[i])) while (i < end && isDigit(buffer[i])) i++;
  else return -1;
  if (i < end && buffer[i] === 0x2e) {
    i++;
    if (i >= end || !isDigit(buffer[i])) return -1;
    while (i < end && isDigit(buffer[i])) i++;
  }
  if (i < end && (buffer[i] === 0x65 || buffer[i] === 0x45)) {
    i++;
    if (i < end && (buffer[i] === 0x2b || buffer[i] === 0x2d)) i++;
    if (i >= end || !isDigit(buffer[i])) return -1;
    while (i < end && isDigit(buffer[i])) i++;
  }
  return i;
};

const TRUE = bytesOf('true');
const FALSE = bytesOf('false');
const MAX_DEPTH = 512;
const containers = new Uint8Array(MAX_DEPTH);
const OBJECT = 1;
const ARRAY = 2;

/**
 * Whether bytes start..end are exactly one JSON value with no white space (white space is valid JSON but
 * never in canonical text: such a record takes the parsing path). Never true for anything JSON.parse
 * would refuse.
 */
export const isCompactJsonValue = (buffer: Uint8Array, start: number, end: number): boolean => {
  let i = start;
  let depth = 0;
  for (;;) {
    // A value at i.
    if (i >= end) return false;
    const c = buffer[i]!;
    if (c === QUOTE) {
      i = jsonStringEnd(buffer, i, end);
    } else if (c === 0x7b /* { */) {
      if (buffer[i + 1] === 0x7d && i + 1 < end) {
        i += 2;
      } else {
        if (depth === MAX_DEPTH) return false;
        containers[depth++] = OBJECT;
        if (i + 1 >= end || buffer[i + 1] !== QUOTE) return false;
        i = jsonStringEnd(buffer, i + 1, end);
        if (i < 0 || i >= end || buffer[i] !== COLON) return false;
        i++;
        continue;
      }
    } else if (c === 0x5b /* [ */) {
      if (buffer[i + 1] === 0x5d && i + 1 < end) {
        i += 2;
      } else {
        if (depth === MAX_DEPTH) return false;
        containers[depth++] = ARRAY;
        i++;
        continue;
      }
    } else if (c === 0x2d || isDigit(c)) {
      i = jsonNumberEnd(buffer, i, end);
    } else if (c === 0x74 && i + 4 <= end && hasAt(buffer, i, TRUE)) {
      i += 4;
    } else if (c === 0x66 && i + 5 <= end && hasAt(buffer, i, FALSE)) {
      i += 5;
    } else if (c === 0x6e && i + 4 <= end && hasAt(buffer, i, NULL)) {
      i += 4;
    } else {
      return false;
    }
    if (i < 0) return false;
    // After a value: close containers, or go on to the next member or element.
    for (;;) {
      if (depth === 0) return i === end;
      if (i >= end) return false;
      const next = buffer[i]!;
      const kind = containers[depth - 1]!;
      if (next === COMMA) {
        i++;
        if (kind === OBJECT) {
          if (i >= end || buffer[i] !== QUOTE) return false;
          i = jsonStringEnd(buffer, i, end);
          if (i < 0 || i >= end || buffer[i] !== COLON) return false;
          i++;
        }
        break;
      }
      if (next === (kind === OBJECT ? 0x7d : 0x5d)) {
        i++;
        depth--;
        continue;
      }
      return false;
    }
  }
};

// One-shot hashing (Node >= 20.12), as the events package hashes; createHash on older versions.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string })
  .hash;
export const sha256Hex = (bytes: Uint8Array): string =>
  oneShotHash === undefined
    ? crypto.createHash('sha256').update(bytes).digest('hex')
    : oneShotHash('sha256', bytes, 'hex');

/** Slots of scanChainLink's offsets, per record. */
export const SCAN_POSITION = 0; // first digit of "position"
export const SCAN_END = 1; // the record's end (after the closing brace)
export const SCAN_ID = 2; // the comma of ,"id":
export const SCAN_OCCURRED = 3; // the comma of ,"occurredAt":
export const SCAN_STREAM = 4; // the comma of ,"stream":
export const SCAN_TYPE = 5; // the comma of ,"type":
export const SCAN_REVISION = 6; // the comma of ,"revision":
export const SCAN_SCHEMA = 7; // the comma of ,"schemaVersion":
export const SCAN_PREV_HASH = 8; // the comma of ,"prevHash":, or -1 when it is null
export const SCAN_RECORDED = 9; // the comma of ,"recordedAt":
export const SCAN_HASH = 10; // the opening quote of the stored hash
export const SCAN_SLOTS = 11;
/** How far each field's opening quote (or first digit) lies after its comma. */
export const KEY_BYTES = {
  id: ID.length + 1,
  stream: STREAM.length + 1,
  revision: REVISION.length,
  prevHash: PREV_HASH.length + 1,
} as const;

/**
 * Whether the record whose JSON is bytes start..end of `buffer` is exactly as chain-link.ts describes, its
 * canonical text hashing to its stored hash; if so, the offsets of its fields are written to
 * out[at + SCAN_...]. The buffer is changed for the time of the hash (the suffix's comma stands in for the
 * closing brace) and put back: nothing else may read those bytes meanwhile.
 */
export const scanChainLink = (
  buffer: Uint8Array,
  start: number,
  end: number,
  out: Int32Array,
  at: number,
): boolean => {
  // From the end: ,"hash":"<64>","position":N}
  if (end - start < 64 || buffer[end - 1] !== 0x7d) return false;
  const positionAt = digitsStart(buffer, end - 1, start);
  if (positionAt < 0 || !hasAt(buffer, positionAt - POSITION.length, POSITION)) return false;
  const hashClose = positionAt - POSITION.length - 1;
  const hashOpen = hashClose - 65;
  if (buffer[hashClose] !== QUOTE || buffer[hashOpen] !== QUOTE) return false;
  const brace = hashOpen - HASH.length;
  if (!hasAt(buffer, brace, HASH)) return false;
  // ,"type":S ,"stream":S ,"schemaVersion":N ,"revision":N ,"recordedAt":S ,"prevHash":null|S ,"occurredAt":S ,"id":S
  const typeAt = backOverString(buffer, brace, TYPE, start);
  if (typeAt < 0) return false;
  const streamAt = backOverString(buffer, typeAt, STREAM, start);
  if (streamAt < 0) return false;
  const schemaAt = backOverInteger(buffer, streamAt, SCHEMA, start);
  if (schemaAt < 0) return false;
  const revisionAt = backOverInteger(buffer, schemaAt, REVISION, start);
  if (revisionAt < 0) return false;
  const recordedAt = backOverString(buffer, revisionAt, RECORDED, start);
  if (recordedAt < 0) return false;
  let prevHashAt: number;
  let prevHashNull: boolean;
  if (hasAt(buffer, recordedAt - NULL.length, NULL)) {
    prevHashAt = recordedAt - NULL.length - PREV_HASH.length;
    if (!hasAt(buffer, prevHashAt, PREV_HASH)) return false;
    prevHashNull = true;
  } else {
    prevHashAt = backOverString(buffer, recordedAt, PREV_HASH, start);
    if (prevHashAt < 0) return false;
    prevHashNull = false;
  }
  const occurredAt = backOverString(buffer, prevHashAt, OCCURRED, start);
  if (occurredAt < 0) return false;
  const idAt = backOverString(buffer, occurredAt, ID, start);
  if (idAt < 0) return false;
  // From the start: {"actor":S,"causationId":null|S,"correlationId":S,"data":
  if (!hasAt(buffer, start, ACTOR)) return false;
  let cursor = plainStringEnd(buffer, start + ACTOR.length - 1, idAt);
  if (cursor < 0 || !hasAt(buffer, cursor, CAUSATION)) return false;
  cursor += CAUSATION.length;
  if (hasAt(buffer, cursor, NULL)) cursor += NULL.length;
  else if ((cursor = plainStringEnd(buffer, cursor, idAt)) < 0) return false;
  if (!hasAt(buffer, cursor, CORRELATION)) return false;
  cursor = plainStringEnd(buffer, cursor + CORRELATION.length - 1, idAt);
  if (cursor < 0 || !hasAt(buffer, cursor, DATA)) return false;
  if (!isCompactJsonValue(buffer, cursor + DATA.length, idAt)) return false;
  // The canonical text is the bytes before the suffix's comma, with a closing brace.
  buffer[brace] = 0x7d;
  let hash: string;
  try {
    hash = sha256Hex(buffer.subarray(start, brace + 1));
  } finally {
    buffer[brace] = COMMA;
  }
  for (let i = 0; i < 64; i++) if (buffer[hashOpen + 1 + i] !== hash.charCodeAt(i)) return false;
  out[at + SCAN_POSITION] = positionAt;
  out[at + SCAN_END] = end;
  out[at + SCAN_ID] = idAt;
  out[at + SCAN_OCCURRED] = occurredAt;
  out[at + SCAN_STREAM] = streamAt;
  out[at + SCAN_TYPE] = typeAt;
  out[at + SCAN_REVISION] = revisionAt;
  out[at + SCAN_SCHEMA] = schemaAt;
  out[at + SCAN_PREV_HASH] = prevHashNull ? -1 : prevHashAt;
  out[at + SCAN_RECORDED] = recordedAt;
  out[at + SCAN_HASH] = hashOpen;
  return true;
};
