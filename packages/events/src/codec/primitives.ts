import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import { describeAmountProblem, describeValue, parseDecimalString, quoteBounded } from '../money/amount';
import type { DecimalString } from '../money/amount';
import { isCurrencyCode } from '../money/currency';
import type { CurrencyCode } from '../money/currency';
import { LedgerDecimal } from '../money/decimal';
import { isStoredTimestamp, parseTimestamp } from './timestamp';

/**
 * What a codec is made of, for tools that walk the catalogue (the personal-data markers, their test): the
 * fields of a {@link struct}, the value of a {@link nullable}, the members of a {@link tagged} union.
 * Codecs built elsewhere (io-ts's own `array`) are read from io-ts's own properties.
 */
export type CodecShape =
  | { readonly kind: 'struct'; readonly required: Props; readonly optional: Props }
  | { readonly kind: 'nullable'; readonly inner: t.Mixed }
  | { readonly kind: 'tagged'; readonly members: Record<string, t.Mixed> }
  | { readonly kind: 'same'; readonly as: t.Mixed };

const SHAPES = new WeakMap<t.Mixed, CodecShape>();

/** Records what `codec` is made of (see {@link shapeOf}); returns the codec. */
export const withShape = <C extends t.Mixed>(codec: C, shape: CodecShape): C => {
  SHAPES.set(codec, shape);
  return codec;
};

/** What a codec of this module is made of, or undefined for a leaf (or a codec built elsewhere). */
export const shapeOf = (codec: t.Mixed): CodecShape | undefined => SHAPES.get(codec);

/** Keys that could reach an object's prototype if a payload were ever copied by assignment. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Finds a forbidden key anywhere in a JSON value; returns its path, or undefined. */
export const findForbiddenKey = (value: unknown, path = ''): string | undefined => {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = findForbiddenKey(value[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const child = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) return child;
      const found = findForbiddenKey((value as Record<string, unknown>)[key], child);
      if (found !== undefined) return found;
    }
  }
  return undefined;
};

const refineString = <B>(name: string, check: (s: string) => string | undefined) =>
  new t.Type<string & B, string, unknown>(
    name,
    (u): u is string & B => typeof u === 'string' && check(u) === undefined,
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c, `expected ${name}, got ${describeValue(u)}`);
      const problem = check(u);
      return problem === undefined
        ? t.success(u as string & B)
        : t.failure(u, c, `expected ${name}, got ${problem}`);
    },
    (a) => a,
  );

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A UTF-16 code unit of a surrogate pair without its other half: not a character, and no UTF-8 encoding
 * (a hash over it would depend on how each tool replaces it).
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string is valid Unicode text: no lone surrogate. */
export const isWellFormedText = (s: string): boolean => !LONE_SURROGATE.test(s);

/** An identifier: 1 to 200 characters, no control characters, no lone surrogate, no surrounding spaces. */
export const Id = refineString('an identifier (1 to 200 printable characters)', (s) =>
  s.length === 0 || s.length > 200 || CONTROL.test(s) || s.trim() !== s
    ? quoteBounded(s)
    : LONE_SURROGATE.test(s)
      ? `${quoteBounded(s)} (a lone surrogate: not a character)`
      : undefined,
);
export type Id = t.TypeOf<typeof Id>;

/** Free text: up to 2,000 characters, no control characters, no lone surrogate. */
export const Text = refineString('a text of at most 2000 characters', (s) =>
  s.length > 2000 || CONTROL.test(s)
    ? JSON.stringify(s.slice(0, 40))
    : LONE_SURROGATE.test(s)
      ? `${JSON.stringify(s.slice(0, 40))} (a lone surrogate: not a character)`
      : undefined,
);
export type Text = t.TypeOf<typeof Text>;

/**
 * A UTC instant in the one form the ledger stores, `2026-03-01T12:00:00.000Z` (what Date#toISOString
 * prints), so that timestamps compare correctly as strings and hash the same everywhere; from 1970 through
 * 2999 (see ./timestamp.ts). Events carry this form only.
 */
export const Timestamp = refineString(
  'a UTC timestamp such as "2026-03-01T12:00:00.000Z", from 1970 through 2999',
  (s) => (isStoredTimestamp(s) ? undefined : JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s)),
);
export type Timestamp = t.TypeOf<typeof Timestamp>;

/**
 * A timestamp as callers give it (commands, NDJSON lines): any RFC 3339 date-time with a zone, decoded to the
 * stored form of the same instant, so that `2027-03-01T00:00:00Z` and `2027-03-01T01:00:00+01:00` are
 * both recorded as `2027-03-01T00:00:00.000Z`.
 */
