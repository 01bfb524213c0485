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
