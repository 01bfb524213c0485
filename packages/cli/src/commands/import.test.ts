import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore } from '@partner-ledger/store-file';
import { runInProcess as run } from '../testing/in-process';

const ndjson = (...commands: Array<Record<string, unknown>>): string =>
  commands.map((c) => JSON.stringify(c)).join('\n') + '\n';

const setup = [
  {
    command: 'publishPlan',
    planId: 'share',
    version: 1,
    name: 'Share',
    currency: 'USD',
    holdDays: 0,
    effectiveFrom: '2025-01-01T00:00:00Z',
    rules: [{ kind: 'revenueShare', rate: '0.2' }],
    occurredAt: '2025-01-01T00:00:00Z',
  },
  {
    command: 'joinPartner',
    partnerId: 'blog',
    name: 'Blog',
    partnerType: 'affiliate',
    planId: 'share',
    payoutCurrency: 'USD',
    occurredAt: '2025-01-02T00:00:00Z',
  },
  {
    command: 'trackClick',
    clickId: 'c1',
    partnerId: 'blog',
    visitorId: 'v1',
    occurredAt: '2025-01-03T00:00:00Z',
  },
  {
    command: 'recordConversion',
    conversionId: 'o1',
    customerId: 'k1',
    kind: 'order',
    amount: '100.00',
    currency: 'USD',
    visitorId: 'v1',
    occurredAt: '2025-01-04T00:00:00Z',
  },
];

