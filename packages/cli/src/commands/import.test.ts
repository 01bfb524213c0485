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

  // docs/cli.md "Commands as NDJSON": an invalid line is named with its field; nothing is applied, with or
  // without --atomic. (A negative amount and an unknown command: e2e/ledger-verbs.test.ts.)
  it('names the line and field of each malformed value, and applies nothing, with or without --atomic', async () => {
    await initialised();
    const before = (await eventsOf(store)).length;
    const conversion = {
      command: 'recordConversion',
      conversionId: 'o9',
      customerId: 'k9',
      kind: 'order',
      currency: 'USD',
    };
    const path = file(
      'malformed.ndjson',
      ndjson(
        { command: 'trackClick', clickId: 'c9', partnerId: 'blog', visitorId: 'v9' },
        { command: 'trackClick', clickId: 9, partnerId: 'blog', visitorId: 'v9' },
        { ...conversion, amount: '10.005' },
        { ...conversion, amount: 10.5 },
        { ...conversion, amount: '10.00', colour: 'red' },
        { ...conversion, amount: '10.00', occurredAt: '2025-01-05T00:00:00' },
        {
          command: 'configureProgram',
          programId: 'program',
          name: 'P',
          currency: 'USD',
          attribution: {
            model: 'lastTouch',
            clickWindowDays: 30,
            halfLifeDays: 7,
            precedence: ['coupon', 'coupon', 'clicks'],
          },
          minimumPayout: '50.00',
          minClickToConversionSeconds: 0,
        },
      ),
    );
    for (const atomic of [[], ['--atomic']]) {
      const result = await run(['import', ...atomic, path, '--store', store]);
      expect(result.code).toBe(2);
      expect(result.stderr.split('\n')).toEqual([
        'line 2: clickId: expected an identifier (1 to 200 printable characters), got 9',
        'line 3: amount: expected a decimal string with at most 2 decimals for USD, got 10.005',
        'line 4: amount: expected a decimal string (money is never a JavaScript number), got 10.5',
        'line 5: colour: unexpected field (not part of a recordConversion command)',
        expect.stringMatching(
          /^line 6: occurredAt: "2025-01-05T00:00:00" is not an RFC 3339 date-time with a zone/,
        ),
        'line 7: attribution.precedence: expected each of dealRegistration, coupon, clicks at most once, got "coupon" more than once',
        'import: 6 of 7 lines are invalid; nothing was applied. Fix them and import the file again.',
        '',
      ]);
    }
    expect((await eventsOf(store)).length).toBe(before);
  });

  it('reads CRLF line ends as LF, and takes an empty file as no command (exit 0)', async () => {
    await initialised();
    const before = (await eventsOf(store)).length;
    const crlf = file(
      'crlf.ndjson',
      ndjson({ command: 'trackClick', clickId: 'c2', partnerId: 'blog', visitorId: 'v2' }).replace(
        /\n/g,
        '\r\n',
      ) + '\r\n',
    );
    const applied = await run(['import', crlf, '--store', store]);
    expect([applied.code, applied.stderr]).toEqual([
      0,
      `import: 1 command from ${crlf}: 1 applied (1 event), 0 already recorded, 0 rejected\n`,
    ]);
    const events = await eventsOf(store);
    expect(events).toHaveLength(before + 1);
    expect(events.at(-1)!.data['clickId']).toBe('c2');
    for (const atomic of [[], ['--atomic']]) {
      const empty = await run(['import', ...atomic, file('empty.ndjson', ''), '--store', store]);
      expect([empty.code, empty.stderr]).toEqual([0, expect.stringContaining('0 commands from')]);
    }
    expect(await eventsOf(store)).toHaveLength(before + 1);
  });

  // A refused value of megabytes (an id, an amount, a key) is named by its start and length, not echoed
  // back whole on stderr; a line past 16 MiB is refused as too long (its bytes are not kept), where it was
  // read whole and, past V8's longest string, reported as "not valid UTF-8".
  it('names a huge value or key by its start and length, and refuses a line longer than 16 MiB as such', async () => {
    await initialised();
    const before = (await eventsOf(store)).length;
    const mega = 'x'.repeat(1_000_000);
    const path = file(
      'huge.ndjson',
      Buffer.concat([
        Buffer.from(
          ndjson(
            { command: 'trackClick', clickId: mega, partnerId: 'blog', visitorId: 'v2' },
            {
              command: 'recordConversion',
              conversionId: 'o9',
              customerId: 'k9',
              kind: 'order',
              amount: `1.${'0'.repeat(1_000_000)}`,
              currency: 'USD',
            },
            { command: 'trackClick', clickId: 'c2', partnerId: 'blog', visitorId: 'v2', [mega]: 1 },
          ),
        ),
        Buffer.from(
          `{"command":"trackClick","clickId":"c3","partnerId":"blog","visitorId":"v3","campaign":"${'y'.repeat(17 * 1024 * 1024)}"}\n`,
        ),
        Buffer.from('{"command":"frobnicate"}\n'),
      ]),
    );
    const result = await run(['import', path, '--store', store]);
    expect(result.code).toBe(2);
    expect(result.stderr.length).toBeLessThan(4000);
    const lines = result.stderr.split('\n');
    expect(lines[0]).toBe(
      `line 1: clickId: expected an identifier (1 to 200 printable characters), got "${'x'.repeat(40)}"... (1000000 characters)`,
    );
    expect(lines[1]).toBe(
      `line 2: amount: expected a decimal string with at most 2 decimals for USD, got 1.${'0'.repeat(38)}... (1000002 characters)`,
    );
    expect(lines[2]).toBe(
      `line 3: ${'x'.repeat(40)}... (1000000 characters): unexpected field (not part of a trackClick command)`,
    );
    expect(lines[3]).toBe(
      `line 4: (line): ${17 * 1024 * 1024 + 89} bytes, more than the 16777216 (16 MiB) a line may have: no command is that large`,
    );
    expect(lines[4]).toMatch(/^line 5: command: expected command to be one of .*got "frobnicate"$/);
    expect(lines[5]).toBe(
      'import: 5 of 5 lines are invalid; nothing was applied. Fix them and import the file again.',
    );
    expect((await eventsOf(store)).length).toBe(before);
  });
});
