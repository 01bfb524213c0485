import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '@partner-ledger/store-postgres/testing';
import { runInProcess } from './testing/in-process';

// Crypto-shredding end to end, through the command in this process: a ledger made by `init` seals its
// partners' personal fields and pseudonymizes visitor ids; `erase` destroys a partner's key and records
// the erasure; afterwards no plaintext of the partner's personal fields is left in the store's bytes (the
// file store's files, the PostgreSQL store's rows), verify is ok and the money reports are byte-identical.

const NOW = '2026-12-04T10:00:00.000Z';
const ZELDA = {
  name: 'Zelda Quintanilla-Oyelaran',
  contactEmail: 'zelda.q@example.org',
  payeeEmail: 'zelda-payouts@example.org',
  iban: 'DE89370400440532013000',
  holder: 'Zelda Q. Oyelaran',
  taxId: 'DE999888777',
};
const VISITOR = 'visitor-raw-77731';

const commands = [
  {
    command: 'publishPlan',
    planId: 'std',
    version: 1,
    name: 'Standard',
    currency: 'USD',
    holdDays: 0,
    effectiveFrom: '2025-01-01T00:00:00Z',
    rules: [{ kind: 'revenueShare', rate: '0.2' }],
    occurredAt: '2025-01-01T00:00:00Z',
  },
  {
    command: 'joinPartner',
    partnerId: 'zelda',
    name: ZELDA.name,
    partnerType: 'affiliate',
    planId: 'std',
    payoutCurrency: 'USD',
    contactEmail: ZELDA.contactEmail,
    payee: { method: 'wise', email: ZELDA.payeeEmail, accountHolderName: ZELDA.holder, iban: ZELDA.iban },
    occurredAt: '2025-01-02T00:00:00Z',
  },
  {
    command: 'joinPartner',
    partnerId: 'other',
    name: 'Other Partner Ltd',
    partnerType: 'referral',
    planId: 'std',
    payoutCurrency: 'USD',
    occurredAt: '2025-01-02T00:00:00Z',
  },
  {
    command: 'changePartnerContactDetails',
    partnerId: 'zelda',
    taxId: ZELDA.taxId,
    occurredAt: '2025-01-03T00:00:00Z',
  },
  {
    command: 'trackClick',
    clickId: 'c-1',
    partnerId: 'zelda',
    visitorId: VISITOR,
    occurredAt: '2025-01-04T00:00:00Z',
  },
  {
    command: 'trackClick',
    clickId: 'c-2',
    partnerId: 'other',
    visitorId: 'v-2',
    occurredAt: '2025-01-04T00:00:00Z',
  },
  {
    command: 'recordConversion',
    conversionId: 'o-1',
    customerId: 'k-1',
    kind: 'order',
    amount: '250.00',
    currency: 'USD',
    visitorId: VISITOR,
    occurredAt: '2025-01-05T00:00:00Z',
  },
  {
    command: 'recordConversion',
    conversionId: 'o-2',
    customerId: 'k-2',
    kind: 'order',
    amount: '100.00',
    currency: 'USD',
    visitorId: 'v-2',
    occurredAt: '2025-01-05T00:00:00Z',
  },
];
const ndjson = Buffer.from(commands.map((c) => JSON.stringify(c)).join('\n') + '\n');
const PLAINTEXTS = [ZELDA.name, ZELDA.contactEmail, ZELDA.payeeEmail, ZELDA.iban, ZELDA.holder, ZELDA.taxId];

const cli = async (args: string[], stdin?: Buffer) => {
  const result = await runInProcess(args, { now: NOW, ...(stdin === undefined ? {} : { stdin }) });
  return result;
};

const ok = async (args: string[], stdin?: Buffer): Promise<string> => {
  const result = await cli(args, stdin);
  expect({ args, code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
    args,
    code: 0,
    stderr: '',
  });
  return result.stdout;
};

/**
 * The money figures of the balances, revenue and statements reports, as of the end of 2025, byte for byte
 * (the reports' stamps, the position and the count of events read, grow with the erasure's event).
 */
const moneyReports = async (store: string[]): Promise<string[]> => {
  const figures: string[] = [];
  for (const name of ['balances', 'revenue', 'statements']) {
    const report = await ok(['report', name, '--format', 'json', '--as-of', '2025-12-31', ...store]);
    figures.push(JSON.stringify((JSON.parse(report) as { result: unknown }).result));
  }
  return figures;
};

const bytesUnder = (path: string): Buffer =>
  statSync(path).isDirectory()
    ? Buffer.concat(readdirSync(path).map((name) => bytesUnder(join(path, name))))
    : readFileSync(path);

const containsAny = (haystack: Buffer, needles: readonly string[]): string[] =>
  needles.filter((needle) => haystack.includes(Buffer.from(needle, 'utf8')));

/** The flags without `--keys FILE`, for the verbs that never need a key (verify, export). */
const withoutKeys = (store: string[]): string[] => {
  const at = store.indexOf('--keys');
  return at < 0 ? store : [...store.slice(0, at), ...store.slice(at + 2)];
};

