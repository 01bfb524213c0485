import * as fc from 'fast-check';
import { createIdTable } from './memory-index';

describe('the id table', () => {
  it('finds every position stored under a fingerprint, and no other, as it grows', () => {
    fc.assert(
      fc.property(
        // Few distinct fingerprints among many adds, so that collisions and long probe runs occur; the
        // extremes of the 32-bit range included (fingerprints are CRC-32 values, unsigned).
        fc.array(
          fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0, 0x7fffffff, 0x80000000, 0xffffffff)),
          {
            maxLength: 3000,
          },
        ),
        fc.integer({ min: 0, max: 0xffffffff }),
        (fingerprints, absent) => {
          const table = createIdTable(4); // starts tiny: every add can grow it
          const expected = new Map<number, number[]>();
          fingerprints.forEach((fingerprint, position) => {
            table.add(fingerprint, position);
            expected.set(fingerprint, [...(expected.get(fingerprint) ?? []), position]);
          });
          expect(table.size).toBe(fingerprints.length);
          for (const [fingerprint, positions] of expected) {
            expect(table.hasCandidate(fingerprint)).toBe(true);
            expect([...table.candidates(fingerprint)].sort((a, b) => a - b)).toEqual(positions);
          }
          if (!expected.has(absent)) {
            expect(table.hasCandidate(absent)).toBe(false);
            expect(table.candidates(absent)).toEqual([]);
          }
        },
      ),
    );
  });
});
