import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../testing/in-process';

// "Running erase again is safe" (erase --help, docs/privacy.md): run again later, with the clock moved on
// (as a person does, hours or days after the first run), even with another --reason, it recognises the
// record, appends nothing and exits 0.

// A plan, a partner with a name (sealed) and a visitor's click (pseudonymized), as the import takes them.
const COMMANDS = [
  '{"command":"publishPlan","planId":"p","version":1,"name":"P","currency":"USD","holdDays":0,"effectiveFrom":"2025-01-01T00:00:00Z","rules":[{"kind":"flat","amount":"1.00"}],"occurredAt":"2025-01-01T00:00:00Z"}',
  '{"command":"joinPartner","partnerId":"blog-1","name":"Blog One","partnerType":"affiliate","planId":"p","payoutCurrency":"USD","occurredAt":"2025-01-02T00:00:00Z"}',
  '{"command":"trackClick","clickId":"c-1","partnerId":"blog-1","visitorId":"v-9","occurredAt":"2025-01-03T00:00:00Z"}',
].join('\n');

describe('partner-ledger erase, run again later', () => {
  let root: string;
  let store: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-erase-'));
    store = join(root, 'ledger');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const FIRST = '2026-12-04T10:00:00.000Z';
  const keyFile = () =>
    JSON.parse(readFileSync(`${store}.keys`, 'utf8')) as {
      keys: Record<string, string>;
      erased: Record<string, string>;
    };
  const at = async (now: string, ...args: string[]) => runInProcess([...args, '--store', store], { now });
  const eventsChecked = async (): Promise<string> =>
    /events checked: (\d+)/.exec((await at('2026-12-10T00:00:00.000Z', 'verify')).stdout)?.[1] ?? '';

  it.each([
    [
      'a partner',
      ['--partner', 'blog-1'],
      'partner blog-1: already recorded in erasure-partner-blog-1; key partner:blog-1 destroyed',
    ],
    ['a visitor', ['--visitor', 'v-9'], 'already recorded in erasure-visitor-vp-'],
    [
      'every visitor',
      ['--all-visitors'],
      'every visitor: already recorded in erasure-visitors; key visitors destroyed',
    ],
  ])('%s: recognises the record, appends nothing, exits 0', async (_, subject, said) => {
    expect((await at('2026-12-01T00:00:00.000Z', 'init', '--effective-from', '2025-01-01')).code).toBe(0);
    const file = join(root, 'commands.ndjson');
    writeFileSync(file, `${COMMANDS}\n`);
    expect((await at('2026-12-01T00:00:00.000Z', 'import', file)).code).toBe(0);

    const first = await at(FIRST, 'erase', ...subject, '--requested-by', 'ticket:DPO-1');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const before = await eventsChecked();

    const again = await at('2026-12-05T16:30:00.000Z', 'erase', ...subject, '--requested-by', 'ticket:DPO-1');
    expect(again.stderr).toBe('');
    expect(again.stdout).toContain(said);
    expect(again.code).toBe(0);
    const otherReason = await at(
      '2026-12-06T09:00:00.000Z',
      'erase',
      ...subject,
      '--requested-by',
      'ticket:DPO-9',
      '--reason',
      'again',
    );
    expect(otherReason.stdout).toContain(said);
    expect(otherReason.code).toBe(0);
    expect(await eventsChecked()).toBe(before);
    expect((await at('2026-12-10T00:00:00.000Z', 'verify')).code).toBe(0);
    // The key file keeps the time of the first erasure, not the time of a repeat.
    expect(Object.values(keyFile().erased)).toEqual(subject[0] === '--visitor' ? [] : [FIRST]);
  });

  it('names every subject flag when none is given', async () => {
    const none = await at(FIRST, 'erase', '--requested-by', 'ticket:DPO-1');
    expect(none.stderr).toContain('erase: give exactly one of --partner ID, --visitor ID and --all-visitors');
    expect(none.code).toBe(2);
    const access = await at(FIRST, 'export-subject');
    expect(access.stderr).toContain('export-subject: give exactly one of --partner ID and --visitor ID');
    expect(access.code).toBe(2);
  });

  // "import first.ndjson again: nothing new is recorded, every line is already there" (docs/getting-started.md)
  // holds after a partner's erasure too: the partner's join, whose personal fields now read [erased], is the
  // same command, not one "with other details".
  it('importing the same file again after a partner was erased records nothing and exits 0', async () => {
    expect((await at('2026-12-01T00:00:00.000Z', 'init', '--effective-from', '2025-01-01')).code).toBe(0);
    const file = join(root, 'commands.ndjson');
    // Every personal field of a join, the payee's included.
    const withDetails = COMMANDS.replace(
      '"payoutCurrency":"USD"',
      '"payoutCurrency":"USD","contactEmail":"ana@blog.example","taxId":"DE123","payee":{"method":"paypal","email":"pay@blog.example"}',
    );
    writeFileSync(file, `${withDetails}\n`);
    expect((await at('2026-12-01T00:00:00.000Z', 'import', file)).code).toBe(0);
    expect((await at(FIRST, 'erase', '--partner', 'blog-1', '--requested-by', 'ticket:DPO-1')).code).toBe(0);
    const before = await eventsChecked();

    const again = await at('2026-12-05T00:00:00.000Z', 'import', file);
    expect(again.stderr).toContain('0 applied (0 events), 3 already recorded, 0 rejected');
    expect(again.code).toBe(0);
    expect(await eventsChecked()).toBe(before);
    // Other details for the erased partner are still a conflict, on the fields that can be compared.
    const other = join(root, 'other.ndjson');
    writeFileSync(other, `${withDetails.split('\n')[1]!.replace('"affiliate"', '"reseller"')}\n`);
    const conflict = await at('2026-12-05T00:00:00.000Z', 'import', other);
    expect(conflict.stderr).toContain('IDEMPOTENCY_CONFLICT (partnerId)');
    expect(conflict.code).toBe(2);
  });

  it('after --all-visitors, export-subject and erase --visitor make no new key, and a repeat destroys nothing more', async () => {
    expect((await at('2026-12-01T00:00:00.000Z', 'init', '--effective-from', '2025-01-01')).code).toBe(0);
    const file = join(root, 'commands.ndjson');
    writeFileSync(file, `${COMMANDS}\n`);
    expect((await at('2026-12-01T00:00:00.000Z', 'import', file)).code).toBe(0);
    const all = ['erase', '--all-visitors', '--requested-by', 'retention:2025'];
    expect((await at(FIRST, ...all)).code).toBe(0);

    const exported = await at('2026-12-05T00:00:00.000Z', 'export-subject', '--visitor', 'v-9');
    expect([exported.code, exported.stderr]).toEqual([
      0,
      'partner-ledger: warning: export-subject: the ledger holds no event about visitor "v-9": ' +
        "no visitor has been recorded under the current visitors' key (visitors.2)\n",
    ]);
    expect(JSON.parse(exported.stdout)).toEqual({
      subject: { kind: 'visitor', id: 'v-9' },
      key: { keyId: 'visitors.2', state: 'missing' },
      events: [],
    });
    const erased = await at('2026-12-05T00:00:00.000Z', 'erase', '--visitor', 'v-9', '--requested-by', 't:2');
    expect(erased.code).toBe(2);
    expect(erased.stderr).toContain('no visitor has been recorded');
    expect(Object.keys(keyFile().keys)).toEqual(['partner:blog-1']);
    expect(keyFile().erased).toEqual({ visitors: FIRST });

    const again = await at('2026-12-06T00:00:00.000Z', ...all);
    expect(again.stdout).toBe(
      'erase: every visitor: already recorded in erasure-visitors; key visitors destroyed\n',
    );
    expect(keyFile().erased).toEqual({ visitors: FIRST });
  });

  // docs/privacy.md: after --all-visitors, the clicks of a file imported again are refused, and "only a new
  // visitor's click or conversion makes the next key". A refused command appends nothing and writes no key.
  it('after --all-visitors, importing the clicks again is refused and writes nothing, not even to the key file', async () => {
    expect((await at('2026-12-01T00:00:00.000Z', 'init', '--effective-from', '2025-01-01')).code).toBe(0);
    const file = join(root, 'commands.ndjson');
    writeFileSync(file, `${COMMANDS}\n`);
    expect((await at('2026-12-01T00:00:00.000Z', 'import', file)).code).toBe(0);
    expect((await at(FIRST, 'erase', '--all-visitors', '--requested-by', 'retention:2025')).code).toBe(0);
    const keysBefore = readFileSync(`${store}.keys`);
    const before = await eventsChecked();

    const again = await at('2026-12-05T00:00:00.000Z', 'import', file);
    expect(again.stderr).toContain('line 3: rejected: IDEMPOTENCY_CONFLICT (clickId)');
    expect(again.stderr).toContain('0 applied (0 events), 2 already recorded, 1 rejected');
    expect(again.code).toBe(2);
    // A click whose partner never joined: refused by a rule, before the store.
    const stranger = join(root, 'stranger.ndjson');
    writeFileSync(
      stranger,
      '{"command":"trackClick","clickId":"c-9","partnerId":"nobody","visitorId":"v-1","occurredAt":"2025-01-04T00:00:00Z"}\n',
    );
    expect((await at('2026-12-05T00:00:00.000Z', 'import', stranger)).stderr).toContain('PARTNER_NOT_FOUND');
    expect(readFileSync(`${store}.keys`).equals(keysBefore)).toBe(true);
    expect(await eventsChecked()).toBe(before);

    // A new visitor's click, refused by --atomic because of another line: the rehearsal makes no key either.
    const mixed = join(root, 'mixed.ndjson');
    const newClick =
      '{"command":"trackClick","clickId":"c-2","partnerId":"blog-1","visitorId":"v-10","occurredAt":"2025-01-04T00:00:00Z"}';
    writeFileSync(mixed, `${newClick}\n${readFileSync(stranger, 'utf8')}`);
    const atomic = await at('2026-12-05T00:00:00.000Z', 'import', '--atomic', mixed);
    expect(atomic.stderr).toContain('1 of 2 commands would be refused; nothing was applied');
    expect(readFileSync(`${store}.keys`).equals(keysBefore)).toBe(true);
    expect(await eventsChecked()).toBe(before);

    // The new visitor alone makes the next key.
    writeFileSync(mixed, `${newClick}\n`);
    expect((await at('2026-12-05T00:00:00.000Z', 'import', '--atomic', mixed)).code).toBe(0);
    expect(Object.keys(keyFile().keys).sort()).toEqual(['partner:blog-1', 'visitors.2']);
  });
});
