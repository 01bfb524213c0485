import Decimal from 'decimal.js';

/**
 * The Decimal constructor that partner-ledger uses everywhere. It is a clone, so that the host
 * application's global Decimal configuration is neither read nor changed (never `Decimal.set`).
 * 60 significant digits keep every intermediate product of an amount (at most 10^15 with 4 decimals) and a
 * rate exact; rounding to the currency's minor unit happens once, explicitly, with ROUND_HALF_EVEN.
 */
export const LedgerDecimal = Decimal.clone({
  precision: 60,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -60,
  toExpPos: 60,
  minE: -9e15,
  maxE: 9e15,
});

export type LedgerDecimal = Decimal;

/** The one rounding rule for money: half to even ("banker's rounding"), at the currency's minor unit. */
export const MONEY_ROUNDING = Decimal.ROUND_HALF_EVEN;
