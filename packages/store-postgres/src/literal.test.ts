import fc from 'fast-check';
import { escapeLiteral } from 'pg';
import { quoteLiteral } from './literal';

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