export const TimestampInput = new t.Type<Timestamp, string, unknown>(
  'an RFC 3339 date-time with a zone, such as "2026-03-01T12:00:00Z"',
  (u): u is Timestamp => typeof u === 'string' && isStoredTimestamp(u),
  (u, c) => {
    if (typeof u !== 'string')
      return t.failure(u, c, `expected an RFC 3339 date-time with a zone, got ${describeValue(u)}`);
    const parsed = parseTimestamp(u);
    return E.isRight(parsed) ? t.success(parsed.right as Timestamp) : t.failure(u, c, parsed.left);
  },
  (a) => a,
);

/** A Date in the stored form of a timestamp: `2026-03-01T12:00:00.000Z`. */
export const toTimestamp = (date: Date): Timestamp => date.toISOString();

/** An ISO 4217 currency code, such as USD (a codec). */
export const Currency = new t.Type<CurrencyCode, string, unknown>(
  'an ISO 4217 currency code',
  isCurrencyCode,
  (u, c) =>
    isCurrencyCode(u)
      ? t.success(u)
      : t.failure(u, c, `expected an ISO 4217 currency code, got ${describeValue(u)}`),
  (a) => a,
);

const decimalCodec = (name: string, signed: boolean) =>
  new t.Type<DecimalString, string, unknown>(
    name,
    (u): u is DecimalString => E.isRight(parseDecimalString(u, { signed })),
    (u, c) => {
      const parsed = parseDecimalString(u, { signed });
      return E.isRight(parsed)
        ? t.success(parsed.right)
        : t.failure(u, c, describeAmountProblem(parsed.left));
    },
    (a) => a,
  );

/**
 * An amount of money: a non-negative decimal string. Its decimals are checked against the currency of the
 * event that carries it (see `moneyFields` in the catalogue), since the currency is a sibling field.
 */
export const Amount = decimalCodec('an amount (a decimal string of zero or more)', false);
/** A signed amount: adjustments and balances may be negative. */
export const SignedAmount = decimalCodec('a signed amount (a decimal string)', true);

/** A ratio in [0, 1] as a decimal string ("0.2" for 20%) or an exact fraction ("1/3"). Never a float. */
export const Ratio = refineString(
  'a ratio from 0 to 1 as a decimal string ("0.25") or a fraction ("1/3")',
  (s) => (isRatioString(s) ? undefined : JSON.stringify(s)),
);

const FRACTION = /^([0-9]+)\/([1-9][0-9]*)$/;
const PLAIN_DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Whether a string is a ratio from 0 to 1, checked on its digits (no Decimal: this runs for every credit read). */
const isRatioString = (s: string): boolean => {
  const fraction = FRACTION.exec(s);
  if (fraction !== null) return BigInt(fraction[1]!) <= BigInt(fraction[2]!);
  const decimal = PLAIN_DECIMAL.exec(s);
  if (decimal === null) return false;
  return decimal[1] === '0' || (decimal[1] === '1' && /^(\.0+)?$/.test(decimal[2] ?? ''));
};
export type Ratio = t.TypeOf<typeof Ratio>;

