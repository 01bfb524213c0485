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
