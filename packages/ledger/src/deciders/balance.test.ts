import { conversionAttributed, partnerJoined } from '../testing/fixtures';
import { deciderSpec } from '../testing/decider-spec';
import type { AnyGivenEvent } from '../testing/spec';
import * as fc from 'fast-check';
import { LedgerDecimal } from '@partner-ledger/events';
import {
  balanceDecider,
  initialBalanceState,
  lineOutstanding,
  payableBalance,
  payableItems,
  totalBalance,
} from './balance';
import type { BalanceCommand, BalanceLine, BalanceState } from './balance';

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

  describe('confirmPayout (payout batches: the provider paid it)', () => {
    const issued: AnyGivenEvent = {
      type: 'PayoutIssued',
      data: {
        payoutId: 'pay-0',
        partnerId: 'p1',
        amount: '40.00',
        currency: 'USD',
        method: 'paypal',
        externalReference: 'batch:b1',
        settles: [
          { kind: 'commission', id: 'o1/p1/0', amount: '20.00' },
          { kind: 'commission', id: 'o2/p1/0', amount: '20.00' },
        ],
      },
      occurredAt: NOW,
    };
    const confirmed: AnyGivenEvent = {
      type: 'PayoutConfirmed',
      data: {
        payoutId: 'pay-0',
        partnerId: 'p1',
        amount: '40.00',
        currency: 'USD',
        providerReference: 'TX-1',
      },
      occurredAt: NOW,
    };
    const failed = (reason: string): AnyGivenEvent => ({
      type: 'PayoutFailed',
      data: { payoutId: 'pay-0', partnerId: 'p1', amount: '40.00', currency: 'USD', reason },
      occurredAt: NOW,
    });
    const confirm = (providerReference: string | null, atGiven = true): BalanceCommand => ({
      command: 'confirmPayout',
      payoutId: 'pay-0',
      partnerId: 'p1',
      providerReference,
      at: NOW,
      atGiven,
      now: NOW,
    });
    const fail = (reason: string): BalanceCommand => ({
      command: 'recordPayoutFailure',
      payoutId: 'pay-0',
      partnerId: 'p1',
      reason,
      at: NOW,
      atGiven: true,
      now: NOW,
    });

    it('records the confirmation with the payout`s amount, and changes no balance', () => {
      spec
        .given([...lines, issued])
        .when(confirm('TX-1'))
        .then([
          {
            type: 'PayoutConfirmed',
            data: { payoutId: 'pay-0', amount: '40.00', currency: 'USD', providerReference: 'TX-1' },
          },
        ]);
      const before = spec.given([...lines, issued]).state;
      const after = spec.given([...lines, issued, confirmed]).state;
      expect(payableBalance(after, 'USD', NOW).toFixed(2)).toBe(
        payableBalance(before, 'USD', NOW).toFixed(2),
      );
      expect(totalBalance(after, 'USD').toFixed(2)).toBe('20.00');
    });

    it('is idempotent: the same confirmation again is already recorded, another one a conflict', () => {
      spec
        .given([...lines, issued, confirmed])
        .when(confirm('TX-1'))
        .thenAlreadyRecorded();
      spec
        .given([...lines, issued, confirmed])
        .when(confirm('TX-2'))
        .thenRejects('IDEMPOTENCY_CONFLICT', { field: 'payoutId' });
    });

    it('refuses an unknown payout and one that failed', () => {
      spec.given(lines).when(confirm('TX-1')).thenRejects('PAYOUT_NOT_FOUND', { field: 'payoutId' });
      spec
        .given([...lines, issued, failed('account closed')])
        .when(confirm('TX-1'))
        .thenRejects('PAYOUT_ALREADY_FAILED', { field: 'payoutId' });
    });

    it('a payout returned after its confirmation is a failure: its amount is payable again', () => {
      spec
        .given([...lines, issued, confirmed])
        .when(fail('returned: account closed'))
        .then([{ type: 'PayoutFailed', data: { amount: '40.00', reason: 'returned: account closed' } }]);
      const { state } = spec.given([...lines, issued, confirmed, failed('returned: account closed')]);
      expect(payableBalance(state, 'USD', NOW).toFixed(2)).toBe('40.00');
      spec
        .given([...lines, issued, confirmed, failed('returned: account closed')])
        .when(fail('returned: account closed'))
        .thenAlreadyRecorded();
    });
  });
});

