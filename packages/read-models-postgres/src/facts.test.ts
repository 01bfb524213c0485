import { replay, commissionBalances } from '@partner-ledger/projections';
import {
  commissionLine,
  conversion,
  createEventBuilder,
  partnerJoined,
  programConfigured,
  storeWith,
} from '@partner-ledger/projections/testing';
import { outstandingOf, readModelFacts, statusOf } from './facts';
import { lineRow } from './tables';

/**
 * A hand-computed history of partner a, in USD: L1 100.00 and L2 50.00 accrued; P1 pays L1; L1 reversed
 * (a clawback of 100.00); L2 rejected; L3 150.00 accrued; P2 of 20.00 recovers the clawback (-100.00) and
 * settles 120.00 of L3. What is outstanding: L1 0 (the clawback recovered), L2 0 (rejected), L3 30.00; the
 * balance 300 - 100 - 50 - 120 = 30.00.
 */
const history = () =>
  createEventBuilder()
    .at('2026-01-01T00:00:00.000Z')
    .add('program', 'ProgramConfigured', programConfigured('USD'))
    .add('partner-a', 'PartnerJoined', partnerJoined('a', 'affiliate'))
    .add(
      'conversion-1',
      'ConversionAttributed',
      conversion({
        conversionId: '1',
        amount: '1500.00',
        credits: [['a', '1500.00']],
        commissions: [
          commissionLine('L1', 'a', {
            base: '1000.00',
            rate: '0.1',
            amount: '100.00',
            payableAt: '2026-01-01T00:00:00.000Z',
          }),
          commissionLine('L2', 'a', {
            base: '500.00',
            rate: '0.1',
            amount: '50.00',
            payableAt: '2026-01-01T00:00:00.000Z',
          }),
        ],
      }),
    )
    .at('2026-01-02T00:00:00.000Z')
    .add('balance-a', 'PayoutIssued', {
      payoutId: 'P1',
      partnerId: 'a',
      amount: '100.00',
      currency: 'USD',
      method: 'bankTransfer',
      externalReference: null,
      settles: [{ kind: 'commission', id: 'L1', amount: '100.00' }],
    })
    .at('2026-01-03T00:00:00.000Z')
    .add('conversion-1', 'ConversionReversed', {
      reversalId: 'R1',
      conversionId: '1',
      customerId: 'customer-of-1',
      kind: 'refund',
      amount: '1000.00',
      currency: 'USD',
      credits: [{ partnerId: 'a', revenueCredit: '1000.00' }],
      lines: [{ lineId: 'L1', partnerId: 'a', amount: '100.00', currency: 'USD' }],
      reason: null,
    })
    .add('conversion-1', 'CommissionRejected', {
      lineId: 'L2',
      partnerId: 'a',
      conversionId: '1',
      reason: 'fraud',
    })
    .at('2026-01-04T00:00:00.000Z')
    .add(
      'conversion-2',
      'ConversionAttributed',
      conversion({
        conversionId: '2',
        amount: '1500.00',
        credits: [['a', '1500.00']],
        commissions: [
          commissionLine('L3', 'a', {
            base: '1500.00',
            rate: '0.1',
            amount: '150.00',
            payableAt: '2026-01-04T00:00:00.000Z',
          }),
        ],
      }),
    )
    .at('2026-01-05T00:00:00.000Z')
    .add('balance-a', 'PayoutIssued', {
      payoutId: 'P2',
      partnerId: 'a',
      amount: '20.00',
      currency: 'USD',
      method: 'bankTransfer',
      externalReference: null,
      settles: [
        { kind: 'reversal', id: 'L1', amount: '-100.00' },
        { kind: 'commission', id: 'L3', amount: '120.00' },
      ],
    }).events;

describe('commission_lines outstanding', () => {
  it('owes nothing on a rejected line or a recovered clawback, and sums to the balances projection', async () => {
    const { results } = await replay(await storeWith(history()), {
      facts: readModelFacts(),
      balances: commissionBalances(),
    });
    const lines = results.facts.lines;
    // The outstanding column of each commission_lines row (the 14th: after amount, currency, reversed, settled).
    const outstanding = (id: string) => lineRow(id, lines[id]!)[13];
    expect(['L1', 'L2', 'L3'].map(outstanding)).toEqual(['0.00', '0.00', '30.00']);
    expect(['L1', 'L2', 'L3'].map((id) => statusOf(lines[id]!))).toEqual(['reversed', 'rejected', 'open']);
    const sum = Object.values(lines).reduce((total, line) => total + outstandingOf(line), 0n);
    expect(results.balances.partners['a']!['USD']).toMatchObject({ balance: '30.00', rejected: '50.00' });
    expect(sum).toBe(3000n);
  });
});
