// The suite's test data and async helpers: plain functions with no state of their own, shared by every
// topic file of the contract.
import type { NewEvent, RecordedEvent } from '@partner-ledger/events';

const BASE_TIME = Date.UTC(2026, 0, 1);
/** A timestamp `seconds` after the suite's epoch, in the ledger's one form. */
export const at = (seconds: number): string => new Date(BASE_TIME + seconds * 1000).toISOString();

/** A test event: the id says what it is; `n` goes into its data and its times. */
export const makeEvent = (id: string, n = 0, overrides: Partial<NewEvent> = {}): NewEvent => ({
  id,
  type: 'ContractChecked',
  schemaVersion: 1,
  data: { n, note: `event ${id}`, nested: { list: [n, String(n)], flag: n % 2 === 0 } },
  occurredAt: at(n),
  recordedAt: at(n),
  actor: 'test:contract',
  correlationId: 'corr-contract',
  causationId: null,
  ...overrides,
});

/** `count` events with ids `${prefix}-${first}`, `${prefix}-${first + 1}`, ... */
export const makeEvents = (prefix: string, count: number, first = 0): NewEvent[] =>
  Array.from({ length: count }, (_, i) => makeEvent(`${prefix}-${first + i}`, first + i));

export const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

export const positionsOf = (events: readonly RecordedEvent[]): number[] => events.map((e) => e.position);
export const idsOf = (events: readonly { readonly id: string }[]): string[] => events.map((e) => e.id);
export const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** Awaits a promise, failing with a readable message if it takes longer than `ms`. */
export const within = async <T>(promise: Promise<T>, what: string, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/** Whether a promise is still pending after `ms`. */
export const stillPending = async (promise: Promise<unknown>, ms: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined;
  const pending = Symbol('pending');
  const result = await Promise.race([
    promise.then(() => undefined),
    new Promise<symbol>((resolve) => {
      timer = setTimeout(() => resolve(pending), ms);
    }),
  ]);
  clearTimeout(timer);
  return result === pending;
};

/** A small deterministic generator, so that the randomized model test repeats exactly. */
export const seededRandom = (seed: number): ((below: number) => number) => {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % below;
  };
};
