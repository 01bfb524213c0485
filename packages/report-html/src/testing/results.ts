import type {
  CommissionBalancesResult,
  EcosystemHealthResult,
  PartnerBalance,
  PartnerRevenueResult,
  PayoutStatementsResult,
  RevenueFigures,
} from '@partner-ledger/projections';
import type { LedgerStamp } from '../html';

// Small results of the four projections, written out by hand, with a partner whose id is markup: what the
// pages are given. (The pages from a real, simulated ledger are tested in the cli package.)

export const HOSTILE_ID = '<img src=x onerror="alert(1)">&co';

export const stamp: LedgerStamp = {
  digest: 'a'.repeat(64),
  position: 41,
  eventsRead: 42,
  effectiveAt: '2026-02-28T23:59:59.999Z',
  knownAt: null,
};

const figures = (attributed: string, sourced: string, conversions: number): RevenueFigures => ({
  attributed,
  sourced,
  influenced: sourced,
  conversions,
  sourcedShare: conversions === 0 ? null : '0.5000',
});

export const revenue: PartnerRevenueResult = {
  granularity: 'month',
  from: null,
  to: null,
  reportingCurrency: 'USD',
  asOf: '2026-02-20T10:00:00.000Z',
  program: {
    periods: {
      '2026-01': {
        byCurrency: { USD: { ...figures('100.10', '50.05', 2), total: '200.20', unattributed: '100.10' } },
        reporting: { ...figures('100.10', '50.05', 2), total: '200.20', unattributed: '100.10' },
        unconverted: {},
      },
      '2026-02': {
        byCurrency: {
          EUR: { ...figures('10.00', '10.00', 1), total: '10.00', unattributed: '0.00' },
          USD: { ...figures('0.01', '0.00', 1), total: '7.00', unattributed: '6.99' },
        },
        reporting: { ...figures('11.01', '10.80', 2), total: '17.80', unattributed: '6.79' },
        unconverted: {},
      },
    },
    total: {
      byCurrency: {
        EUR: { ...figures('10.00', '10.00', 1), total: '10.00', unattributed: '0.00' },
        USD: { ...figures('100.11', '50.05', 3), total: '207.20', unattributed: '107.09' },
      },
      reporting: { ...figures('111.11', '60.85', 4), total: '218.00', unattributed: '106.89' },
      unconverted: {},
    },
  },
  partnerTypes: {
    affiliate: {
      periods: {},
      total: { byCurrency: { USD: figures('100.11', '50.05', 3) }, reporting: figures('100.11', '50.05', 3) },
    },
  },
  partners: {
    'blog-1': {
      partnerType: 'affiliate',
      periods: {},
      total: { byCurrency: { USD: figures('100.10', '50.05', 2) }, reporting: figures('100.10', '50.05', 2) },
    },
    [HOSTILE_ID]: {
      partnerType: 'affiliate',
      periods: {},
      total: { byCurrency: { USD: figures('0.01', '0.00', 1) }, reporting: figures('0.01', '0.00', 1) },
    },
  },
};

const balance = (accrued: string, paid: string, balanceLeft: string): PartnerBalance => ({
  accrued,
  reversed: '0.00',
  rejected: '0.00',
  paid,
  payoutsFailed: '0.00',
  adjustments: '0.00',
  balance: balanceLeft,
  pending: '0.00',
  held: '0.00',
  payable: balanceLeft,
  negative: false,
});

export const balances: CommissionBalancesResult = {
  asOf: '2026-02-20T10:00:00.000Z',
  partners: {
    'blog-1': { USD: balance('25.03', '20.00', '5.03') },
    [HOSTILE_ID]: { USD: balance('0.01', '0.00', '0.01') },
  },
  totals: { USD: { ...balance('25.04', '20.00', '5.04'), partnersWithNegativeBalance: 0 } },
  accounts: {},
  trialBalance: { USD: { debits: '45.04', credits: '45.04', difference: '0.00' } },
  openLines: 2,
  byPartnerType: { affiliate: { USD: { ...balance('25.04', '20.00', '5.04'), partners: 2 } } },
  aging: {
    USD: {
      '0-30': { pending: '3.50', pendingLines: 2, held: '0.00', heldLines: 0 },
      '31-60': { pending: '0.00', pendingLines: 0, held: '1.25', heldLines: 1 },
      '61-90': { pending: '0.00', pendingLines: 0, held: '0.00', heldLines: 0 },
      '>90': { pending: '0.00', pendingLines: 0, held: '0.00', heldLines: 0 },
    },
  },
  reversalsByMonth: {
    '2026-02': {
      chargeback: { USD: { reversals: 1, amount: '40.00', clawedBack: '4.00' } },
      refund: { USD: { reversals: 2, amount: '12.34', clawedBack: '1.23' } },
    },
  },
};

export const health: EcosystemHealthResult = {
  asOf: '2026-02-20T10:00:00.000Z',
  activeWindowDays: 30,
  granularity: 'month',
  reportingCurrency: 'USD',
  activePartners: { total: 1, byType: { affiliate: 1 } },
  partnerCount: { total: 2, byType: { affiliate: 2 } },
  newPartners: { '2026-01': { total: 2, byType: { affiliate: 2 } } },
  churnedPartners: { '2026-02': { total: 1, byType: { affiliate: 1 } } },
  revenue: {
    periods: {
      '2026-01': {
        byCurrency: {},
        reporting: {
          total: '200.20',
          sourced: '50.05',
          influenced: '50.05',
          renewal: '0.00',
          sourcedShare: '0.2500',
          influencedShare: '0.2500',
        },
      },
    },
    total: { byCurrency: {}, reporting: null },
  },
  accountsInfluencedByTechnologyPartners: 0,
  timeToFirstConversion: { partnersConverted: 2, medianDays: 3, averageDays: '3.5' },
  partners: {},
};

export const statements: PayoutStatementsResult = {
  granularity: 'month',
  from: null,
  to: null,
  statements: {
    'blog-1': {
      '2026-02': {
        partnerId: 'blog-1',
        period: '2026-02',
        payouts: [
          {
            payoutId: 'pay-1',
            occurredAt: '2026-02-15T09:00:00.000Z',
            amount: '20.00',
            currency: 'USD',
            method: 'bank',
            externalReference: null,
            status: 'issued',
            failureReason: null,
            items: [
              {
                kind: 'commission',
                id: 'line-1',
                settled: '25.03',
                line: {
                  conversionId: 'conv-1',
                  accruedAt: '2026-01-10T12:00:00.000Z',
                  planId: 'share',
                  planVersion: 1,
                  rule: 'revenueShare',
                  tier: null,
                  rate: '0.25',
                  base: '100.12',
                  amount: '25.03',
                  currency: 'USD',
                  payableAt: '2026-01-20T12:00:00.000Z',
                  overrideOf: null,
                },
              },
              { kind: 'reversal', id: 'rev-1', settled: '-5.03', line: null },
            ],
          },
        ],
        totals: { USD: { issued: '20.00', failed: '0.00', paid: '20.00' } },
      },
    },
  },
};
