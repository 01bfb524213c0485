import fc from 'fast-check';
import { diffParts, digestOf, joinState, splitState } from './state-parts';

const digests = (parts: ReadonlyMap<string, string>) =>
  new Map([...parts].map(([id, text]) => [id, digestOf(text)] as const));

/** JSON values as the projections save them: nested arrays and objects of strings, numbers, booleans, null. */
const jsonValue = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 40 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('value'), { maxKeys: 40 }),
  ),
})).value;

/** A state like the facts projection's: many lines by id, each a small object. */
const lines = (n: number, amount = (i: number) => String(i * 100)) => ({
  format: 'x',
  position: n,
  states: {
    facts: {
      state: {
        lines: Object.fromEntries(
          Array.from({ length: n }, (_, i) => [
            `line-${String(i).padStart(6, '0')}`,
            { partnerId: `p-${i % 7}`, amount: amount(i), settlements: {} },
          ]),
        ),
        sorted: Array.from({ length: n }, (_, i) => [`k-${String(i).padStart(6, '0')}`, i, 'text']),
      },
    },
  },
});

describe('splitState / joinState', () => {
  it('gives back the value it split, whatever the thresholds (property)', () => {
    fc.assert(
      fc.property(
        jsonValue,
        fc.integer({ min: 2, max: 200 }),
        fc.integer({ min: 1, max: 8 }),
        (value, maxInline, entriesPerChunk) => {
          const split = splitState(value, { maxInline, entriesPerChunk });
          expect(joinState(split.root, split.parts)).toEqual(value);
        },
      ),
    );
  });

  it('keeps the root small and the parts bounded when the state grows', () => {
    const split = splitState(lines(20_000));
    expect(joinState(split.root, split.parts)).toEqual(lines(20_000));
    expect(split.root.length).toBeLessThan(1_000);
    expect(split.parts.size).toBeGreaterThan(1_000);
  });

  it('rewrites only the parts around an entry that changed, was added or went away', () => {
    const before = splitState(lines(20_000));
    const stored = digests(before.parts);
    // One line's amount changes.
    const changed = splitState(lines(20_000, (i) => (i === 12_345 ? '1' : String(i * 100))));
    const diff = diffParts(stored, changed.parts);
    expect(diff.upserts.length).toBe(1);
    expect(diff.deletes).toEqual([]);
    // New lines at the end (and the position in the root): only the last part or two, and new ones.
    const grown = diffParts(stored, splitState(lines(20_010)).parts);
    expect(grown.deletes).toEqual([]);
    expect(grown.upserts.length).toBeLessThanOrEqual(2 + 2 * 10);
    expect(grown.upserts.length).toBeLessThan(before.parts.size / 100);
    // A line goes away: its part is rewritten (or, if it started one, that part goes and the one before grows).
    const value = lines(20_000);
    delete (value.states.facts.state.lines as Record<string, unknown>)['line-000500'];
    const shrunk = diffParts(stored, splitState(value).parts);
    expect(shrunk.upserts.length + shrunk.deletes.length).toBeGreaterThanOrEqual(1);
    expect(shrunk.upserts.length).toBeLessThanOrEqual(1);
    expect(shrunk.deletes.length).toBeLessThanOrEqual(1);
  });

  it('names a missing part', () => {
    const split = splitState(lines(2_000));
    const [first] = split.parts.keys();
    const parts = new Map(split.parts);
    parts.delete(first!);
    expect(() => joinState(split.root, parts)).toThrow(/lacks its part/);
  });
});