describe('payable items', () => {
  // What payableItems gave before it was one pass: filter, map, filter out the settled, sort oldest first.
  const reference = (state: BalanceState, currency: string, at: string) =>
    [
      ...Object.values(state.lines)
        .filter((l) => l.currency === currency && l.status === 'pending' && l.payableAt <= at)
        .map((l) => ({
          kind: 'commission',
          id: l.lineId,
          outstanding: lineOutstanding(l),
          since: l.payableAt,
          seq: l.seq,
        })),
      ...Object.values(state.adjustments)
        .filter((a) => a.data.currency === currency && a.at <= at)
        .map((a) => ({
          kind: 'adjustment',
          id: a.data.adjustmentId,
          outstanding: new LedgerDecimal(a.data.amount).minus(a.settled),
          since: a.at,
          seq: a.seq,
        })),
    ]
      .filter((item) => !item.outstanding.isZero())
      .sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : a.seq - b.seq));
  const spell = (items: readonly { kind: string; id: string; outstanding: LedgerDecimal }[]) =>
    items.map((item) => `${item.kind} ${item.id} ${item.outstanding.toFixed()}`);

  it('are every payable line and adjustment with something outstanding, oldest first, in any recording order', () => {
    const day = fc.integer({ min: 1, max: 4 }).map((d) => `2026-03-0${d}T00:00:00.000Z`);
    const item = fc.record({
      adjustment: fc.boolean(),
      currency: fc.constantFrom('USD', 'EUR'),
      amount: fc.constantFrom('10.00', '0.00', '-5.00'),
      settled: fc.constantFrom('0', '10.00', '2.50'),
      status: fc.constantFrom('pending', 'held', 'rejected'),
      day,
    });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 25 }), day, (items, at) => {
        const lines: Record<string, BalanceLine> = {};
        const adjustments: BalanceState['adjustments'] = {};
        items.forEach((it, seq) => {
          if (it.adjustment)
            (adjustments as Record<string, BalanceState['adjustments'][string]>)[`a${seq}`] = {
              data: {
                adjustmentId: `a${seq}`,
                partnerId: 'p1',
                amount: it.amount === '0.00' ? '1.00' : it.amount,
                currency: it.currency as 'USD',
                reason: 'r',
              },
              at: it.day,
              eventId: `e${seq}`,
              settled: it.settled,
              seq,
            };
          else
            lines[`l${seq}`] = {
              lineId: `l${seq}`,
              conversionId: `o${seq}`,
              currency: it.currency as 'USD',
              amount: it.amount === '-5.00' ? '10.00' : it.amount,
              reversed: '0',
              settled: it.settled,
              payableAt: it.day,
              status: it.status as 'pending',
              seq,
            };
        });
        // Every line in the owed index (a superset of the real one): this checks the filter and the order.
        const owed = Object.fromEntries(Object.keys(lines).map((id) => [id, true as const]));
        const state: BalanceState = { ...initialBalanceState('p1'), lines, owed, adjustments };
        expect(spell(payableItems(state, 'USD', at))).toEqual(spell(reference(state, 'USD', at)));
      }),
    );
  });

  it('read through the owed index, are what every line gives, after any history of the lines', () => {
    // Lines attributed, reversed in part or in full, held, released, rejected, paid in part or in full,
    // payouts failed: the index must hold each line with something outstanding, whatever came before.
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('attribute' as const),
        commission: fc.constantFrom('20.00', '0.00', '7.50'),
      }),
      fc.record({
        kind: fc.constant('reverse' as const),
        line: fc.nat(),
        amount: fc.constantFrom('7.50', '20.00'),
      }),
      fc.record({
        kind: fc.constantFrom('hold' as const, 'release' as const, 'reject' as const),
        line: fc.nat(),
      }),
      fc.record({
        kind: fc.constant('pay' as const),
        line: fc.nat(),
        amount: fc.constantFrom('7.50', '20.00'),
      }),
      fc.record({ kind: fc.constant('fail' as const), payout: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const events: AnyGivenEvent[] = [partnerJoined('p1')];
        const lineIds: string[] = [];
        const payouts: { payoutId: string; amount: string; lineId: string }[] = [];
        steps.forEach((s, i) => {
          if (s.kind === 'attribute') {
            events.push(
              conversionAttributed({
                conversionId: `o${i}`,
                partnerId: 'p1',
                amount: '100.00',
                commission: s.commission,
                payableAt: '2026-03-01T00:00:00.000Z',
              }),
            );
            lineIds.push(`o${i}/p1/0`);
            return;
          }
          if (s.kind === 'fail') {
            const paid = payouts[s.payout % Math.max(payouts.length, 1)];
            if (paid === undefined) return;
            events.push({
              type: 'PayoutFailed',
              data: {
                payoutId: paid.payoutId,
                partnerId: 'p1',
                amount: paid.amount,
                currency: 'USD',
                reason: 'x',
              },
              occurredAt: NOW,
            });
            return;
          }
          const lineId = lineIds[s.line % Math.max(lineIds.length, 1)];
          if (lineId === undefined) return;
          const conversionId = lineId.split('/')[0]!;
          if (s.kind === 'reverse')
            events.push({
              type: 'ConversionReversed',
              data: {
                conversionId,
                reversalId: `r${i}`,
                kind: 'refund',
                amount: '10.00',
                reason: null,
                lines: [{ lineId, partnerId: 'p1', amount: s.amount, currency: 'USD' }],
              },
              occurredAt: NOW,
            } as AnyGivenEvent);
          else if (s.kind === 'pay') {
            const payoutId = `pay${i}`;
            payouts.push({ payoutId, amount: s.amount, lineId });
            events.push({
              type: 'PayoutIssued',
              data: {
                payoutId,
                partnerId: 'p1',
                amount: s.amount,
                currency: 'USD',
                method: 'wise',
                externalReference: null,
                settles: [{ kind: 'commission', id: lineId, amount: s.amount }],
              },
              occurredAt: NOW,
            });
          } else
            events.push({
              type:
                s.kind === 'hold'
                  ? 'CommissionHeld'
                  : s.kind === 'release'
                    ? 'CommissionReleased'
                    : 'CommissionRejected',
              data: { conversionId, lineId, partnerId: 'p1', reason: 'r' },
              occurredAt: NOW,
            } as AnyGivenEvent);
        });
        const { state } = spec.given(events);
        const owed = Object.keys(state.lines).filter((id) => !lineOutstanding(state.lines[id]!).isZero());
        expect(Object.keys(state.owed).sort()).toEqual(owed.sort());
        expect(spell(payableItems(state, 'USD', NOW))).toEqual(spell(reference(state, 'USD', NOW)));
      }),
    );
  });
});
