import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore } from '@partner-ledger/store-file';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '@partner-ledger/store-postgres/testing';
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
