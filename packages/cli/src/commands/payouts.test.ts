import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../testing/in-process';

// `payouts prepare` and `payouts reconcile` through the command, on a file store made by `init` (with its
// key file, so that payee details are sealed in the store and opened by the run).

const NOW = '2026-04-02T10:00:00.000Z';
const plan = (currency: string) => ({
  command: 'publishPlan',
  planId: `std-${currency}`,
  version: 1,
  name: `Standard ${currency}`,
  currency,
  holdDays: 0,
  effectiveFrom: '2026-01-01T00:00:00Z',
  rules: [{ kind: 'revenueShare', rate: '0.1' }],
  occurredAt: '2026-01-01T00:00:00Z',
});
const partner = (partnerId: string, currency: string, payee: Record<string, string>) => ({
  command: 'joinPartner',
  partnerId,
  name: `Partner ${partnerId}`,
  partnerType: 'affiliate',
  planId: `std-${currency}`,
  payoutCurrency: currency,
  couponCodes: [`C-${partnerId}`],
  payee,
  occurredAt: '2026-01-02T00:00:00Z',
});
const sale = (partnerId: string, currency: string, amount: string) => ({
  command: 'recordConversion',
  conversionId: `o-${partnerId}`,
  customerId: `k-${partnerId}`,
  kind: 'order',
  amount,
  currency,
  couponCode: `C-${partnerId}`,
  occurredAt: '2026-03-10T00:00:00Z',
});
const commands = [
  plan('USD'),
  plan('HUF'),
  partner('ana', 'USD', { method: 'paypal', email: 'ana.payouts@example.net' }),
  partner('hu', 'HUF', { method: 'paypal', email: 'hu.payouts@example.net' }),
  partner('wz', 'USD', { method: 'wise', wiseRecipientId: '40001', accountHolderName: 'W. Z.' }),
  sale('ana', 'USD', '1234.50'),
  sale('hu', 'HUF', '123456.70'),
  sale('wz', 'USD', '900.00'),
];

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pl-payouts-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const cli = (args: string[], stdin?: Buffer) =>
  runInProcess(args, { now: NOW, ...(stdin === undefined ? {} : { stdin }) });
/** `payouts prepare` as of a date, by a method, into a directory, on a store. */
const prepareArgs = (asOf: string, method: string, out: string, store: string[]): string[] => [
  'payouts',
  'prepare',
  '--as-of',
  asOf,
  '--method',
  method,
  '--out',
  out,
  ...store,
];
const ok = async (args: string[], stdin?: Buffer): Promise<string> => {
  const result = await cli(args, stdin);
  expect({ args, code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
    args,
    code: 0,
    stderr: '',
  });
  return result.stdout;
};

/** A ledger made by `init`, with the plans, partners and sales of `commands`: its --store arguments. */
const books = async (): Promise<string[]> => {
  const store = ['--store', join(root, 'books')];
  await ok(['init', '--minimum-payout', '50.00', '--effective-from', '2026-01-01', ...store]);
  await ok(['import', '-', ...store], Buffer.from(commands.map((c) => JSON.stringify(c)).join('\n') + '\n'));
  return store;
};

