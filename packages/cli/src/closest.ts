/**
 * The candidate nearest to a mistyped word (an unknown verb, an unknown flag), if it is within two edits:
 * further than that, a suggestion is more likely to mislead than to help.
 */
export const closest = (word: string, candidates: readonly string[]): string | undefined => {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i += 1) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j += 1) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  const best = candidates.map((c) => ({ c, d: distance(word, c) })).sort((x, y) => x.d - y.d)[0];
  return best !== undefined && best.d <= 2 ? best.c : undefined;
};
