import fc from 'fast-check';
import { escapeLiteral } from 'pg';
import { integerArrayLiteral, quoteLiteral } from './literal';

it('writes every string as node-postgres escapeLiteral does', () => {
  for (const value of ['', "'", "''", '\\', "a'b\\c", "\\\\'", 'é ☃ 𝄞', '\u0000', 'plain']) {
    expect(quoteLiteral(value)).toBe(escapeLiteral(value));
  }
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom("'", '\\', 'a', 'é', '𝄞', ' ', '"', '\n') }),
      (value) => quoteLiteral(value) === escapeLiteral(value),
    ),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (value) => quoteLiteral(value) === escapeLiteral(value)),
    { numRuns: 2000 },
  );
});

it('writes integer arrays as literals, and refuses what is not an integer', () => {
  expect(integerArrayLiteral([1, -2, 30])).toBe("'{1,-2,30}'::integer[]");
  expect(integerArrayLiteral([])).toBe("'{}'::integer[]");
  expect(() => integerArrayLiteral([1.5])).toThrow(RangeError);
});
