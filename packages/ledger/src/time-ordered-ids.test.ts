import * as fc from 'fast-check';
import { timeOrderedIds } from './time-ordered-ids';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedIds (UUIDv7)', () => {
  it('makes RFC 9562 version 7 ids that carry the time in their first 48 bits', () => {
    const ids = timeOrderedIds(() => Date.UTC(2026, 2, 1, 12));
    const id = ids();
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2026, 2, 1, 12));
  });

  it('makes unique ids, in order, however many come in one millisecond and when the clock steps back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 1500 }), (steps) => {
        let ms = 1_700_000_000_000;
        // Steps of 0 (the same millisecond) dominate; 5 sends the clock back a little.
        const ids = timeOrderedIds(() => (ms += steps.length > 0 ? [0, 0, 0, 1, 2, -3][steps.pop()!]! : 0));
        const made = Array.from({ length: 1500 }, () => ids());
        expect(made.every((id) => UUID_V7.test(id))).toBe(true);
        expect(new Set(made).size).toBe(made.length);
        expect(made.every((id, i) => i === 0 || made[i - 1]! < id)).toBe(true);
      }),
      { numRuns: 10 },
    );
  });

  it('spells the random bytes it was given in its last 62 bits', () => {
    const bytes = Uint8Array.from([0, 0, 0xff, 0x00, 0x01, 0x0a, 0xa0, 0x7f, 0x80, 0xfe]);
    const id = timeOrderedIds(
      () => Date.UTC(2026, 2, 1, 12),
      () => bytes,
    )();
    expect(id.slice(19)).toBe('bf00-010aa07f80fe');
  });

  it('differs between generators in the same millisecond (random bits)', () => {
    const a = timeOrderedIds(() => 0)();
    const b = timeOrderedIds(() => 0)();
    expect(a).not.toBe(b);
  });
});
