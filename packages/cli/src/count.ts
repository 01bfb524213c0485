/** "1 event", "2 events", "1,000 events": summaries a person reads count one thing in the singular. */
export const count = (n: number, one: string, many: string): string =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