/** A non-negative decimal rate with no upper bound (an FX rate, a tier threshold). */
export const PositiveDecimal = refineString('a positive decimal string', (s) =>
  /^(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(s) && new LedgerDecimal(s).gt(0) ? undefined : JSON.stringify(s),
);
export type PositiveDecimal = t.TypeOf<typeof PositiveDecimal>;

/** The exact value of a Ratio string, or undefined when it is not one. */
export const ratioValue = (s: string): LedgerDecimal | undefined => {
  const fraction = /^([0-9]+)\/([1-9][0-9]*)$/.exec(s);
  if (fraction) return new LedgerDecimal(fraction[1]!).div(fraction[2]!);
  return /^(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(s) ? new LedgerDecimal(s) : undefined;
};

/** A whole number, 0 or more (a codec). */
export const NonNegativeInteger = new t.Type<number, number, unknown>(
  'a whole number of zero or more',
  (u): u is number => Number.isSafeInteger(u) && (u as number) >= 0,
  (u, c) =>
    Number.isSafeInteger(u) && (u as number) >= 0
      ? t.success(u as number)
      : t.failure(u, c, `expected a whole number of zero or more, got ${describeValue(u)}`),
  (a) => a,
);

/** One of a fixed set of strings, with the set named in the error. */
export const oneOf = <const V extends readonly [string, ...string[]]>(values: V) => {
  const allowed = new Set<string>(values);
  const name = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return new t.Type<V[number], V[number], unknown>(
    name,
    (u): u is V[number] => typeof u === 'string' && allowed.has(u),
    (u, c) =>
      typeof u === 'string' && allowed.has(u)
        ? t.success(u as V[number])
        : t.failure(u, c, `expected ${name}, got ${describeValue(u)}`),
    (a) => a,
  );
};

/** A value or null. Reports the inner codec's own error, once, instead of one error per union member. */
export const nullable = <C extends t.Mixed>(codec: C) =>
  withShape(nullableOf(codec), { kind: 'nullable', inner: codec });

const nullableOf = <C extends t.Mixed>(codec: C) =>
  new t.Type<t.TypeOf<C> | null, t.OutputOf<C> | null, unknown>(
    `${codec.name} or null`,
    (u): u is t.TypeOf<C> | null => u === null || codec.is(u),
    (u, c) => {
      if (u === null) return t.success(null);
      if (u === undefined)
        return t.failure(u, c, `expected ${codec.name} or null, got nothing (the field is missing)`);
      return codec.validate(u, c);
    },
    (a) => (a === null ? null : codec.encode(a)),
  );

/** The fields of a {@link struct}: a codec per field name. */
export type Props = Record<string, t.Mixed>;
/** The value a {@link struct} decodes to: its required fields, and its optional ones when present. */
export type StructOf<R extends Props, O extends Props> = t.TypeOf<t.TypeC<R>> & Partial<t.TypeOf<t.TypeC<O>>>;

/**
 * A record with exactly these fields: required ones, optional ones, and nothing else. An unknown field is
 * an error (io-ts's own `exact` would drop it silently), and so is a non-object or an array.
 */
export const struct = <R extends Props, O extends Props = Record<never, never>>(
  name: string,
  required: R,
  optional: O = {} as O,
): t.Type<StructOf<R, O>, StructOf<R, O>, unknown> => {
  const known = new Set([...Object.keys(required), ...Object.keys(optional)]);
  const requiredCodec = t.type(required);
  const optionalCodec = t.partial(optional);
  const codec = new t.Type<StructOf<R, O>, StructOf<R, O>, unknown>(
    name,
    // Exactly what `validate` accepts, without building error contexts: decoders try this first and run
    // `validate` only to explain a failure (see decodeEventData).
    (u): u is StructOf<R, O> => {
      if (u === null || typeof u !== 'object' || Array.isArray(u)) return false;
      for (const key in u) if (Object.prototype.hasOwnProperty.call(u, key) && !known.has(key)) return false;
      if (Object.prototype.hasOwnProperty.call(u, '__proto__')) return false;
      return requiredCodec.is(u) && optionalCodec.is(u);
    },
    (u, c) => {
      if (u === null || typeof u !== 'object' || Array.isArray(u))
        return t.failure(u, c, `expected ${name} (an object), got ${describeValue(u)}`);
      const errors: t.Errors = [];
      const record = u as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (!known.has(key))
          errors.push({
            value: record[key],
            context: [...c, { key, type: t.unknown, actual: record[key] }],
            message: `unexpected field (not part of ${name})`,
          });
      }
      const output: Record<string, unknown> = {};
      for (const [key, codec] of Object.entries(required)) {
        const result = codec.validate(record[key], [...c, { key, type: codec, actual: record[key] }]);
        if (E.isLeft(result)) errors.push(...result.left);
        else output[key] = result.right;
      }
      for (const [key, codec] of Object.entries(optional)) {
        if (record[key] === undefined) continue;
        const result = codec.validate(record[key], [...c, { key, type: codec, actual: record[key] }]);
        if (E.isLeft(result)) errors.push(...result.left);
        else output[key] = result.right;
      }
      return errors.length > 0 ? t.failures(errors) : t.success(output as StructOf<R, O>);
    },
    (a) => a,
  );
  return withShape(codec, { kind: 'struct', required, optional });
};

/**
 * A union of structs told apart by a tag field (`kind`), which decodes with the one member the tag names
 * and so reports that member's errors only, instead of every member's as io-ts's `union` does.
 */
export const tagged = <K extends string, M extends Record<string, t.Mixed>>(
  name: string,
  tag: K,
  members: M,
) => withShape(taggedOf(name, tag, members), { kind: 'tagged', members });

const taggedOf = <K extends string, M extends Record<string, t.Mixed>>(name: string, tag: K, members: M) =>
  new t.Type<t.TypeOf<M[keyof M]>, t.OutputOf<M[keyof M]>, unknown>(
    name,
    (u): u is t.TypeOf<M[keyof M]> =>
      u !== null &&
      typeof u === 'object' &&
      Object.prototype.hasOwnProperty.call(members, (u as Record<string, unknown>)[tag] as string) &&
      members[(u as Record<string, string>)[tag]!]!.is(u),
    (u, c) => {
      const value = u !== null && typeof u === 'object' ? (u as Record<string, unknown>)[tag] : undefined;
      if (typeof value !== 'string' || !Object.prototype.hasOwnProperty.call(members, value))
        return t.failure(
          value,
          [...c, { key: tag, type: t.string, actual: value }],
          `expected ${tag} to be one of ${Object.keys(members)
            .map((k) => JSON.stringify(k))
            .join(', ')}, got ${describeValue(value)}`,
        );
      return members[value]!.validate(u, c);
    },
    (a) => members[(a as Record<string, string>)[tag]!]!.encode(a),
  );
