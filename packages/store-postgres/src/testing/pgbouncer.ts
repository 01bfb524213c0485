import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server';

// PgBouncer in front of the test server, for the tests of what the store promises through it: its own ini
// and userlist in a temporary folder, a free port, stopped by `stop`. Debian's `pgbouncer` package
// provides the binary (`apt-get install -y pgbouncer`); .ci/run installs it.

export type PoolMode = 'session' | 'transaction';

export interface PgBouncer {
  /** The same database and user as the server's URL, through PgBouncer. */
  readonly url: string;
  readonly mode: PoolMode;
  /** PgBouncer's log so far, to explain a failure. */
  readonly log: () => string;
  readonly stop: () => Promise<void>;
}

/** The pgbouncer binary: on the PATH, or where Debian puts it (/usr/sbin, not on every user's PATH). */
export const findPgBouncer = (): string | undefined =>
  ['pgbouncer', '/usr/sbin/pgbouncer'].find(
    (candidate) => spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0,
  );

const waitForPort = async (port: number, child: ChildProcess, log: () => string): Promise<void> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}):\n${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on ${port} in 10 s:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/**
 * Starts PgBouncer in `mode` in front of the server `serverUrl` names (a `postgres://user:password@host:port/db`
 * URL). As root, PgBouncer refuses to run, so it runs as the `postgres` user the test server runs as.
 */
export const startPgBouncer = async (
  serverUrl: string,
  mode: PoolMode,
  settings: Readonly<Record<string, string>> = {},
): Promise<PgBouncer> => {
  const binary = findPgBouncer();
  if (binary === undefined) throw new Error('pgbouncer is not installed (apt-get install -y pgbouncer)');
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const database = server.pathname.slice(1);
  const dir = await mkdtemp(join(tmpdir(), 'pl-pgbouncer-'));
  await chmod(dir, 0o777);
  const port = await freePort();
  const quote = (text: string): string => `"${text.replace(/"/g, '""')}"`;
  await writeFile(join(dir, 'userlist.txt'), `${quote(user)} ${quote(password)}\n`, { mode: 0o644 });
  const ini = {
    listen_addr: '127.0.0.1',
    listen_port: String(port),
    unix_socket_dir: '',
    auth_type: 'plain',
    auth_file: join(dir, 'userlist.txt'),
    pool_mode: mode,
    default_pool_size: '20',
    max_client_conn: '500',
    logfile: '',
    pidfile: '',
    ...settings,
  };
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = host=${server.hostname} port=${server.port} dbname=${database}`,
      '[pgbouncer]',
      ...Object.entries(ini).map(([name, value]) => `${name} = ${value}`),
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const lines: string[] = [];
  const asRoot = userInfo().uid === 0;
  const child = spawn(binary, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer): void => {
    lines.push(chunk.toString('utf8'));
    if (lines.length > 500) lines.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const log = (): string => lines.join('');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, log);
  } catch (error) {
    await stop();
    throw error;
  }
  const through = new URL(serverUrl);
  through.hostname = '127.0.0.1';
  through.port = String(port);
  return { url: through.toString(), mode, log, stop };
};
