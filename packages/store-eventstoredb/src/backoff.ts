/** How a subscription retries after its connection drops. */
export interface ResubscribeOptions {
  /** The delay before the first retry, in ms. Default 100. */
  readonly initialDelayMs?: number;
  /** The longest delay between two retries, in ms. Default 30,000. */
  readonly maxDelayMs?: number;
  /**
   * How many retries in a row (without an event delivered in between) before the subscription gives up
   * and throws the last error. Default: no limit; a long-running projection keeps trying, and says so
   * through `onResubscribe`.
   */
  readonly maxAttempts?: number;
  /** Called before each retry: log it, count it, alert on it. */
  readonly onResubscribe?: (retry: {
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: unknown;
  }) => void;
  /** A number in [0, 1): injected by tests. Default Math.random. */
  readonly random?: () => number;
  /** Waits `ms`, or less when `signal` aborts: injected by tests. Default a timer. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export const DEFAULT_INITIAL_DELAY_MS = 100;
export const DEFAULT_MAX_DELAY_MS = 30_000;

/**
 * The delay before retry number `attempt` (1, 2, 3...): exponential, capped, with "equal jitter" (half of
 * the delay fixed, half random) so that the subscriptions of many processes, dropped together when a node
 * restarts, do not all come back in the same millisecond.
 */
export const backoffDelay = (
  attempt: number,
  {
    initialDelayMs = DEFAULT_INITIAL_DELAY_MS,
    maxDelayMs = DEFAULT_MAX_DELAY_MS,
    random = Math.random,
  }: ResubscribeOptions = {},
): number => {
  if (!Number.isSafeInteger(attempt) || attempt < 1)
    throw new RangeError(`attempt must be >= 1, got ${attempt}`);
  const exponential = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt - 1, 52));
  const half = exponential / 2;
  return Math.round(half + half * random());
};

/** A timer that an abort cuts short. */
export const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
