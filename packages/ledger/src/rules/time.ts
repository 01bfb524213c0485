/** UTC time arithmetic for the rules. Timestamps are the ledger's one form, `2026-03-01T12:00:00.000Z`. */

export const DAY_MS = 86_400_000;

/** Milliseconds since the epoch; a malformed timestamp is a caller bug (inputs are decoded first). */
export const timeOf = (timestamp: string, what: string): number => {
  const ms = Date.parse(timestamp);
  if (!Number.isFinite(ms))
    throw new Error(`${what}: expected a UTC timestamp, got ${JSON.stringify(timestamp)}`);
  return ms;
};

export const addDays = (timestamp: string, days: number): string =>
  new Date(timeOf(timestamp, 'time') + days * DAY_MS).toISOString();

/**
 * Adds calendar months in UTC; a day that the target month lacks becomes its last day
 * (31 January + 1 month = 28 or 29 February), the time of day is kept.
 */
export const addMonths = (timestamp: string, months: number): string => {
  const date = new Date(timeOf(timestamp, 'time'));
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const shifted = new Date(date.getTime());
  shifted.setUTCFullYear(year, month, Math.min(date.getUTCDate(), lastDay));
  return shifted.toISOString();
};

/** The UTC calendar day of a timestamp, `2026-03-01`. */
export const utcDay = (timestamp: string): string =>
  new Date(timeOf(timestamp, 'time')).toISOString().slice(0, 10);
