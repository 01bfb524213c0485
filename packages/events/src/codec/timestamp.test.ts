import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, parseTimestamp } from './timestamp';
import { Timestamp, TimestampInput } from './primitives';

const ok = (text: string): string => {
  const parsed = parseTimestamp(text);
  if (E.isLeft(parsed)) throw new Error(parsed.left);
  return parsed.right;
};
const refusal = (text: string): string => {
  const parsed = parseTimestamp(text);
  if (E.isRight(parsed)) throw new Error(`${text} was accepted as ${parsed.right}`);
  return parsed.left;
};

describe('timestamps: any RFC 3339 date-time with a zone in, one stored form out', () => {
  it('stores the canonical form of the same instant', () => {
    expect(ok('2027-03-01T00:00:00Z')).toBe('2027-03-01T00:00:00.000Z');
    expect(ok('2027-03-01T00:00:00.000Z')).toBe('2027-03-01T00:00:00.000Z');
    expect(ok('2027-03-01T01:00:00+01:00')).toBe('2027-03-01T00:00:00.000Z');
    expect(ok('2027-02-28T19:00:00.5-05:00')).toBe('2027-03-01T00:00:00.500Z');
    expect(ok('2027-03-01t00:00:00.123000z')).toBe('2027-03-01T00:00:00.123Z');
  });

  it('refuses what has no zone, does not exist, or would lose precision', () => {
    expect(refusal('2027-03-01T00:00:00')).toMatch(/not an RFC 3339 date-time with a zone/);
    expect(refusal('2027-03-01')).toMatch(/not an RFC 3339/);
    expect(refusal('2027-02-29T00:00:00Z')).toMatch(/2027-02-29 is not a date/);
    expect(refusal('2027-03-01T24:00:00Z')).toMatch(/not a time of day/);
    expect(refusal('2027-06-30T23:59:60Z')).toMatch(/leap seconds/);
    expect(refusal('2027-03-01T00:00:00+24:00')).toMatch(/not a zone offset/);
    expect(refusal('2027-03-01T00:00:00.0001Z')).toMatch(/milliseconds/);
  });

  it('bounds every timestamp to 1970 through 2999, in the stored form too', () => {
    expect(refusal('0000-01-01T00:00:00.000Z')).toMatch(/outside the ledger's range/);
    expect(refusal('1969-12-31T23:59:59.999Z')).toMatch(/outside/);
    expect(refusal('1970-01-01T00:30:00+01:00')).toMatch(/outside/);
    expect(refusal('3000-01-01T00:00:00.000Z')).toMatch(/outside/);
    expect(ok(EARLIEST_TIMESTAMP)).toBe(EARLIEST_TIMESTAMP);
    expect(ok(LATEST_TIMESTAMP)).toBe(LATEST_TIMESTAMP);
    expect(Timestamp.is('0000-01-01T00:00:00.000Z')).toBe(false);
    expect(E.isLeft(Timestamp.decode('0000-01-01T00:00:00.000Z'))).toBe(true);
    expect(E.isLeft(TimestampInput.decode('0000-01-01T00:00:00Z'))).toBe(true);
  });

  it('every instant in range, written with any offset and precision, reads back as that instant', () => {
    fc.assert(
      fc.property(
        fc.integer({
          min: Date.parse(EARLIEST_TIMESTAMP) + 86_400_000,
          max: Date.parse(LATEST_TIMESTAMP) - 86_400_000,
        }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        fc.boolean(),
        (ms, offset, lower) => {
          const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23);
          const sign = offset < 0 ? '-' : '+';
          const abs = Math.abs(offset);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          const text = lower ? `${local.replace('T', 't')}${zone}` : `${local}${zone}`;
          expect(ok(text)).toBe(new Date(ms).toISOString());
          expect(TimestampInput.decode(text)).toEqual(E.right(new Date(ms).toISOString()));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
