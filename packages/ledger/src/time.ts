const DAY_MS = 86_400_000;

/** `timestamp` plus whole days, in the ledger's timestamp form. */
export const addDays = (timestamp: string, days: number): string =>
  new Date(Date.parse(timestamp) + days * DAY_MS).toISOString();

/** Seconds from `from` to `to` (negative when `to` is earlier). */
export const secondsBetween = (from: string, to: string): number =>
  (Date.parse(to) - Date.parse(from)) / 1000;

/** The calendar period (UTC) containing `timestamp`: `2026-03` for a month, `2026-Q1` for a quarter. */
export const periodKey = (timestamp: string, period: 'month' | 'quarter'): string => {
  // The ledger's own form (`2026-03-01T12:00:00.000Z`, UTC, what every event and resolved command carries)
  // names its year and month in its first seven characters: read there, without parsing a Date (every
  // conversion asks for two periods, and the view for two per conversion it applies). Any other form
  // goes through Date.
  if (timestamp.length === 24 && timestamp[4] === '-' && timestamp[7] === '-' && timestamp[23] === 'Z') {
    if (period === 'month') return timestamp.slice(0, 7);
    const month = (timestamp.charCodeAt(5) - 48) * 10 + (timestamp.charCodeAt(6) - 48);
    return `${timestamp.slice(0, 4)}-Q${Math.floor((month - 1) / 3) + 1}`;
  }
  const date = new Date(timestamp);
  const month = date.getUTCMonth();
  return period === 'month'
    ? `${date.getUTCFullYear()}-${String(month + 1).padStart(2, '0')}`
    : `${date.getUTCFullYear()}-Q${Math.floor(month / 3) + 1}`;
};
