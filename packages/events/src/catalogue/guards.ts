/**
 * Hand-written type guards for what every replay decodes: the envelope of every event and the data of a
 * click (most of a log). Each accepts exactly what the generic codec it stands in for accepts (the tests
 * compare them on edge values and generated ones), in one pass over char codes, with no regular expression,
 * `trim` or loop over codecs: decoding is most of a replay's cost beyond JSON.parse.
 */

const hasOwn = Object.prototype.hasOwnProperty;

/** 1 at the char codes of 0-9 and a-f, for every UTF-16 code unit. */
const HEX_DIGIT = (() => {
  const table = new Uint8Array(0x10000);
  for (const c of '0123456789abcdef') table[c.charCodeAt(0)] = 1;
  return table;
})();

/**
 * Whether a string is 64 lowercase hex digits (a SHA-256 hash or an HMAC). A table lookup per char code:
 * digits and letters come in random order in a hash, so range comparisons mispredict a branch on every
 * other character; the lookup has no branch to mispredict and takes under half the time of either the
 * comparisons or `/^[0-9a-f]{64}$/.test` on the fresh strings JSON.parse gives.
 */
export const isSha256Hex = (u: unknown): u is string => {
  if (typeof u !== 'string' || u.length !== 64) return false;
  for (let i = 0; i < 64; i += 1) if (HEX_DIGIT[u.charCodeAt(i)] === 0) return false;
  return true;
};

/** Whether a char code is one that String#trim removes and that is not a control character. */
const isTrimmedSpace = (code: number): boolean =>
  code === 0x20 ||
  code === 0xa0 ||
  code === 0x1680 ||
  (code >= 0x2000 && code <= 0x200a) ||
  code === 0x2028 ||
  code === 0x2029 ||
  code === 0x202f ||
  code === 0x205f ||
  code === 0x3000 ||
  code === 0xfeff;

/** Whether the string has no control character (U+0000-U+001F, U+007F) and no lone surrogate. */
const printable = (s: string): boolean => {
  for (let i = 0; i < s.length; i += 1) {
    const code = s.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
    if (code >= 0xd800 && code <= 0xdfff) {
      // A high surrogate followed by a low one is one character; anything else is a lone half.
      const next = s.charCodeAt(i + 1);
      if (code > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false;
      i += 1;
    }
  }
  return true;
};

/**
 * Exactly what `Id.is` accepts: 1 to 200 UTF-16 units, no control character, no lone
 * surrogate, nothing that String#trim
 * removes at either end.
 */
export const isId = (u: unknown): u is string =>
  typeof u === 'string' &&
  u.length > 0 &&
  u.length <= 200 &&
  printable(u) &&
  !isTrimmedSpace(u.charCodeAt(0)) &&
  !isTrimmedSpace(u.charCodeAt(u.length - 1));

/** Exactly what `nullable(Text).is` accepts: null, or at most 2,000 UTF-16 units with no control character
 * and no lone surrogate. */
export const isNullableText = (u: unknown): u is string | null =>
  u === null || (typeof u === 'string' && u.length <= 2000 && printable(u));

/**
 * Whether `u` is a plain record whose own enumerable keys are all among `known`, with no own `__proto__`:
 * the first half of what `struct(...).is` checks (the fields' guards are the other half).
 */
export const isRecordOf = (u: unknown, known: ReadonlySet<string>): u is Record<string, unknown> => {
  if (u === null || typeof u !== 'object' || Array.isArray(u)) return false;
  // Known keys first: they are all a valid record has, and then no hasOwn call is needed.
  for (const key in u) if (!known.has(key) && hasOwn.call(u, key)) return false;
  return !hasOwn.call(u, '__proto__');
};

/** What `YYYY-MM-DDTHH:mm:ss.sssZ` has at each position: a separator's char code, or 0 for a digit. */
const TIMESTAMP_LAYOUT = (() => {
  const layout = new Uint8Array(24);
  for (const [at, code] of [
    [4, 45],
    [7, 45],
    [10, 84],
    [13, 58],
    [16, 58],
    [19, 46],
    [23, 90],
  ] as const)
    layout[at] = code;
  return layout;
})();
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const twoDigits = (s: string, at: number): number => (s.charCodeAt(at) - 48) * 10 + s.charCodeAt(at + 1) - 48;

/**
 * Exactly what `Timestamp.is` accepts: a real UTC instant in the stored form `2026-03-01T12:00:00.000Z`,
 * from 1970 through 2999. The
 * layout is a typed array, not an object keyed by position (whose sparse keys make every lookup slow).
 */
export const isTimestamp = (u: unknown): u is string => {
  if (typeof u !== 'string' || u.length !== 24) return false;
  for (let i = 0; i < 24; i += 1) {
    const code = u.charCodeAt(i);
    const separator = TIMESTAMP_LAYOUT[i]!;
    if (separator === 0 ? code < 48 || code > 57 : code !== separator) return false;
  }
  const month = twoDigits(u, 5);
  const day = twoDigits(u, 8);
  if (month < 1 || month > 12 || day < 1 || twoDigits(u, 11) > 23 || twoDigits(u, 14) > 59) return false;
  if (twoDigits(u, 17) > 59) return false;
  const year = twoDigits(u, 0) * 100 + twoDigits(u, 2);
  // The ledger's range (codec/timestamp.ts): 1970 through 2999.
  if (year < 1970 || year > 2999) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
};
