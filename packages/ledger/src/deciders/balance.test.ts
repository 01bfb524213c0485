import { conversionAttributed, partnerJoined } from '../testing/fixtures';
import { deciderSpec } from '../testing/decider-spec';
import type { AnyGivenEvent } from '../testing/spec';
import { balanceDecider, initialBalanceState, payableBalance, totalBalance } from './balance';
import type { BalanceCommand } from './balance';

// The balance decider alone, pure: what is payable when, and what a payout settles.

const NOW = '2026-03-15T12:00:00.000Z';
const spec = deciderSpec(balanceDecider, initialBalanceState('p1'));
const facts = { partnerJoined: true, minimumPayout: { amount: '10.00', currency: 'USD' } };
const payout = (amount: string, at = NOW): BalanceCommand => ({
  command: 'issuePayout',
  payoutId: 'pay-1',
  partnerId: 'p1',
  amount,
  currency: 'USD',
  method: 'wise',
  at,
  atGiven: false,
  now: at,
  facts,
});

const lines: AnyGivenEvent[] = [
  partnerJoined('p1'),
  conversionAttributed({
    conversionId: 'o1',
    partnerId: 'p1',
    amount: '100.00',
    commission: '20.00',
    payableAt: '2026-03-01T00:00:00.000Z',
  }),
  conversionAttributed({
    conversionId: 'o2',
    partnerId: 'p1',
    amount: '100.00',
    commission: '20.00',
    payableAt: '2026-03-15T12:00:00.000Z',
  }),
  conversionAttributed({
    conversionId: 'o3',
    partnerId: 'p1',
    amount: '100.00',
    commission: '20.00',
    payableAt: '2026-03-15T12:00:00.001Z',
  }),
  conversionAttributed({
    conversionId: 'ox',
    partnerId: 'p2',
    amount: '100.00',
    commission: '99.00',
    payableAt: '2026-03-01T00:00:00.000Z',
  }),
];
const adjustment = (id: string, amount: string, occurredAt: string): AnyGivenEvent => ({
  type: 'ManualAdjustmentRecorded',
  data: { adjustmentId: id, partnerId: 'p1', amount, currency: 'USD', reason: 'r' },
  occurredAt,
});

describe('the balance decider', () => {
  it('counts a line payable from its payableAt on (inclusive), and only the partner`s own lines', () => {
    const { state } = spec.given(lines);
    expect(payableBalance(state, 'USD', NOW).toFixed(2)).toBe('40.00');
    expect(payableBalance(state, 'USD', '2026-03-15T12:00:00.001Z').toFixed(2)).toBe('60.00');
    expect(totalBalance(state, 'USD').toFixed(2)).toBe('60.00');
    expect(payableBalance(state, 'EUR', NOW).toFixed(2)).toBe('0.00');
  });

  it('settles negative adjustments first, then the oldest items', () =>
    spec
      .given([
        ...lines,
        adjustment('a1', '15.00', '2026-02-01T00:00:00.000Z'),
        adjustment('a2', '-5.00', '2026-03-10T00:00:00.000Z'),
      ])
      .when(payout('30.00'))
      .then([
        {
          type: 'PayoutIssued',
          data: {
            amount: '30.00',
            settles: [
              { kind: 'adjustment', id: 'a2', amount: '-5.00' },
              { kind: 'adjustment', id: 'a1', amount: '15.00' },
              { kind: 'commission', id: 'o1/p1/0', amount: '20.00' },
            ],
          },
        },
      ]));

  it('refuses a payout above the payable balance, to the cent', () =>
    spec.given(lines).when(payout('40.01')).thenRejects('PAYOUT_EXCEEDS_PAYABLE'));

  it('decides by the payout`s own time', () =>
    spec
      .given(lines)
      .when(payout('40.00', '2026-03-14T00:00:00.000Z'))
      .thenRejects('PAYOUT_EXCEEDS_PAYABLE'));

  it('a failed payout makes its lines payable again', () => {
    const paid: AnyGivenEvent = {
      type: 'PayoutIssued',
      data: {
        payoutId: 'pay-0',
        partnerId: 'p1',
        amount: '40.00',
        currency: 'USD',
        method: 'wise',
        externalReference: null,
        settles: [
          { kind: 'commission', id: 'o1/p1/0', amount: '20.00' },
          { kind: 'commission', id: 'o2/p1/0', amount: '20.00' },
        ],
      },
      occurredAt: NOW,
    };
    spec
      .given([...lines, paid])
      .when(payout('10.00'))
      .thenRejects('PAYOUT_EXCEEDS_PAYABLE');
    const failed: AnyGivenEvent = {
      type: 'PayoutFailed',
      data: { payoutId: 'pay-0', partnerId: 'p1', amount: '40.00', currency: 'USD', reason: 'bounced' },
      occurredAt: NOW,
    };
    spec
      .given([...lines, paid, failed])
      .when(payout('40.00'))
      .then([{ type: 'PayoutIssued' }]);
  });

  it('tracks the revision of the partner`s balance stream only', () => {
    const { state } = spec.given([...lines, adjustment('a1', '1.00', NOW), adjustment('a2', '2.00', NOW)]);
    expect(state.revision).toBe(1);
  });
});
