import * as fc from 'fast-check';
import type { LedgerEvent } from '@partner-ledger/events';
import { fold } from '../decider';
import { expectSameFoldsWithoutDraft, storedEnvelope } from '../testing/decider-spec';
import { conversionDecider } from './conversion';

// The conversion's stream is folded without a draft (`evolve`); it must give exactly what the draft does.
// Only the fields the fold reads are spelled out.

const envelope = (revision: number) => storedEnvelope('conversion-o1', revision, `event-${revision % 3}`);

type Step =
  | { kind: 'attributed'; lines: string[] }
  | { kind: 'reversed'; reversalId: string; lineId: string; partnerId: string; amount: string }
  | { kind: 'CommissionHeld' | 'CommissionReleased' | 'CommissionRejected'; lineId: string }
  | { kind: 'other' };

const eventOf = (step: Step, revision: number): LedgerEvent => {
  const base = envelope(revision);
  switch (step.kind) {
    case 'attributed':
      return {
        ...base,
        type: 'ConversionAttributed',
        data: {
          conversionId: 'o1',
          amount: '100.00',
          currency: 'USD',
          commissions: step.lines.map((lineId) => ({ lineId, status: 'pending', partnerId: 'p1' })),
        },
      } as unknown as LedgerEvent;
    case 'reversed':
      return {
        ...base,
        type: 'ConversionReversed',
        data: {
          reversalId: step.reversalId,
          conversionId: 'o1',
          amount: step.amount,
          lines: [{ lineId: step.lineId, partnerId: step.partnerId, amount: step.amount }],
          credits: [{ partnerId: step.partnerId, revenueCredit: step.amount }],
        },
      } as unknown as LedgerEvent;
    case 'other':
      return { ...base, type: 'ClickTracked', data: {} } as unknown as LedgerEvent;
    default:
      return {
        ...base,
        type: step.kind,
        data: { lineId: step.lineId, partnerId: 'p1', conversionId: 'o1', reason: 'r', note: null },
      } as unknown as LedgerEvent;
  }
};

describe('the conversion decider folded without a draft', () => {
  it('gives the state the draft gives, for any attributions, reversals and reviews (repeated ids too), in any batches', () => {
    const lineId = fc.constantFrom('l1', 'l2', 'l3');
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('attributed' as const), lines: fc.array(lineId, { maxLength: 3 }) }),
      fc.record({
        kind: fc.constant('reversed' as const),
        reversalId: fc.constantFrom('r1', 'r2', 'r3'),
        lineId,
        partnerId: fc.constantFrom('p1', 'p2'),
        amount: fc.constantFrom('1.00', '0.25', '10'),
      }),
      fc.record({
        kind: fc.constantFrom(
          'CommissionHeld' as const,
          'CommissionReleased' as const,
          'CommissionRejected' as const,
        ),
        lineId,
      }),
      fc.record({ kind: fc.constant('other' as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.integer({ min: 1, max: 30 }), (steps, batch) => {
        expectSameFoldsWithoutDraft(conversionDecider, steps.map(eventOf), batch);
      }),
    );
  });

  it('leaves the state it folded from as it was', () => {
    const before = fold(conversionDecider, conversionDecider.initialState, [
      eventOf({ kind: 'attributed', lines: ['l1'] }, 0),
    ]);
    const after = fold(conversionDecider, before, [
      eventOf({ kind: 'reversed', reversalId: 'r1', lineId: 'l1', partnerId: 'p1', amount: '1.00' }, 1),
      eventOf({ kind: 'CommissionHeld', lineId: 'l1' }, 2),
    ]);
    expect(before).toMatchObject({
      revision: 0,
      reversals: {},
      reversedLines: {},
      lineStatus: { l1: 'pending' },
    });
    expect(after).toMatchObject({
      revision: 2,
      reversedAmount: '1',
      reversedLines: { l1: '1' },
      lineStatus: { l1: 'held' },
    });
    expect(after.attributed).toBe(before.attributed);
  });
});
