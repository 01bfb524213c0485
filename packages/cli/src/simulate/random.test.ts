import { createRandom } from './random';

describe('seeded random', () => {
  it('gives the same sequence for the same seed, and another for another seed', () => {
    const take = (seed: string) => {
      const r = createRandom(seed);
      return Array.from({ length: 5 }, () => r.int(0, 1_000_000));
    };
    expect(take('42')).toEqual(take('42'));
    expect(take('42')).not.toEqual(take('43'));
  });

  it('stays within bounds and honours weights roughly', () => {
    const r = createRandom('bounds');
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 10_000; i += 1) {
      const n = r.int(3, 7);
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(7);
      counts[
        r.weighted([
          ['a', 9],
          ['b', 1],
        ] as const)
      ] += 1;
    }
    expect(counts.a / 10_000).toBeGreaterThan(0.85);
    expect(counts.a / 10_000).toBeLessThan(0.95);
    expect(r.hex(64)).toMatch(/^[0-9a-f]{64}$/);
  });
});
