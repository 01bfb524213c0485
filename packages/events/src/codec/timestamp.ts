import * as E from 'fp-ts/Either';

/**
 * Timestamps. The ledger stores one form, `2026-03-01T12:00:00.000Z` (what Date#toISOString prints), so that
 * timestamps compare correctly as strings and hash the same everywhere. It accepts any RFC 3339 date-time
 * with a zone (`2026-03-01T12:00:00Z`, `2026-03-01T13:00:00+01:00`, `2026-03-01t12:00:00.5z`) from its
 * callers (commands, NDJSON, CLI flags) and stores the canonical form of the same instant.
 *
 * Every timestamp lies in a bounded range, 1970-01-01T00:00:00.000Z to 2999-12-31T23:59:59.999Z: a date
 * outside it is a typing error (year 0000, 20260), never a fact of a partner program.
 */
/** The earliest timestamp the ledger accepts. */
export const EARLIEST_TIMESTAMP = '1970-01-01T00:00:00.000Z';
/** The latest timestamp the ledger accepts (see EARLIEST_TIMESTAMP for why dates are bounded). */
export const LATEST_TIMESTAMP = '2999-12-31T23:59:59.999Z';
const EARLIEST_MS = Date.parse(EARLIEST_TIMESTAMP);
const LATEST_MS = Date.parse(LATEST_TIMESTAMP);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Where `YYYY-MM-DDTHH:mm:ss.sssZ` has its separators; every other position is a digit. */
const SEPARATORS: Readonly<Record<number, number>> = { 4: 45, 7: 45, 10: 84, 13: 58, 16: 58, 19: 46, 23: 90 };

/** The number written by the digits from..to of `s`. */
const digits = (s: string, from: number, to: number): number => {
  let value = 0;
  for (let i = from; i < to; i += 1) value = value * 10 + s.charCodeAt(i) - 48;
  return value;
};

const isRealDate = (year: number, month: number, day: number): boolean => {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
};

/**
 * Whether a string is a real instant in the stored form, within the range. Read character by character, with
 * no regular expression and no Date object, because it runs for every timestamp of every event a replay reads.
 */
export const isStoredTimestamp = (s: string): boolean => {
  if (s.length !== 24) return false;
  for (let i = 0; i < 24; i += 1) {
    const code = s.charCodeAt(i);
    const separator = SEPARATORS[i];
    if (separator === undefined ? code < 48 || code > 57 : code !== separator) return false;
  }
  const year = digits(s, 0, 4);
  if (year < 1970 || year > 2999) return false;
  if (digits(s, 11, 13) > 23 || digits(s, 14, 16) > 59 || digits(s, 17, 19) > 59) return false;
  return isRealDate(year, digits(s, 5, 7), digits(s, 8, 10));
};

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Reads an RFC 3339 date-time with a zone and returns the stored form of the same instant, or why not.
 * Refused: no zone (its instant would depend on the machine), a date or time that does not exist (February
 * 30th, 24:00, a leap second, an offset beyond ±23:59), more precision than a millisecond, and an instant
 * outside the range.
 */
export const parseTimestamp = (text: string): E.Either<string, string> => {
  if (isStoredTimestamp(text)) return E.right(text);
  const m = RFC3339.exec(text);
  if (m === null)
    return E.left(
      `${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text)} is not an RFC 3339 date-time with a zone, such as "2026-03-01T12:00:00Z" or "2026-03-01T13:00:00+01:00"`,
    );
  const [, y, mo, d, h, mi, s, fraction = '', zulu, sign, oh, om] = m;
  const year = Number(y);
  if (!isRealDate(year, Number(mo), Number(d)))
    return E.left(`${JSON.stringify(text)}: ${y}-${mo}-${d} is not a date`);
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59)
    return E.left(
      `${JSON.stringify(text)}: ${h}:${mi}:${s} is not a time of day (leap seconds are not kept)`,
    );
  if (zulu === undefined && (Number(oh) > 23 || Number(om) > 59))
    return E.left(`${JSON.stringify(text)}: ${sign}${oh}:${om} is not a zone offset`);
  if (/[1-9]/.test(fraction.slice(3)))
    return E.left(`${JSON.stringify(text)}: the ledger keeps milliseconds; more precision would be lost`);
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const offsetMinutes = zulu === undefined ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  const ms =
    Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), millis) -
    offsetMinutes * 60_000;
  // Date.UTC maps years 0-99 to 1900-1999; those are out of range either way, and refused below.
  if (year < 100 || ms < EARLIEST_MS || ms > LATEST_MS)
    return E.left(
      `${JSON.stringify(text)} is outside the ledger's range, ${EARLIEST_TIMESTAMP} to ${LATEST_TIMESTAMP}`,
    );
  return E.right(new Date(ms).toISOString());
};