/** The scenario on one store. */
const scenario = async (store: string[]) => {
  await ok(['init', '--minimum-payout', '10.00', '--effective-from', '2025-01-01', ...store]);
  await ok(['import', '-', ...store], ndjson);
  const before = await moneyReports(store);
  const exported = JSON.parse(await ok(['export-subject', '--partner', 'zelda', ...store])) as {
    key: { state: string };
    events: Array<{ type: string; data: Record<string, unknown> }>;
  };
  expect(exported.key.state).toBe('present');
  expect(exported.events.map((e) => e.type)).toEqual(['PartnerJoined', 'PartnerContactDetailsChanged']);
  expect(exported.events[0]!.data).toMatchObject({
    name: ZELDA.name,
    contactEmail: ZELDA.contactEmail,
    payee: { method: 'wise', iban: ZELDA.iban },
  });
  const visitor = JSON.parse(await ok(['export-subject', '--visitor', VISITOR, ...store])) as {
    pseudonym: string;
    events: Array<{ type: string }>;
  };
  expect(visitor.pseudonym).toMatch(/^vp-[0-9a-f]{32}$/);
  expect(visitor.events.map((e) => e.type)).toEqual(['ClickTracked', 'ConversionAttributed']);

  const erased = await ok([
    'erase',
    '--partner',
    'zelda',
    '--requested-by',
    'ticket:DPO-1',
    '--reason',
    'GDPR art. 17',
    ...store,
  ]);
  expect(erased).toContain('key partner:zelda destroyed');
  expect(await moneyReports(store)).toEqual(before);
  const verified = await ok(['verify', ...withoutKeys(store)]);
  expect(verified).toMatch(/^status:\s+ok$/m);
  const after = JSON.parse(await ok(['export-subject', '--partner', 'zelda', ...store])) as {
    key: { state: string };
    events: Array<{ type: string; data: Record<string, unknown> }>;
  };
  expect(after.key.state).toBe('erased');
  expect(after.events[0]!.data).toMatchObject({
    name: '[erased]',
    contactEmail: '[erased]',
    payee: { method: 'wise', iban: '[erased]', email: '[erased]' },
  });
  expect(after.events.map((e) => e.type)).toEqual([
    'PartnerJoined',
    'PartnerContactDetailsChanged',
    'PersonalDataErased',
  ]);
  const exportedEvents = await ok(['export', ...withoutKeys(store)]);
  expect(containsAny(Buffer.from(exportedEvents), [...PLAINTEXTS, VISITOR])).toEqual([]);
  expect(exportedEvents).toContain('sealed.v1.');
  // The other partner's data is still there.
  const other = JSON.parse(await ok(['export-subject', '--partner', 'other', ...store])) as {
    events: Array<{ data: { name: string } }>;
  };
  expect(other.events[0]!.data.name).toBe('Other Partner Ltd');
};

describe('erasure on the file store', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-privacy-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('leaves no plaintext of the partner in the files, destroys its key, keeps money and verify', async () => {
    const directory = join(root, 'ledger');
    const store = ['--store', directory];
    await scenario(store);
    const keyFile = `${directory}.keys`;
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const keys = JSON.parse(readFileSync(keyFile, 'utf8')) as {
      keys: Record<string, string>;
      erased: Record<string, string>;
    };
    expect(Object.keys(keys.keys).sort()).toEqual(['partner:other', 'visitors']);
    expect(keys.erased).toEqual({ 'partner:zelda': NOW });
    expect(containsAny(bytesUnder(directory), [...PLAINTEXTS, VISITOR])).toEqual([]);
    expect(bytesUnder(directory).includes(Buffer.from('Other Partner Ltd'))).toBe(false);
  });

  it('refuses a key file others can read, and a ledger without keys cannot be erased', async () => {
    const directory = join(root, 'plain');
    await ok(['init', '--store', directory, '--keys', join(root, 'plain-keys')]);
    chmodSync(join(root, 'plain-keys'), 0o644);
    const refused = await cli([
      'report',
      'balances',
      '--store',
      directory,
      '--keys',
      join(root, 'plain-keys'),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is readable or writable by others (mode 644)');
    const noKeys = await cli(['erase', '--partner', 'x', '--requested-by', 't', '--store', directory]);
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toContain('has no key file');
  });
});

describe('erasure on the PostgreSQL store', () => {
  const url = testDatabaseUrl();
  const schema = uniqueSchema('privacy');
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-privacy-pg-'));
  });
  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await dropSchema(url, schema);
  });

  it('leaves no plaintext of the partner in any row', async () => {
    const store = ['--store', `${url}?schema=${schema}`, '--keys', join(root, 'pg.keys')];
    await scenario(store);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
        [schema],
      );
      expect(tables.rows.length).toBeGreaterThan(0);
      let rows = '';
      for (const { table_name } of tables.rows) {
        const result = await client.query(`SELECT * FROM ${schema}."${table_name}"`);
        rows += JSON.stringify(result.rows);
      }
      expect(rows.length).toBeGreaterThan(0);
      expect(containsAny(Buffer.from(rows), [...PLAINTEXTS, VISITOR])).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
