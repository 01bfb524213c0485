import type { LedgerEvent } from '@partner-ledger/events';
import { sortKeys } from '../runtime/json';
import type { JsonValue } from '../runtime/json';
import { createReference } from '../runtime/reference';
import { commissionBalances } from './balances';

// The balances result reads the accounts of a state loaded from a checkpoint in their saved (sorted) order
// without sorting them again, and checks the order of the partners it built instead of copying them: an
// account added after the load that sorts before the others must still print in its sorted place.

const adjustment = (partnerId: string, amount: string, currency = 'USD'): LedgerEvent =>
  ({
    type: 'ManualAdjustmentRecorded',
    occurredAt: '2026-03-01T00:00:00.000Z',
    data: { partnerId, amount, currency, reason: 'test' },
  }) as unknown as LedgerEvent;

const context = { asOf: '2026-03-01T00:00:00.000Z', position: 0, reference: createReference(null) };

const fold = (events: readonly LedgerEvent[], from?: JsonValue) => {
  const projection = commissionBalances();
  let state = from === undefined ? projection.initialState() : projection.load(from);
  for (const event of events) state = projection.apply(state, event, context.reference);
  return { projection, state };
};

describe('the balances result of a state loaded from a checkpoint', () => {
  const before = [adjustment('p-b', '1.00'), adjustment('p-c', '2.00', 'EUR'), adjustment('p-c', '3.00')];
  const after = [adjustment('p-a', '4.00'), adjustment('p-d', '5.00'), adjustment('p-b', '6.00', 'EUR')];

  it('prints the partners, and their currencies, sorted, whatever order their accounts were added in', () => {
    const saved = fold(before);
    const resumed = fold(after, saved.projection.save(saved.state));
    const result = resumed.projection.result(resumed.state, context);
    expect(Object.keys(result.partners)).toEqual(['p-a', 'p-b', 'p-c', 'p-d']);
    expect(Object.keys(result.partners['p-b']!)).toEqual(['EUR', 'USD']);
    expect(JSON.stringify(result)).toBe(JSON.stringify(sortKeys(result)));
    const whole = fold([...before, ...after]);
    expect(JSON.stringify(result)).toBe(JSON.stringify(whole.projection.result(whole.state, context)));
  });

  it('prints partner ids that are array indexes as an object prints them, sorted or not', () => {
    const ids = ['10', '9', 'p-1'];
    const saved = fold(ids.map((id) => adjustment(id, '1.00')));
    const resumed = fold([adjustment('2', '1.00')], saved.projection.save(saved.state));
    const result = resumed.projection.result(resumed.state, context);
    expect(JSON.stringify(result)).toBe(JSON.stringify(sortKeys(result)));
  });
});

// A checkpoint saves the figures of the lines that may still count (pending, held, their age) as of its
// latest occurredAt, with the moment each line's figures next change; a result resumed from it, as of a later
// moment, recounts only the lines changed since and those whose moment came. Here each such moment is
// crossed exactly, one millisecond before and after.
describe('the line figures a checkpoint saves', () => {
  const DAY = 86_400_000;
  const at = (ms: number) => new Date(ms).toISOString();
  const earned = (iso: string) => Date.parse(iso);
  const conversion = (
    occurredAt: string,
    lines: ReadonlyArray<{ lineId: string; partnerId: string; payableAt: string; held?: boolean }>,
  ): LedgerEvent =>
    ({
      type: 'ConversionAttributed',
      occurredAt,
      data: {
        commissions: lines.map((l) => ({
          lineId: l.lineId,
          partnerId: l.partnerId,
          amount: '10.00',
          currency: 'USD',
          payableAt: l.payableAt,
          status: l.held === true ? 'held' : 'pending',
        })),
      },
    }) as unknown as LedgerEvent;
  const event = (type: string, lineId: string, occurredAt: string): LedgerEvent =>
    ({ type, occurredAt, data: { lineId } }) as unknown as LedgerEvent;

  const before = [
    conversion('2026-01-01T00:00:00.000Z', [
      { lineId: 'l1', partnerId: 'p-a', payableAt: '2026-03-10T00:00:00.000Z' },
      { lineId: 'l2', partnerId: 'p-b', payableAt: '2026-01-15T00:00:00.000Z', held: true },
    ]),
    conversion('2026-02-01T00:00:00.000Z', [
      { lineId: 'l3', partnerId: 'p-a', payableAt: '2026-04-01T00:00:00.000Z' },
    ]),
    // Payable before their age changes bucket. l4's payableAt is not in the one form that compares as text
    // as in time (payable, as text, at 00:00:01 already, an hour before its instant): always counted afresh.
    conversion('2026-02-25T00:00:00.000Z', [
      { lineId: 'l4', partnerId: 'p-c', payableAt: '2026-03-05T00:00:00-01:00' },
      { lineId: 'l5', partnerId: 'p-c', payableAt: '2026-03-02T12:00:00.000Z' },
    ]),
    adjustment('p-d', '1.00'),
  ];
  // The moments after the checkpoint (2026-03-01) at which a line's figures change: l1 and l5 payable, l2
  // and l3 a bucket older, l4 payable (as text, then as an instant).
  const moments = [
    Date.parse('2026-03-10T00:00:00.000Z'),
    Date.parse('2026-03-02T12:00:00.000Z'),
    Date.parse('2026-03-05T00:00:01.000Z'),
    Date.parse('2026-03-05T01:00:00.000Z'),
    earned('2026-01-01T00:00:00.000Z') + 61 * DAY,
    earned('2026-02-01T00:00:00.000Z') + 31 * DAY,
    earned('2026-01-01T00:00:00.000Z') + 91 * DAY,
    Date.parse('2026-03-05T00:00:00.000Z'),
  ].flatMap((ms) => [at(ms - 1), at(ms), at(ms + 1)]);
  const after = [event('CommissionReleased', 'l2', '2026-02-20T00:00:00.000Z')];

  it.each([
    ['no event since', [] as LedgerEvent[]],
    ['a line changed since', after],
  ])('gives a resumed result the figures a replay gives, at each moment a line changes (%s)', (_, since) => {
    const saved = fold(before);
    const document = saved.projection.save(saved.state);
    const whole = fold([...before, ...since]);
    for (const asOf of ['2026-03-01T00:00:00.000Z', ...moments]) {
      const resumed = fold(since, document);
      const expected = JSON.stringify(whole.projection.result(whole.state, { ...context, asOf }));
      expect(JSON.stringify(resumed.projection.result(resumed.state, { ...context, asOf }))).toBe(expected);
    }
  });

  it('are not used for a result as of a moment before them', () => {
    const saved = fold(before);
    const resumed = fold([], saved.projection.save(saved.state));
    // l1 and l2 are then in the first age bucket, not the second.
    for (const asOf of ['2026-01-20T00:00:00.000Z', '2026-02-28T23:59:59.999Z'])
      expect(JSON.stringify(resumed.projection.result(resumed.state, { ...context, asOf }))).toBe(
        JSON.stringify(saved.projection.result(fold(before).state, { ...context, asOf })),
      );
  });
});