describe('partner-ledger payouts', () => {
  it('prepares PayPal and Wise files, pays nothing twice, and reconciles the results', async () => {
    const store = await books();
    // The payee e-mails are sealed in the store's files.
    const bytes = readdirSync(join(root, 'books'), { recursive: true }).flatMap((name) => {
      try {
        return [readFileSync(join(root, 'books', String(name)))];
      } catch {
        return []; // a directory
      }
    });
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.some((b) => b.includes('ana.payouts@example.net'))).toBe(false);

    const out = join(root, 'out');
    const paypal = await cli(prepareArgs('2026-03-31', 'paypal', out, store));
    expect(paypal.code).toBe(0);
    expect(paypal.stdout).toContain(
      'payouts prepare: 2 payouts as of 2026-03-31T23:59:59.999Z (paypal), 1 not paid',
    );
    expect(paypal.stderr).toBe('payouts prepare: not paid: wz 90.00 USD: payee method is wise, not paypal\n');
    expect(readdirSync(out).sort()).toEqual(['paypal-20260331-HUF-1.csv', 'paypal-20260331-USD-1.csv']);
    const usd = readFileSync(join(out, 'paypal-20260331-USD-1.csv'), 'utf8');
    expect(usd).toMatch(
      /^ana\.payouts@example\.net,123\.45,USD,(po-[0-9a-f]{15}),Partner commission payout,PAYPAL\r\n$/,
    );
    expect(readFileSync(join(out, 'paypal-20260331-HUF-1.csv'), 'utf8')).toMatch(
      /^hu\.payouts@example\.net,12345,HUF,/,
    );
    const anaId = /(po-[0-9a-f]{15})/.exec(usd)![1]!;

    // Again for the same --as-of elsewhere: nothing more is paid; the files of the payouts still open are
    // written again, byte for byte.
    const again = await ok(prepareArgs('2026-03-31', 'paypal', join(root, 'out2'), store));
    expect(again).toContain(
      'payouts prepare: 0 payouts as of 2026-03-31T23:59:59.999Z (paypal), 1 not paid, 1 below the minimum, 2 recorded earlier and still open (their files written again)\n',
    );
    for (const name of ['paypal-20260331-HUF-1.csv', 'paypal-20260331-USD-1.csv'])
      expect(readFileSync(join(root, 'out2', name), 'utf8')).toBe(readFileSync(join(out, name), 'utf8'));
    // The same directory: the files are there, unchanged.
    const same = await ok(prepareArgs('2026-03-31', 'paypal', out, store));
    expect(same).toContain(`${join(out, 'paypal-20260331-USD-1.csv')}: 1 row (already there, unchanged)\n`);

    // A file there that differs is not overwritten: refused before anything is recorded.
    writeFileSync(join(root, 'out2', 'paypal-20260331-USD-1.csv'), usd.replace('123.45', '223.45'));
    const clash = await cli(prepareArgs('2026-03-31', 'paypal', join(root, 'out2'), store));
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(
      'paypal-20260331-USD-1.csv exists and differs from the file this run writes; nothing was recorded',
    );

    const wise = await ok(prepareArgs('2026-03-31', 'wise', out, store));
    expect(wise).toContain('1 payouts');
    const wiseFile = readFileSync(join(out, 'wise-20260331-USD-1.csv'), 'utf8').split('\r\n');
    expect(wiseFile[0]).toBe(
      'name,recipientId,recipientEmail,sourceCurrency,targetCurrency,amount,amountCurrency,paymentReference',
    );
    expect(wiseFile[1]).toMatch(/^W\. Z\.,40001,,USD,USD,90\.00,target,[0-9A-Z]{10}$/);

    const results = join(root, 'results.csv');
    writeFileSync(results, `Item ID,Status,Transaction ID,Date\n${anaId},SUCCESS,TX-9,2026-04-01\n`);
    expect(await ok(['payouts', 'reconcile', results, ...store])).toBe(
      'payouts reconcile: 1 paid, 0 failed, 0 returned, 0 already recorded, 0 pending\n',
    );
    expect(await ok(['payouts', 'reconcile', results, ...store])).toBe(
      'payouts reconcile: 0 paid, 0 failed, 0 returned, 1 already recorded, 0 pending\n',
    );

    // Wise's own documents: the transfer (GET /v1/transfers/{id}), then its state-change webhook event.
    const wzReference = wiseFile[1]!.split(',')[7]!;
    const transfer = (status: string) => ({
      id: 50001,
      user: 4100,
      targetAccount: 40001,
      sourceAccount: null,
      quote: null,
      quoteUuid: '11144c35-9fe8-4c32-b7fd-d05c2a7734bf',
      status,
      reference: wzReference,
      rate: 1,
      created: '2026-04-01 09:00:00',
      business: 4200,
      transferRequest: null,
      details: { reference: wzReference },
      hasActiveIssues: false,
      sourceCurrency: 'USD',
      sourceValue: 90,
      targetCurrency: 'USD',
      targetValue: 90,
      customerTransactionId: 'bd244a95-dcf8-4c31-aac8-bf5e2f3e54c0',
    });
    const document = join(root, 'transfer-50001.json');
    writeFileSync(document, JSON.stringify(transfer('processing')));
    // The transfer names the payout by the file's 10-character reference; the pending line by its id.
    expect(await ok(['payouts', 'reconcile', document, ...store])).toMatch(
      new RegExp(
        '^payouts reconcile: 0 paid, 0 failed, 0 returned, 0 already recorded, 1 pending\\n' +
          `pending: po-[0-9a-f]{15}: processing \\(document \\(transfer 50001, reference ${wzReference}\\)\\)\\n$`,
      ),
    );
    writeFileSync(document, JSON.stringify(transfer('outgoing_payment_sent')));
    expect(await ok(['payouts', 'reconcile', document, ...store])).toBe(
      'payouts reconcile: 1 paid, 0 failed, 0 returned, 0 already recorded, 0 pending\n',
    );
    const webhook = join(root, 'webhook.json');
    writeFileSync(
      webhook,
      JSON.stringify({
        data: {
          resource: { type: 'transfer', id: 50001, profile_id: 4200, account_id: 40001 },
          current_state: 'bounced_back',
          previous_state: 'outgoing_payment_sent',
          occurred_at: '2026-04-02T08:00:00.000Z',
        },
        subscription_id: '01234567-89ab-cdef-0123-456789abcdef',
        event_type: 'transfers#state-change',
        schema_version: '4.0.0',
        sent_at: '2026-04-02T08:00:01.000Z',
      }),
    );
    expect(await ok(['payouts', 'reconcile', webhook, ...store])).toBe(
      'payouts reconcile: 0 paid, 0 failed, 1 returned, 0 already recorded, 0 pending\n',
    );

    const bad = join(root, 'bad.csv');
    writeFileSync(bad, `payoutId,status\n${anaId},RETURNED\n${anaId},MAYBE\n`);
    const refused = await cli(['payouts', 'reconcile', bad, ...store]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('line 3: status: unknown status "MAYBE"');
    expect(refused.stderr).toContain('nothing was recorded');
    // The return on line 2 was not recorded: nothing of ana's is payable again.
    const after = await ok(prepareArgs('2026-04-01', 'paypal', join(root, 'out3'), store));
    expect(after).toContain('payouts prepare: 0 payouts');
  });

  it('after a crash between recording the payouts and writing their files, the same run writes them', async () => {
    const store = await books();
    const prepare = (out: string) => cli(prepareArgs('2026-03-31', 'paypal', out, store));
    // The payouts are recorded, then a file cannot be written (the crash window): its .partial name is
    // taken by a directory.
    const blocked = join(root, 'blocked');
    mkdirSync(join(blocked, 'paypal-20260331-HUF-1.csv.partial'), { recursive: true });
    const crashed = await prepare(blocked);
    expect(crashed.code).not.toBe(0);
    expect(crashed.stdout).toBe('');

    // A write cut short left a .partial file behind; the run again writes whole files over it.
    const out = join(root, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'paypal-20260331-USD-1.csv.partial'), 'ana.payouts@example.net,12');
    const again = await prepare(out);
    expect(again.stdout).toContain(
      '0 payouts as of 2026-03-31T23:59:59.999Z (paypal), 1 not paid, 1 below the minimum, 2 recorded earlier and still open',
    );
    expect(readdirSync(out).sort()).toEqual(['paypal-20260331-HUF-1.csv', 'paypal-20260331-USD-1.csv']);
    const usd = readFileSync(join(out, 'paypal-20260331-USD-1.csv'), 'utf8');
    expect(usd).toMatch(
      /^ana\.payouts@example\.net,123\.45,USD,po-[0-9a-f]{15},Partner commission payout,PAYPAL\r\n$/,
    );
    expect(readFileSync(join(out, 'paypal-20260331-HUF-1.csv'), 'utf8')).toMatch(
      /^hu\.payouts@example\.net,12345,HUF,/,
    );

    // ana earns more: a run into a directory whose USD file differs is refused and records nothing, so a
    // run into a fresh one pays it, in a file numbered after the recorded ones.
    await ok(
      ['import', '-', ...store],
      Buffer.from(JSON.stringify({ ...sale('ana', 'USD', '600.00'), conversionId: 'o-ana-2' }) + '\n'),
    );
    writeFileSync(join(out, 'paypal-20260331-USD-1.csv'), usd.replace('123.45', '123.46'));
    const refused = await prepare(out);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'paypal-20260331-USD-1.csv exists and differs from the file this run writes; nothing was recorded',
    );
    const fresh = await prepare(join(root, 'fresh'));
    expect(fresh.stdout).toContain('1 payouts as of');
    expect(readdirSync(join(root, 'fresh')).sort()).toEqual([
      'paypal-20260331-HUF-1.csv',
      'paypal-20260331-USD-1.csv',
      'paypal-20260331-USD-2.csv',
    ]);
    expect(readFileSync(join(root, 'fresh', 'paypal-20260331-USD-1.csv'), 'utf8')).toBe(usd);
    expect(readFileSync(join(root, 'fresh', 'paypal-20260331-USD-2.csv'), 'utf8')).toMatch(
      /^ana\.payouts@example\.net,60\.00,USD,/,
    );
  });

  it('refuses an --out that cannot take the files before it records anything', async () => {
    const store = await books();
    const eventsChecked = async () => /events checked: (\d+)/.exec(await ok(['verify', ...store]))?.[1];
    const before = await eventsChecked();
    const file = join(root, 'not-a-directory');
    writeFileSync(file, 'x');
    for (const out of [file, join(file, 'below')]) {
      const refused = await cli(prepareArgs('2026-03-31', 'paypal', out, store));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`--out ${out} cannot take the batch files`);
      expect(refused.stderr).toContain('nothing was recorded');
    }
    expect(await eventsChecked()).toBe(before);
  });

  it('says "no such file" for a results file that does not exist, as import does, and records nothing', async () => {
    const store = await books();
    const eventsBefore = (await cli(['verify', '--format', 'json', ...store])).stdout;
    const missing = join(root, 'no-such-results.csv');
    const result = await cli(['payouts', 'reconcile', missing, ...store]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain(`payouts reconcile: cannot read ${missing}: no such file\n`);
    expect(result.stderr).not.toContain('ENOENT');
    const directory = await cli(['payouts', 'reconcile', root, ...store]);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain(
      `payouts reconcile: cannot read ${root}: it is a directory, not a file`,
    );
    expect((await cli(['verify', '--format', 'json', ...store])).stdout).toBe(eventsBefore);
  });

  it('refuses a call without its required flags, naming them', async () => {
    const missing = await cli([
      'payouts',
      'prepare',
      '--method',
      'paypal',
      '--out',
      root,
      '--store',
      join(root, 'x'),
    ]);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toContain('--as-of T is required');
    const method = await cli([
      'payouts',
      'prepare',
      '--as-of',
      '2026-03-31',
      '--method',
      'cheque',
      '--out',
      root,
    ]);
    expect(method.stderr).toContain('--method: expected one of paypal, wise, csv');
    expect((await cli(['payouts', 'pay'])).stderr).toContain('unknown action "pay"');
    const minimum = (given: string) =>
      cli([...prepareArgs('2026-03-31', 'paypal', root, ['--store', join(root, 'x')]), '--minimum', given]);
    expect((await minimum('5.001:USD')).stderr).toContain('--minimum: USD has 2 decimals, got 5.001');
    expect((await minimum('100.5:JPY')).stderr).toContain('--minimum: JPY has 0 decimals, got 100.5');
    expect((await minimum('5:XYZ')).stderr).toContain('--minimum: XYZ is not an ISO 4217 currency code');
    for (const given of ['5.001:USD', '100.5:JPY', '5:XYZ']) expect((await minimum(given)).code).toBe(2);
  });
});
