import type { Granularity } from './period';
import { commissionBalances } from './projections/balances';
import { ecosystemHealth } from './projections/health';
import { partnerRevenue } from './projections/revenue';
import type { PartnerRevenueOptions } from './projections/revenue';
import { payoutStatements } from './projections/statements';
import type { PayoutStatementsOptions } from './projections/statements';

/** The options of each built-in projection, by its name in `builtInProjections`. */
export interface BuiltInOptions {
  /** Revenue, new partners and statement periods. Default `month`. */
  readonly granularity?: Granularity;
  /**
   * Which conversions and reversals revenue counts, by occurredAt (default: all; memory then grows with the
   * number of periods, a figure set per partner, type and the program for each): `{ from, to }`.
   */
  readonly revenue?: Omit<PartnerRevenueOptions, 'granularity'>;
  /** Which payouts get statements (default: all; memory grows with the payouts selected). */
  readonly statements?: Omit<PayoutStatementsOptions, 'granularity'>;
  readonly activeWindowDays?: number;
}

/** Every built-in projection, to replay in one pass: `replay(store, builtInProjections())`. */
export const builtInProjections = (options: BuiltInOptions = {}) => {
  const granularity = options.granularity ?? 'month';
  return {
    revenue: partnerRevenue({ ...options.revenue, granularity }),
    balances: commissionBalances(),
    statements: payoutStatements({ ...options.statements, granularity }),
    health: ecosystemHealth({
      granularity,
      ...(options.activeWindowDays === undefined ? {} : { activeWindowDays: options.activeWindowDays }),
    }),
  } as const;
};
