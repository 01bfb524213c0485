import * as lines_ from './balance-lines';
import type { OpenLine } from './balance-lines';

const { emptyLines, linesForFigures, loadLines, packLine, packedLine, saveLines, storeLine } = lines_;

// The split of saved lines: a result as of the checkpoint's latest occurredAt or later skips the lines that can
// no longer count as pending or held, and counts them as open lines; any earlier asOf reads them all.

const line = (remaining: bigint, payableAt: string, held = false): OpenLine => ({
  partnerId: 'p',
  currency: 'USD',
  remaining,
  payableAt,
  held,
  inPayouts: remaining === 0n ? 1 : 0,
  earnedAt: '2026-01-01T00:00:00.000Z',
});

const LATEST = '2026-03-01T00:00:00.000Z';

const stored = () => {
  const lines = emptyLines();
  const put = (id: string, l: OpenLine) => storeLine(lines, id, packLine(l));
  put('a-payable', line(100n, '2026-02-01T00:00:00.000Z'));
  put('b-pending', line(200n, '2026-04-01T00:00:00.000Z'));
  put('c-held', line(300n, '2026-02-01T00:00:00.000Z', true));
  put('d-settled', line(0n, '2026-04-01T00:00:00.000Z'));
  put('e-clawback', line(-50n, ''));
  put('f-payable-at-latest', line(400n, LATEST));
  return lines;
};

const reloaded = () => {
  const saved = saveLines(stored(), LATEST);
  return { saved, lines: loadLines(saved.lines, saved.coldLines, saved.coldOpen, LATEST) };
};

const idsOf = (lines: ReturnType<typeof stored>, read: Iterable<string>): string[] => {
  const all = [...read];
  return ['a-payable', 'b-pending', 'c-held', 'd-settled', 'e-clawback', 'f-payable-at-latest'].filter(
    (id) => {
      const packed = packedLine(lines, id);
      return packed !== undefined && all.includes(packed);
    },
  );
};

describe('the open lines of the balances state', () => {
  it('saves apart, sorted by id, the lines that can no longer be pending or held', () => {
    const { saved } = reloaded();
    expect(saved.lines.filter((_, i) => i % 2 === 0)).toEqual(['b-pending', 'c-held']);
    expect(saved.coldLines.filter((_, i) => i % 2 === 0)).toEqual([
      'a-payable',
      'd-settled',
      'e-clawback',
      'f-payable-at-latest',
    ]);
    // Open: all but the settled one.
    expect(saved.coldOpen).toBe(3);
  });

  it('reads only the others as of the latest occurredAt or later, every line before it', () => {
    const { lines } = reloaded();
    for (const asOf of [LATEST, '2026-12-31T00:00:00.000Z']) {
      const { read, openUnread } = linesForFigures(lines, asOf);
      expect(idsOf(lines, read)).toEqual(['b-pending', 'c-held']);
      expect(openUnread).toBe(3);
    }
    for (const asOf of ['2026-01-15T00:00:00.000Z', null]) {
      const { read, openUnread } = linesForFigures(lines, asOf);
      expect(idsOf(lines, read)).toHaveLength(6);
      expect(openUnread).toBe(0);
    }
  });

  it('reads a saved line changed since in its new form, and no longer counts it as saved', () => {
    const { lines } = reloaded();
    storeLine(lines, 'a-payable', packLine(line(100n, '2026-02-01T00:00:00.000Z', true)));
    storeLine(lines, 'e-clawback', null);
    storeLine(lines, 'g-new', packLine(line(7n, '2026-05-01T00:00:00.000Z')));
    expect(packedLine(lines, 'e-clawback')).toBeUndefined();
    const { read, openUnread } = linesForFigures(lines, LATEST);
    const packed = [...read];
    expect(packed).toContain(packedLine(lines, 'a-payable'));
    expect(packed).toContain(packedLine(lines, 'g-new'));
    expect(packed).toHaveLength(4);
    // f-payable-at-latest alone is left unread.
    expect(openUnread).toBe(1);
  });
});