const eventsOf = async (store: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> => {
  const opened = await openFileStore({ directory: store, readOnly: true });
  try {
    const events = [];
    for await (const e of opened.readAll())
      events.push({ type: e.type, data: e.data as Record<string, unknown> });
    return events;
  } finally {
    await opened.close();
  }
};

describe('partner-ledger import', () => {
  let root: string;
  let store: string;
  const file = (name: string, content: string | Buffer): string => {
    const path = join(root, name);
    writeFileSync(path, content);
    return path;
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-import-'));
    store = join(root, 'ledger');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const initialised = async (): Promise<string> => {
    expect((await run(['init', '--store', store])).code).toBe(0);
    expect((await run(['import', file('setup.ndjson', ndjson(...setup)), '--store', store])).code).toBe(0);
    const conversion = (await eventsOf(store)).find((e) => e.type === 'ConversionAttributed')!;
    return (conversion.data['commissions'] as Array<{ lineId: string }>)[0]!.lineId;
  };

  it('a file of holds imported again after a release records nothing and exits 0', async () => {
    const lineId = await initialised();
    const hold = file(
      'hold.ndjson',
      ndjson({ command: 'holdCommission', conversionId: 'o1', lineId, reason: 'review' }),
    );
    const release = file(
      'release.ndjson',
      ndjson({ command: 'releaseCommission', conversionId: 'o1', lineId }),
    );
    const held = await run(['import', hold, '--store', store]);
    expect(held.code).toBe(0);
    // One command, one event: counted in the singular.
    expect(held.stderr).toContain(`import: 1 command from ${hold}: 1 applied (1 event), 0 already recorded`);
    expect((await run(['import', release, '--store', store])).code).toBe(0);
    const before = (await eventsOf(store)).length;
    const again = await run(['import', hold, '--store', store]);
    expect(again.stderr).toContain('0 applied (0 events), 1 already recorded, 0 rejected');
    expect(again.code).toBe(0);
    const setupAgain = await run(['import', join(root, 'setup.ndjson'), '--store', store]);
    expect(setupAgain.stderr).toContain('4 already recorded, 0 rejected');
    expect(setupAgain.code).toBe(0);
    expect((await eventsOf(store)).length).toBe(before);
    const balances = await run(['report', 'balances', '--format', 'json', '--store', store]);
    expect(JSON.stringify(JSON.parse(balances.stdout).result.partners.blog)).toMatch(/"held":"0.00"/);
  });

  it('refuses a repeated key, bytes that are not UTF-8, a lone surrogate and deep nesting, naming each line', async () => {
    await initialised();
    const before = (await eventsOf(store)).length;
    const lines = Buffer.concat([
      Buffer.from(
        '{"command":"issuePayout","payoutId":"p1","partnerId":"blog","amount":"1.00","amount":"99999.00","currency":"USD","method":"wise"}\n',
      ),
      Buffer.from(
        '{"command":"trackClick","clickId":"c\xff","partnerId":"blog","visitorId":"v2"}\n',
        'latin1',
      ),
      Buffer.from('{"command":"trackClick","clickId":"c\\ud800","partnerId":"blog","visitorId":"v2"}\n'),
      Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}\n`),
    ]);
    const result = await run(['import', file('bad.ndjson', lines), '--store', store]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('line 1: amount: this key appears twice');
    expect(result.stderr).toContain('line 2: (line): not valid UTF-8 text');
    expect(result.stderr).toMatch(/line 3: clickId: .*lone surrogate/);
    expect(result.stderr).toMatch(/line 4: \(line\): nested deeper than 64 levels/);
    expect(result.stderr).not.toContain('call stack');
    expect(result.stderr).toContain('4 of 4 lines are invalid; nothing was applied');
    expect((await eventsOf(store)).length).toBe(before);
  });

  // docs/cli.md: a byte order mark at the start of any line is dropped (files joined with cat); one between
  // the fields of a line makes it invalid.
  it('drops a UTF-8 byte order mark at the start of any line, and refuses one between fields', async () => {
    const bom = '\uFEFF';
    expect((await run(['init', '--store', store])).code).toBe(0);
    const lines = ndjson(...setup)
      .split('\n')
      .map((line, i) => (i === 0 || i === 2 ? `${bom}${line}` : line))
      .join('\n');
    expect(Buffer.from(lines, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const withMarks = await run(['import', file('marks.ndjson', lines), '--store', store]);
    expect(withMarks.code).toBe(0);
    expect(withMarks.stderr).toContain(': 4 applied (4 events), 0 already recorded, 0 rejected\n');
    // The same file without the marks is the same commands: all already recorded, none in conflict.
    const plain = await run(['import', file('plain.ndjson', ndjson(...setup)), '--store', store]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain(': 0 applied (0 events), 4 already recorded, 0 rejected\n');

    const before = (await eventsOf(store)).length;
    const between = `{"command":"trackClick",${bom}"clickId":"c9","partnerId":"blog","visitorId":"v9","occurredAt":"2025-01-04T00:00:00Z"}\n`;
    const refused = await run(['import', file('between.ndjson', between), '--store', store]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('line 1: (line): not JSON');
    expect((await eventsOf(store)).length).toBe(before);
  });

  it('refuses a directory given as the file, naming it, and records nothing', async () => {
    await initialised();
    const before = (await eventsOf(store)).length;
    const result = await run(['import', root, '--store', store]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`import: cannot read ${root}: it is a directory, not a file of commands`);
    expect((await eventsOf(store)).length).toBe(before);
  });

  it('refuses a line that is JSON but not an object, naming the line and what it is', async () => {
    await initialised();
    const before = (await eventsOf(store)).length;
    const result = await run([
      'import',
      file('scalars.ndjson', '[1,2]\n"trackClick"\nnull\n42\n'),
      '--store',
      store,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('line 1: (line): expected a JSON object (one command), got an array');
    expect(result.stderr).toContain('line 2: (line): expected a JSON object (one command), got a string');
    expect(result.stderr).toContain('line 3: (line): expected a JSON object (one command), got null');
    expect(result.stderr).toContain('line 4: (line): expected a JSON object (one command), got a number');
    expect(result.stderr).not.toContain('NaN');
    expect(result.stderr).toContain('4 of 4 lines are invalid; nothing was applied');
    expect((await eventsOf(store)).length).toBe(before);
  });

  it('without init, applies the commands no rule refuses and says so; --atomic applies none', async () => {
    const path = file('no-init.ndjson', ndjson(...setup));
    const atomic = await run(['import', '--atomic', path, '--store', store]);
    expect(atomic.code).toBe(2);
    expect(atomic.stderr).toMatch(/line 4: rejected: PROGRAM_NOT_CONFIGURED/);
    expect(atomic.stderr).toContain('--atomic: 1 of 4 commands would be refused; nothing was applied');
    expect(await eventsOf(store).catch(() => [])).toEqual([]);
    const plain = await run(['import', path, '--store', store]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('3 applied (3 events), 0 already recorded, 1 rejected');
    expect(plain.stderr).toContain('the others were applied');
    expect((await eventsOf(store)).length).toBe(3);
  });
});
