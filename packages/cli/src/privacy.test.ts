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
  {
    command: 'issuePayout',
    payoutId: 'pay-1',
    partnerId: 'zelda',
    amount: '50.00',
    currency: 'USD',
    method: 'wise',
    occurredAt: '2025-01-06T00:00:00Z',
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

/** Every report that lists partners, in each format that prints names (table, CSV, JSON). */
const REPORT_RUNS = (['balances', 'revenue', 'statements', 'health'] as const).flatMap((name) =>
  (['table', 'csv', 'json'] as const).map((format) => [name, format] as const),
);

/**
 * The reports' outputs, whole, as of the end of 2025 and as known at a position (so that an event recorded
 * later, such as the erasure's, changes neither the figures nor the stamps).
 */
const partnerReports = async (store: string[], knownAt: number): Promise<string[]> => {
  const outputs: string[] = [];
  for (const [name, format] of REPORT_RUNS)
    outputs.push(
      await ok([
        'report',
        name,
        '--format',
        format,
        '--as-of',
        '2025-12-31',
        '--known-at',
        String(knownAt),
        ...store,
      ]),
    );
  return outputs;
};

/**
 * The same output with one cell's text replaced: a CSV cell or a JSON string exactly; in a table, whose
 * columns are padded to their widest cell, the cells compared with their padding (and the rule) squeezed.
 */
const renamed = (output: string, format: string, from: string, to: string): string =>
  format === 'table'
    ? squeezed(output.replaceAll(from, to))
    : output.replaceAll(`,${from},`, `,${to},`).replaceAll(`"${from}"`, `"${to}"`);
const squeezed = (table: string): string => table.replace(/ +/g, ' ').replace(/-+/g, '-');

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
  const head = (
    JSON.parse(await ok(['report', 'balances', '--format', 'json', ...store])) as { position: number }
  ).position;
  const reportsBefore = await partnerReports(store, head);
  // Same events, same keys: the same bytes.
  expect(await partnerReports(store, head)).toEqual(reportsBefore);
  const balancesBefore = JSON.parse(reportsBefore[2]!) as { partnerNames: Record<string, string> };
  expect(balancesBefore.partnerNames).toEqual({ other: 'Other Partner Ltd', zelda: ZELDA.name });
  const statementsCsv = reportsBefore[REPORT_RUNS.findIndex(([n, f]) => n === 'statements' && f === 'csv')]!;
  expect(statementsCsv.split('\n')[0]).toMatch(/^partner,name,period,payoutId,/);
  expect(statementsCsv).toContain(`zelda,${ZELDA.name},2025-01,pay-1,`);
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
  // Every report, in every format, is the same bytes but for Zelda's name, now the erased marker: the money
  // figures, the rows and their order are unchanged (as known before the erasure's event, so that even the
  // stamps are the same).
  const reportsAfter = await partnerReports(store, head);
  for (const [index, [name, format]] of REPORT_RUNS.entries()) {
    expect([name, format, format === 'table' ? squeezed(reportsAfter[index]!) : reportsAfter[index]]).toEqual(
      [name, format, renamed(reportsBefore[index]!, format, ZELDA.name, '[erased]')],
    );
    expect([name, format, reportsAfter[index]!.includes(ZELDA.name)]).toEqual([name, format, false]);
  }
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

  it('reports name partners: opened with the key, [erased] after erasure, [sealed] without the key, an error with a wrong one', async () => {
    const directory = join(root, 'names');
    const store = ['--store', directory];
    await ok(['init', '--minimum-payout', '10.00', '--effective-from', '2025-01-01', ...store]);
    await ok(['import', '-', ...store], ndjson);
    const zeldaRow = (csv: string): string => csv.split('\n').find((line) => line.startsWith('zelda,'))!;
    expect(zeldaRow(await ok(['report', 'balances', '--format', 'csv', ...store]))).toMatch(
      new RegExp(`^zelda,${ZELDA.name},affiliate,USD,50.00,`),
    );
    const pages = join(root, 'names-html');
    await ok(['report', 'statements', '--format', 'html', '--out', pages, ...store]);
    expect(readFileSync(join(pages, 'zelda.html'), 'utf8')).toContain(`Partner name: ${ZELDA.name}`);
    expect(readFileSync(join(pages, 'index.html'), 'utf8')).toContain(ZELDA.name);

    // An auditor's copy: the events as stored, no key file. Names read as [sealed], never as ciphertext.
    const copy = join(root, 'names-copy');
    await ok(['copy', '--from', directory, '--to', copy]);
    for (const format of ['table', 'csv', 'json']) {
      const report = await ok(['report', 'balances', '--format', format, '--store', copy]);
      expect([format, report.includes('sealed.v1.'), report.includes(ZELDA.name)]).toEqual([
        format,
        false,
        false,
      ]);
      expect(report).toContain('[sealed]');
    }
    expect(
      (
        JSON.parse(await ok(['report', 'statements', '--format', 'json', '--store', copy])) as {
          partnerNames: unknown;
        }
      ).partnerNames,
    ).toEqual({ zelda: '[sealed]' });

    // A key file of another ledger that holds a key named partner:zelda: a clear error naming the key.
    const wrongKeys = join(root, 'wrong.keys');
    await ok(['init', '--store', join(root, 'wrong'), '--keys', wrongKeys]);
    await ok(
      ['import', '-', '--store', join(root, 'wrong'), '--keys', wrongKeys],
      Buffer.from(ndjson.toString().split('\n').slice(0, 2).join('\n') + '\n'),
    );
    const wrong = await cli(['report', 'balances', ...store, '--keys', wrongKeys]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('partner:zelda');
    expect(wrong.stdout).toBe('');

    await ok(['erase', '--partner', 'zelda', '--requested-by', 'ticket:DPO-2', ...store]);
    expect(zeldaRow(await ok(['report', 'balances', '--format', 'csv', ...store]))).toMatch(
      /^zelda,\[erased\],affiliate,USD,50.00,/,
    );
    await ok(['report', 'statements', '--format', 'html', '--out', pages, ...store]);
    expect(readFileSync(join(pages, 'zelda.html'), 'utf8')).toContain('Partner name: [erased]');
    expect(readFileSync(join(pages, 'index.html'), 'utf8')).not.toContain(ZELDA.name);
  });

  it('erase --all-visitors destroys the pseudonyms key: no visitor can be linked any more, money and verify unchanged', async () => {
    const directory = join(root, 'visitors');
    const store = ['--store', directory];
    await ok(['init', '--minimum-payout', '10.00', '--effective-from', '2025-01-01', ...store]);
    await ok(['import', '-', ...store], ndjson);
    const before = await moneyReports(store);
    const visitorExport = async () =>
      JSON.parse(await ok(['export-subject', '--visitor', VISITOR, ...store])) as {
        pseudonym: string;
        events: Array<{ type: string; stream?: string }>;
      };
    const linked = await visitorExport();
    expect(linked.events.map((e) => e.type)).toEqual(['ClickTracked', 'ConversionAttributed']);

    const refused = await cli(['erase', '--visitor', '*', '--requested-by', 'r', ...store]);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining('--all-visitors')]);
    const both = await cli([
      'erase',
      '--all-visitors',
      '--partner',
      'zelda',
      '--requested-by',
      'r',
      ...store,
    ]);
    expect(both.code).toBe(2);

    const erase = [
      'erase',
      '--all-visitors',
      '--requested-by',
      'retention:2025',
      '--reason',
      'end of window',
    ];
    expect(await ok([...erase, ...store])).toBe(
      'erase: every visitor: recorded in erasure-visitors; key visitors destroyed\n',
    );
    // Again: recognised, nothing new recorded.
    expect(await ok([...erase, ...store])).toBe(
      'erase: every visitor: already recorded in erasure-visitors; key visitors destroyed\n',
    );
    const keyFile = JSON.parse(readFileSync(`${directory}.keys`, 'utf8')) as {
      keys: Record<string, string>;
      erased: Record<string, string>;
    };
    expect(keyFile.erased).toEqual({ visitors: NOW });
    expect(Object.keys(keyFile.keys)).not.toContain('visitors');

    // The visitor's id no longer leads to its events: no visitor was recorded since, so there is no key
    // (visitors.2) to make its pseudonym with, and exporting does not make one.
    const unlinked = await visitorExport();
    expect(unlinked).toEqual({
      subject: { kind: 'visitor', id: VISITOR },
      key: { keyId: 'visitors.2', state: 'missing' },
      events: [],
    });
    expect(await moneyReports(store)).toEqual(before);
    expect(await ok(['verify', ...store])).toMatch(/^status:\s+ok$/m);
    const recorded = (await ok(['export', ...store]))
      .split('\n')
      .filter((l) => l.includes('PersonalDataErased'));
    expect(recorded).toHaveLength(1);
    expect(JSON.parse(recorded[0]!)).toMatchObject({
      data: { subject: { kind: 'visitor', id: '*' }, keyId: 'visitors', requestedBy: 'retention:2025' },
    });
    // New clicks and conversions are still recorded, under the new key.
    const later = [
      {
        command: 'trackClick',
        clickId: 'c-9',
        partnerId: 'other',
        visitorId: VISITOR,
        occurredAt: '2025-02-01T00:00:00Z',
      },
    ];
    await ok(['import', '-', ...store], Buffer.from(later.map((c) => JSON.stringify(c)).join('\n') + '\n'));
    const relinked = await visitorExport();
    expect(relinked.events.map((e) => e.type)).toEqual(['ClickTracked']);
    expect(relinked.pseudonym).not.toBe(linked.pseudonym);
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
    // The HTML statements are stamped with the digest of the events as stored, the one verify prints.
    const printed = await ok([
      'report',
      'statements',
      '--format',
      'html',
      '--out',
      join(root, 'pages'),
      ...store,
    ]);
    const verified = await ok(['verify', ...withoutKeys(store)]);
    expect(/digest: +([0-9a-f]{64})/.exec(printed)?.[1]).toBe(/digest: +([0-9a-f]{64})/.exec(verified)?.[1]);
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
