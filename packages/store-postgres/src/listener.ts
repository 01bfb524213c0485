import { Client } from 'pg';
import type { PoolConfig } from 'pg';

// What wakes a waiting subscription: a NOTIFY from the seal that numbered new events (on a dedicated
// connection, since LISTEN belongs to a session), and a poll timer as the fallback when notifications do
// not come (the connection is down, or a pooler in transaction mode dropped the LISTEN). A lost connection
// is reopened with exponential backoff; every reconnect wakes the subscriptions, since notifications sent
// meanwhile are lost.

export interface ListenerOptions {
  readonly poolConfig: PoolConfig;
  readonly channel: string;
  readonly pollIntervalMs: number;
  /** Called on every notification and after every reconnect. */
  readonly onWake: () => void;
  /** Called every pollIntervalMs; errors are swallowed (the next poll tries again). */
  readonly onPoll: () => Promise<void>;
  /** First and largest delay between reconnection attempts. Defaults 100 ms and 5,000 ms. */
  readonly backoffMs?: { readonly first: number; readonly max: number };
}

export interface Listener {
  /** Whether the LISTEN connection is up (for tests and diagnostics). */
  readonly connected: () => boolean;
  /** How many times the connection was (re)established. */
  readonly connections: () => number;
  /** Drops the current connection, as a network fault would (for tests). */
  readonly dropConnection: () => void;
  readonly stop: () => Promise<void>;
}

/** Quotes a channel name as an SQL identifier. */
const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export const createListener = (options: ListenerOptions): Listener => {
  const { poolConfig, channel, pollIntervalMs, onWake, onPoll } = options;
  const backoff = options.backoffMs ?? { first: 100, max: 5_000 };
  let stopped = false;
  let client: Client | undefined;
  let up = false;
  let connections = 0;
  let delay = backoff.first;
  let reconnectTimer: NodeJS.Timeout | undefined;

  const scheduleReconnect = (): void => {
    if (stopped || reconnectTimer !== undefined) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, backoff.max);
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const next = new Client({ ...poolConfig, application_name: 'partner-ledger-listen' });
    client = next;
    const lost = (): void => {
      if (client !== next) return;
      up = false;
      client = undefined;
      next.removeAllListeners('notification');
      void next.end().catch(() => undefined);
      scheduleReconnect();
    };
    next.on('error', lost);
    next.on('end', lost);
    next.on('notification', () => onWake());
    try {
      await next.connect();
      await next.query(`LISTEN ${quoteIdentifier(channel)}`);
      if (stopped || client !== next) {
        await next.end().catch(() => undefined);
        return;
      }
      up = true;
      connections += 1;
      delay = backoff.first;
      onWake();
    } catch {
      lost();
    }
  };

  let polling = false;
  const pollTimer = setInterval(() => {
    if (polling || stopped) return;
    polling = true;
    onPoll()
      .catch(() => undefined)
      .finally(() => {
        polling = false;
      });
  }, pollIntervalMs);
  // Neither the timer nor the connection keeps a process alive that has nothing else to do.
  pollTimer.unref();

  void connect();

  return {
    connected: () => up,
    connections: () => connections,
    dropConnection: () => {
      const current = client;
      if (current === undefined) return;
      // Destroying the socket is what a network fault does: the client emits 'error'/'end'.
      (current as unknown as { connection: { stream: { destroy: () => void } } }).connection.stream.destroy();
    },
    stop: async () => {
      stopped = true;
      clearInterval(pollTimer);
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      const current = client;
      client = undefined;
      up = false;
      if (current !== undefined) await current.end().catch(() => undefined);
    },
  };
};
