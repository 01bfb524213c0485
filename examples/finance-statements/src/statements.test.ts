import { simulate } from '@partner-ledger/cli';
import { createInMemoryStore } from '@partner-ledger/store';
import { endOfMonth, monthEndFiles } from './statements';

/** A small RFC 4180 reader for the test (quoted fields, doubled quotes), rows as objects by header. */
const parse = (csv: string, _options: { columns: true }): Array<Record<string, string>> => {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < csv.length; i += 1) {
    const c = csv[i]!;
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  const [header, ...rows] = records;
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i] ?? ''])));
};

describe('the month-end close', () => {
  const store = createInMemoryStore();

  beforeAll(async () => {
    const summary = await simulate(store, { partners: 15, events: 2500, seed: 'finance', days: 75 });
    expect(summary.rejected).toEqual({});
  });

  it("writes February's statements: every payout settles items that sum to its amount", async () => {
    const files = await monthEndFiles(store, { month: '2026-02' });
    expect(files.payouts).toBeGreaterThan(0);
    const rows = parse(files.statementsCsv, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual([
      'partner',
      'payout',
      'paid_on',
      'status',
      'currency',
      'item_kind',
      'item',
      'settled',
      'conversion',
      'plan',
      'rule',
      'rate',
      'base',
      'line_amount',
    ]);
    const byPayout = new Map<string, number>();
    for (const row of rows) {
      expect(row.paid_on!.startsWith('2026-02')).toBe(true);
      // Cents as integers: the sum is exact.
      byPayout.set(row.payout!, (byPayout.get(row.payout!) ?? 0) + Math.round(Number(row.settled) * 100));
      if (row.item_kind === 'commission') expect(row.plan).toMatch(/ v\d+$/);
    }
    expect(byPayout.size).toBe(files.payouts);
    for (const [, cents] of byPayout) expect(cents).toBeGreaterThanOrEqual(5000); // the 50.00 minimum
  });

  it('closes the books the same way every time, and as known at the close', async () => {
    const first = await monthEndFiles(store, { month: '2026-02' });
    expect((await monthEndFiles(store, { month: '2026-02' })).statementsCsv).toBe(first.statementsCsv);
    const balances = parse(first.balancesCsv, { columns: true }) as Array<Record<string, string>>;
    for (const b of balances) {
      const cents = (s: string) => Math.round(Number(s) * 100);
      expect(cents(b.balance!)).toBe(
        cents(b.accrued!) - cents(b.reversed!) - cents(b.paid!) + cents(b.adjustments!),
      );
      expect(cents(b.payable!)).toBe(cents(b.balance!) - cents(b.pending!) - cents(b.held!));
    }
    const early = await monthEndFiles(store, { month: '2026-02', knownAt: '2026-02-01T00:00:00.000Z' });
    expect(early.payouts).toBe(0);
    expect(endOfMonth('2026-02')).toBe('2026-02-28T23:59:59.999Z');
    await expect(monthEndFiles(store, { month: 'February' })).rejects.toThrow(RangeError);
  });
});
