import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { newEvent } from '@partner-ledger/events';
import { computeDigest } from '@partner-ledger/store';
import { openFileStore } from '@partner-ledger/store-file';
import { createPostgresStore } from '@partner-ledger/store-postgres';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '@partner-ledger/store-postgres/testing';
import { Client } from 'pg';
import { runCli } from './cli';
import type { CliIo } from './io';
import { buildCli, runBin, sampleEvents } from './testing/fixtures';

// End to end through the built binary, on the PostgreSQL server of the jest global set-up: the command
// opens postgres:// ledgers for every verb, the same simulation gives the same digest on files and on
// PostgreSQL, and `copy` moves a ledger file -> PostgreSQL -> file with the same digest, resumably.

const url = testDatabaseUrl();
const schemas: string[] = [];
let root: string;

const postgresStore = (): string => {
  const schema = uniqueSchema('cli');
  schemas.push(schema);
  return `${url}?schema=${schema}`;
};

const digestOf = async (store: string): Promise<string> => {
  const result = await runBin(['verify', '--store', store]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const digest = /^digest:\s+([0-9a-f]{64})$/m.exec(result.stdout)?.[1];
  expect(digest).toBeDefined();
  expect(result.stdout).toMatch(/^status:\s+ok$/m);
  return digest as string;
};

beforeAll(() => {
  buildCli();
  root = mkdtempSync(join(tmpdir(), 'pl-cli-postgres-'));
}, 300_000);
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  for (const schema of schemas) await dropSchema(url, schema);
});

it('the same simulate --seed on the file store and on PostgreSQL gives the same digest', async () => {
  const file = join(root, 'simulated');
  const postgres = postgresStore();
  const args = ['simulate', '--seed', '42', '--events', '600', '--partners', '8'];
  const onFile = await runBin([...args, '--store', file]);
  expect(onFile.code).toBe(0);
  const onPostgres = await runBin([...args, '--store', postgres]);
  expect(onPostgres.stderr).toBe('');
  expect(onPostgres.code).toBe(0);
  expect(await digestOf(postgres)).toBe(await digestOf(file));
  // Reports read the same numbers from either store.
  const report = (store: string) => runBin(['report', 'balances', '--store', store]);
  const [fromFile, fromPostgres] = await Promise.all([report(file), report(postgres)]);
  expect(fromPostgres.code).toBe(0);
  expect(fromPostgres.stdout).toBe(fromFile.stdout);
}, 180_000);

it('copy: file -> PostgreSQL -> file keeps ids, hashes and order (same digest), resumes, and refuses a foreign target', async () => {
  const source = join(root, 'source');
  const store = await openFileStore({ directory: source });
  const batches = sampleEvents();
  for (const { stream, events } of batches.slice(0, -1)) await store.append(stream, events);
  await store.close();
  const digest = await digestOf(source);

  const postgres = postgresStore();
  const there = await runBin(['copy', '--from', source, '--to', postgres]);
  expect(there.stderr).toBe('');
  expect(there.code).toBe(0);
  expect(there.stdout).toContain(`source digest:  ${digest}`);
  expect(there.stdout).toContain(`target digest:  ${digest}`);
  expect(await digestOf(postgres)).toBe(digest);
  // The connection string is shown without its password.
  expect(there.stdout).not.toContain('partner-ledger-tests');

  const back = join(root, 'back');
  const returned = await runBin(['copy', '--from', postgres, '--to', back]);
  expect(returned.code).toBe(0);
  expect(await digestOf(back)).toBe(digest);
  const exported = await Promise.all([source, back].map((s) => runBin(['export', '--store', s])));
  expect(exported[1]?.stdout).toBe(exported[0]?.stdout);

  // The source grows; copying again takes only what is new.
  const reopened = await openFileStore({ directory: source });
  const last = batches[batches.length - 1] as (typeof batches)[number];
  await reopened.append(last.stream, last.events);
  await reopened.close();
  const grown = await digestOf(source);
  const resumed = await runBin(['copy', '--from', source, '--to', postgres]);
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toMatch(
    new RegExp(`copied:\\s+${last.events.length} events \\(\\d+ were already there\\)`),
  );
  expect(await digestOf(postgres)).toBe(grown);

  // A target with another history is refused, and left as it was.
  const foreign = join(root, 'foreign');
  const other = await openFileStore({ directory: foreign });
  await other.append('program', [
    { ...(batches[0]?.events[0] as (typeof last.events)[number]), id: 'evt-other' },
  ]);
  await other.close();
  const refused = await runBin(['copy', '--from', source, '--to', foreign]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/not the source's/);
}, 180_000);

it('init, import, report, export and verify on a postgres:// ledger; a server that cannot be reached is named without its password', async () => {
  const postgres = postgresStore();
  const init = await runBin(['init', '--store', postgres]);
  expect(init.stderr).toMatch(
    /^init: created the ledger at postgres:\/\/\*\*\*@[^ ]*\?schema=cli_[0-9a-f]+:/,
  );
  expect(init.code).toBe(0);
  // Again with the same settings: nothing changes.
  expect((await runBin(['init', '--store', postgres])).code).toBe(0);
  const commands = [
    {
      command: 'publishPlan',
      planId: 'share',
      version: 1,
      name: 'Revenue share',
      currency: 'USD',
      holdDays: 10,
      effectiveFrom: '2025-01-01T00:00:00.000Z',
      rules: [{ kind: 'revenueShare', rate: '0.25' }],
      occurredAt: '2025-01-01T12:00:00.000Z',
    },
    {
      command: 'joinPartner',
      partnerId: 'blog',
      name: 'Blog',
      partnerType: 'affiliate',
      planId: 'share',
      payoutCurrency: 'USD',
      occurredAt: '2025-01-02T12:00:00.000Z',
    },
  ];
  const input = commands.map((command) => `${JSON.stringify(command)}\n`).join('');
  const imported = await runBin(['import', '-', '--store', postgres], { input });
  expect(imported.stderr).toContain('2 applied (2 events), 0 already recorded, 0 rejected');
  expect(imported.code).toBe(0);
  // Commands are idempotent by their natural keys: importing again appends nothing.
  const again = await runBin(['import', '-', '--store', postgres], { input });
  expect(again.stderr).toContain('0 applied (0 events), 2 already recorded, 0 rejected');
  const exported = await runBin(['export', '--store', postgres]);
  expect(exported.code).toBe(0);
  const types = exported.stdout
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { type: string }).type);
  expect(types[0]).toBe('ProgramConfigured');
  expect(types).toContain('PartnerJoined');
  expect(types).toHaveLength(3);
  const report = await runBin(['report', 'balances', '--format', 'json', '--store', postgres]);
  expect(report.code).toBe(0);
  await digestOf(postgres);
  const unreachable = await runBin(['verify', '--store', 'postgresql://someone:secret@127.0.0.1:1/nowhere']);
  expect(unreachable.code).toBe(2);
  expect(unreachable.stderr).toContain('postgresql://***@127.0.0.1:1/nowhere');
  expect(unreachable.stderr).not.toContain('secret');
}, 120_000);

