const DAY_MS = 86_400_000;

/** `timestamp` plus whole days, in the ledger's timestamp form. */
export const addDays = (timestamp: string, days: number): string =>
  new Date(Date.parse(timestamp) + days * DAY_MS).toISOString();

/** Seconds from `from` to `to` (negative when `to` is earlier). */
export const secondsBetween = (from: string, to: string): number =>
  (Date.parse(to) - Date.parse(from)) / 1000;

/** The calendar period (UTC) containing `timestamp`: `2026-03` for a month, `2026-Q1` for a quarter. */
export const periodKey = (timestamp: string, period: 'month' | 'quarter'): string => {
  const date = new Date(timestamp);
  const month = date.getUTCMonth();
  return period === 'month'
    ? `${date.getUTCFullYear()}-${String(month + 1).padStart(2, '0')}`
    : `${date.getUTCFullYear()}-Q${Math.floor(month / 3) + 1}`;
};
