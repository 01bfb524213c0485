import type { NewEvent } from '@partner-ledger/events';

/** A realistic event for the benchmarks: a conversion with one credited partner and one commission line. */
export const benchEvent = (n: number, prefix = 'bench'): NewEvent => {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
  return {
    id: `${prefix}-${n}`,
    type: 'ConversionAttributed',
    schemaVersion: 1,
    data: {
      conversionId: `conv-${n}`,
      customerId: `cust-${n % 5000}`,
      amount: `${(n % 9000) + 100}.00`,
      currency: 'USD',
      model: 'lastTouch',
      credits: [
        {
          partnerId: `partner-${n % 300}`,
          weight: '1',
          revenueCredit: `${(n % 9000) + 100}.00`,
          role: 'sourced',
        },
      ],
      lines: [
        {
          lineId: `line-${n}`,
          partnerId: `partner-${n % 300}`,
          rule: 'revenueShare',
          rate: '0.20',
          amount: '20.00',
        },
      ],
    },
    occurredAt: at,
    recordedAt: at,
    actor: 'service:checkout',
    correlationId: `corr-${n}`,
    causationId: null,
  };
};