it('a read-only verb on a schema that does not exist (a misspelled ?schema=) exits 2 naming it, and creates nothing', async () => {
  const postgres = postgresStore();
  const schema = /[?&]schema=([a-z0-9_]+)/.exec(postgres)?.[1] as string;
  for (const verb of [['report', 'balances'], ['verify'], ['export']]) {
    const result = await runBin([...verb, '--store', postgres]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no ledger in PostgreSQL schema "${schema}"`);
    expect(result.stdout).toBe('');
  }
  // Nothing was created: a writing verb then starts a ledger there as usual.
  const init = await runBin(['init', '--store', postgres]);
  expect(init.stderr).toMatch(/^init: created the ledger/);
}, 120_000);

it('four writer processes running ledger commands (import) on one PostgreSQL ledger: every acknowledged event stored once, verify ok', async () => {
  const postgres = postgresStore();
  expect((await runBin(['init', '--store', postgres])).code).toBe(0);
  const plan = {
    command: 'publishPlan',
    planId: 'share',
    version: 1,
    name: 'Revenue share',
    currency: 'USD',
    holdDays: 10,
    effectiveFrom: '2025-01-01T00:00:00.000Z',
    rules: [{ kind: 'revenueShare', rate: '0.25' }],
    occurredAt: '2025-01-01T12:00:00.000Z',
  };
  const join = (partnerId: string, day: number) => ({
    command: 'joinPartner',
    partnerId,
    name: partnerId,
    partnerType: 'affiliate',
    planId: 'share',
    payoutCurrency: 'USD',
    occurredAt: `2025-01-${String(day).padStart(2, '0')}T12:00:00.000Z`,
  });
  // Every process publishes the same plan and joins one shared partner (each applied once in all), and
  // joins partners of its own.
  const inputs = [0, 1, 2, 3].map((p) =>
    [plan, join('shared', 2), ...[0, 1, 2, 3, 4].map((i) => join(`p${p}-${i}`, 3 + i))]
      .map((command) => `${JSON.stringify(command)}\n`)
      .join(''),
  );
  const results = await Promise.all(
    inputs.map((input) => runBin(['import', '-', '--store', postgres], { input })),
  );
  let acknowledged = 0;
  for (const result of results) {
    expect(result.code).toBe(0);
    const counts = /(\d+) applied \((\d+) events\), (\d+) already recorded, 0 rejected/.exec(result.stderr);
    expect(counts).not.toBeNull();
    acknowledged += Number(counts?.[2]);
  }
  const exported = await runBin(['export', '--store', postgres]);
  expect(exported.code).toBe(0);
  const events = exported.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; type: string; data: { partnerId?: string } });
  // The init's event, then exactly what the processes acknowledged: each id once.
  expect(events).toHaveLength(1 + acknowledged);
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  const joined = events.filter((e) => e.type === 'PartnerJoined').map((e) => e.data.partnerId);
  expect(joined.sort()).toEqual(
    ['shared', ...[0, 1, 2, 3].flatMap((p) => [0, 1, 2, 3, 4].map((i) => `p${p}-${i}`))].sort(),
  );
  await digestOf(postgres);
}, 180_000);

/**
 * Runs the command in this process with stderr as a 100-column terminal (so that progress is drawn) and a
 * clock that reads one second later at every look: the rates the progress shows come from that clock.
 */
const copyOnTerminal = async (
  args: string[],
): Promise<{ code: number; stdout: string; frames: string[] }> => {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const err = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
  err.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const stdin = new PassThrough();
  stdin.end();
  let reads = 0;
  const io: CliIo = {
    stdout: out,
    stderr: err,
    stdin,
    env: {},
    cwd: root,
    now: () => new Date(Date.UTC(2026, 0, 1) + 1000 * reads++),
  };
  const code = await runCli(args, io);
  // Each frame redraws the line: carriage return, erase line, text.
  const frames = stderr
    .split('\r\x1b[K')
    .map((frame) => frame.trimEnd())
    .filter((frame) => frame !== '');
  return { code, stdout, frames };
};

it('copy resumes after the target failed mid-copy (at event 500 of 700): 200 copied, 500 already there, same digest; progress frames follow the injected clock', async () => {
  const source = join(root, 'seven-hundred');
  const store = await openFileStore({ directory: source });
  for (let first = 0; first < 700; first += 100) {
    await store.append(
      'adjustments-p1',
      Array.from({ length: 100 }, (_, k) =>
        newEvent(
          'ManualAdjustmentRecorded',
          {
            adjustmentId: `adj-${first + k}`,
            partnerId: 'p1',
            amount: `${first + k}.50`,
            currency: 'USD',
            reason: 'goodwill',
          },
          {
            id: `evt-${first + k}`,
            occurredAt: '2026-01-05T09:00:00.000Z',
            recordedAt: '2026-01-05T09:00:00.000Z',
            actor: 'test:fixture',
            correlationId: `corr-${first + k}`,
            causationId: null,
          },
        ),
      ),
    );
  }
  const before = await computeDigest(store);
  await store.close();
  expect(before.eventCount).toBe(700);

  // The target refuses event 500 (as a full disk or a dropped connection would fail an append): copy
  // appends runs of up to 500 events of one stream, so the first 500 are stored and the rest are not.
  const target = postgresStore();
  const schema = /[?&]schema=([a-z0-9_]+)/.exec(target)?.[1] as string;
  await (await createPostgresStore({ connectionString: url, schema })).close();
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE FUNCTION ${schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'the target failed (test)'; END $$`);
    await admin.query(`CREATE TRIGGER refuse BEFORE INSERT ON ${schema}.events FOR EACH ROW
      WHEN (NEW.id = 'evt-500') EXECUTE FUNCTION ${schema}.refuse()`);
    const failed = await copyOnTerminal(['copy', '--from', source, '--to', target]);
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toBe('');
    expect(failed.frames.some((frame) => frame.includes('the target failed (test)'))).toBe(true);
    // The clock reads 0 s when the progress starts, 1 s at its first frame, and so on: 500 events at 3 s.
    expect(failed.frames.slice(0, 3)).toEqual([
      'copy [........................................]   0% 0/700  0 events/s  ETA ?',
      'copy [........................................]   0% 0/700  0 events/s  ETA ?',
      'copy [#############################...........]  71% 500/700  167 events/s  ETA 0:01',
    ]);
    const { rows } = await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.events`);
    expect(rows[0]?.n).toBe('500');
    await admin.query(`DROP TRIGGER refuse ON ${schema}.events`);
  } finally {
    await admin.end();
  }

  const resumed = await copyOnTerminal(['copy', '--from', source, '--to', target]);
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toMatch(/^copied: +200 events \(500 were already there\)$/m);
  expect(resumed.stdout).toContain(`source digest:  ${before.digest}`);
  expect(resumed.stdout).toContain(`target digest:  ${before.digest}`);
  expect(resumed.frames).toEqual([
    'copy [........................................]   0% 0/700  0 events/s  ETA ?',
    'copy [#############################...........]  71% 500/700  250 events/s  ETA 0:01',
    'copy [########################################] 100% 700/700  233 events/s  ETA 0:00',
  ]);
  const after = await createPostgresStore({ connectionString: url, schema });
  try {
    const digest = await computeDigest(after);
    expect(digest).toEqual({ ...before, position: 699 });
  } finally {
    await after.close();
  }
}, 180_000);
