import { Client } from 'pg';
import { createListener } from './listener';
import type { Listener } from './listener';
import { testDatabaseUrl, uniqueSchema } from './testing/database';
import { until } from './testing/wait';

// The listener's probe (does a notification sent from another connection reach it?) on a direct
// connection; pgbouncer.test.ts covers the poolers.

const url = testDatabaseUrl();

it('a connection lost during its probe proves nothing: the listener reconnects, probes again and listens', async () => {
  const admin = new Client({ connectionString: url });
  await admin.connect();
  let listener: Listener | undefined;
  let probes = 0;
  let woken = 0;
  try {
    const channel = `partner_ledger_${uniqueSchema('listen')}`;
    listener = createListener({
      poolConfig: { connectionString: url },
      channel,
      pollIntervalMs: 3_600_000,
      probeTimeoutMs: 500,
      backoffMs: { first: 50, max: 200 },
      onWake: () => {
        woken += 1;
      },
      onPoll: async () => undefined,
      probe: async (probeChannel, payload) => {
        probes += 1;
        // The first probe's connection breaks before the notification is sent, as a network fault would.
        if (probes === 1) listener?.dropConnection();
        else await admin.query('SELECT pg_notify($1, $2)', [probeChannel, payload]);
      },
    });
    const current = listener;
    await until(
      () => current.connected(),
      () => `not listening after ${probes} probes`,
      10_000,
    );
    // Past the first probe's timeout, whose answer (no notification) must not count.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(probes).toBe(2);
    expect(listener.notificationsArrive()).toBe(true);
    const before = woken;
    await admin.query('SELECT pg_notify($1, $2)', [channel, '1']);
    await until(
      () => woken > before,
      () => 'no wake-up from a NOTIFY',
      5_000,
    );
  } finally {
    await listener?.stop();
    await admin.end();
  }
});

/**
 * A listener whose probe delivers its notification only when `arrives()` says so (as a pooler in
 * transaction mode would drop it), with the times at which each probe was sent.
 */
const flakyProbeListener = (
  admin: Client,
  channel: string,
  arrives: (probe: number) => boolean,
  onWake: () => void,
): { readonly listener: Listener; readonly probeTimes: number[] } => {
  const probeTimes: number[] = [];
  const listener = createListener({
    poolConfig: { connectionString: url },
    channel,
    pollIntervalMs: 3_600_000,
    probeTimeoutMs: 100,
    backoffMs: { first: 50, max: 200 },
    probeRetryMs: { first: 100, max: 200 },
    onWake,
    onPoll: async () => undefined,
    probe: async (probeChannel, payload) => {
      probeTimes.push(Date.now());
      if (arrives(probeTimes.length)) await admin.query('SELECT pg_notify($1, $2)', [probeChannel, payload]);
    },
  });
  return { listener, probeTimes };
};

it('a probe that finds notifications do not arrive is tried again later, the delay doubling to its maximum; once one arrives, NOTIFY wakes the subscriptions again', async () => {
  const admin = new Client({ connectionString: url });
  await admin.connect();
  let woken = 0;
  const channel = `partner_ledger_${uniqueSchema('listen')}`;
  // The first five probes are lost (a pooler in transaction mode), the sixth arrives (a direct connection).
  const { listener, probeTimes } = flakyProbeListener(
    admin,
    channel,
    (probe) => probe >= 6,
    () => {
      woken += 1;
    },
  );
  try {
    await until(
      () => !listener.notificationsArrive(),
      () => 'the first probe did not conclude that notifications do not arrive',
      5_000,
    );
    expect(listener.connected()).toBe(false);
    await until(
      () => listener.connected(),
      () => `not listening after ${probeTimes.length} probes`,
      10_000,
    );
    expect(probeTimes).toHaveLength(6);
    expect(listener.notificationsArrive()).toBe(true);
    expect(listener.connections()).toBe(1);
    // Between two probes: the probe's timeout (100 ms), then the retry delay, 100 ms doubling to 200 ms.
    const gaps = probeTimes.slice(1).map((time, k) => time - (probeTimes[k] as number));
    expect(gaps[0]).toBeGreaterThanOrEqual(200 - 5);
    gaps.slice(1).forEach((gap) => expect(gap).toBeGreaterThanOrEqual(300 - 5));
    // Capped: without the maximum, the last delay would have been 1,600 ms (100 doubled four times).
    expect(gaps[4]).toBeLessThan(1_700);
    const before = woken;
    await admin.query('SELECT pg_notify($1, $2)', [channel, '1']);
    await until(
      () => woken > before,
      () => 'no wake-up from a NOTIFY after the probe succeeded',
      5_000,
    );
  } finally {
    await listener.stop();
    await admin.end();
  }
});

it('stop cancels the probe a listener was going to try again', async () => {
  const admin = new Client({ connectionString: url });
  await admin.connect();
  const { listener, probeTimes } = flakyProbeListener(
    admin,
    `partner_ledger_${uniqueSchema('listen')}`,
    () => false,
    () => undefined,
  );
  try {
    await until(
      () => !listener.notificationsArrive(),
      () => 'the first probe did not conclude that notifications do not arrive',
      5_000,
    );
    await listener.stop();
    const probes = probeTimes.length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(probeTimes).toHaveLength(probes);
  } finally {
    await listener.stop();
    await admin.end();
  }
});
