import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { PoolConfig } from 'pg';

// What wakes a waiting subscription: a NOTIFY from the seal that numbered new events (on a dedicated
// connection, since LISTEN belongs to a session), and a poll timer as the fallback when notifications do
// not come (the connection is down, or a pooler in transaction mode dropped the LISTEN). A lost connection
// is reopened with exponential backoff; every reconnect wakes the subscriptions, since notifications sent
// meanwhile are lost.
//
// Before it LISTENs on the store's channel, a new connection checks that notifications reach it: it listens
// on a channel of its own and has the store send one there from another connection. Behind a pooler in
// transaction mode (PgBouncer `pool_mode = transaction`) they do not: LISTEN lands on whichever server
// connection ran that statement, which the pooler then lends to other clients, and a notification arriving
// there goes to the client using it at that moment, or is dropped. Then the listener closes its connection,
// does not LISTEN on the store's channel (whose notifications would be misdelivered so at every seal) and
// leaves the subscriptions to the poll. The probe's channel is named at random and notified once, so the
// LISTEN it leaves on a pooled server connection receives nothing more.
//
// That conclusion is about the path to the server at that time, which an operator can change without
// restarting the service (the pooler replaced by a direct connection, or switched to session mode): so the
// listener probes again later, first after 30 s, then doubling up to every 5 minutes, and listens again as
// soon as a probe's notification arrives. Each retry costs one connection and one NOTIFY.

export interface ListenerOptions {
  readonly poolConfig: PoolConfig;
  readonly channel: string;
  readonly pollIntervalMs: number;
  /** Called on every notification and after every reconnect. */
  readonly onWake: () => void;
  /** Called every pollIntervalMs; errors are swallowed (the next poll tries again). */
  readonly onPoll: () => Promise<void>;
  /** Sends `payload` on `channel` from a connection other than the listener's (the store's pool). */
  readonly probe: (channel: string, payload: string) => Promise<void>;
  /** How long a connection waits for its probe before it concludes that notifications do not reach it. Default 5,000 ms. */
  readonly probeTimeoutMs?: number;
  /** First and largest delay between reconnection attempts. Defaults 100 ms and 5,000 ms. */
  readonly backoffMs?: { readonly first: number; readonly max: number };
  /**
   * After a probe found that notifications do not arrive: the delay before the next probe, doubled after
   * each probe that finds the same, up to `max`. Defaults 30,000 ms and 300,000 ms.
   */
  readonly probeRetryMs?: { readonly first: number; readonly max: number };
}

export interface Listener {
  /** Whether the LISTEN connection is up (for tests and diagnostics). */
  readonly connected: () => boolean;
  /**
   * False while the last probe found that notifications do not reach a connection of this listener (a
   * pooler in transaction mode): it does not listen, the subscriptions wake on the poll only, and it
   * probes again later (`probeRetryMs`).
   */
  readonly notificationsArrive: () => boolean;
  /** How many times the connection was (re)established. */
  readonly connections: () => number;
  /** Drops the current connection, as a network fault would (for tests). */
  readonly dropConnection: () => void;
  readonly stop: () => Promise<void>;
}

/** Quotes a channel name as an SQL identifier. */
const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export const createListener = (options: ListenerOptions): Listener => {
  const { poolConfig, channel, pollIntervalMs, onWake, onPoll, probe } = options;
  const backoff = options.backoffMs ?? { first: 100, max: 5_000 };
  const probeTimeoutMs = options.probeTimeoutMs ?? 5_000;
  const probeRetry = options.probeRetryMs ?? { first: 30_000, max: 300_000 };
  let stopped = false;
  let arrive = true;
  let client: Client | undefined;
  let up = false;
  let connections = 0;
  let delay = backoff.first;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let probeDelay = probeRetry.first;
  let probeTimer: NodeJS.Timeout | undefined;

  const scheduleReconnect = (): void => {
    if (stopped || reconnectTimer !== undefined) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, backoff.max);
  };

  /** The next probe, after a probe that found notifications do not arrive. */
  const scheduleProbe = (): void => {
    if (stopped || probeTimer !== undefined) return;
    probeTimer = setTimeout(() => {
      probeTimer = undefined;
      void connect();
    }, probeDelay);
    // Like the poll timer: a process with nothing else to do is not kept alive by it.
    probeTimer.unref();
    probeDelay = Math.min(probeDelay * 2, probeRetry.max);
  };

  /** Whether a notification sent from another connection reaches `next` (see the top of this file). */
  const notificationsReach = async (next: Client): Promise<boolean> => {
    const probeChannel = `partner_ledger_probe_${randomBytes(8).toString('hex')}`;
    const payload = randomBytes(8).toString('hex');
    let timer: NodeJS.Timeout | undefined;
    let heard: () => void = () => undefined;
    const arrived = new Promise<boolean>((resolve) => {
      heard = () => resolve(true);
      timer = setTimeout(() => resolve(false), probeTimeoutMs);
      timer.unref();
    });
    const onNotification = (message: { channel: string; payload?: string }): void => {
      if (message.channel === probeChannel && message.payload === payload) heard();
    };
    next.on('notification', onNotification);
    try {
      await next.query(`LISTEN ${quoteIdentifier(probeChannel)}`);
      await probe(probeChannel, payload);
      return await arrived;
    } finally {
      clearTimeout(timer);
      next.off('notification', onNotification);
    }
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
    try {
      await next.connect();
      const reached = await notificationsReach(next);
      // Stopped meanwhile, or the connection was lost during the probe (a reconnect is scheduled, and probes
      // again): the probe proved nothing.
      if (stopped || client !== next) {
        await next.end().catch(() => undefined);
        return;
      }
      if (!reached) {
        // The connection is up and the notification did not come: not a fault that a reconnect mends, but
        // a pooler that does not keep the session (transaction mode), until a later probe finds otherwise.
        arrive = false;
        client = undefined;
        await next.end().catch(() => undefined);
        scheduleProbe();
        return;
      }
      next.on('notification', (message: { channel: string }) => {
        if (message.channel === channel) onWake();
      });
      await next.query(`UNLISTEN *; LISTEN ${quoteIdentifier(channel)}`);
      if (stopped || client !== next) {
        await next.end().catch(() => undefined);
        return;
      }
      up = true;
      arrive = true;
      connections += 1;
      delay = backoff.first;
      probeDelay = probeRetry.first;
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
    notificationsArrive: () => arrive,
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
      if (probeTimer !== undefined) clearTimeout(probeTimer);
      const current = client;
      client = undefined;
      up = false;
      if (current !== undefined) await current.end().catch(() => undefined);
    },
  };
};
