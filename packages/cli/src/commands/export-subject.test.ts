import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../testing/in-process';

// `export-subject` for an id the ledger never saw answers `"events": []` (true, exit 0) and warns on stderr,
// as a request for access answered with nothing is most often a mistyped id.

const COMMANDS = [
  '{"command":"publishPlan","planId":"p","version":1,"name":"P","currency":"USD","holdDays":0,"effectiveFrom":"2025-01-01T00:00:00Z","rules":[{"kind":"flat","amount":"1.00"}],"occurredAt":"2025-01-01T00:00:00Z"}',
  '{"command":"joinPartner","partnerId":"blog-1","name":"Blog One","partnerType":"affiliate","planId":"p","payoutCurrency":"USD","occurredAt":"2025-01-02T00:00:00Z"}',
  '{"command":"trackClick","clickId":"c-1","partnerId":"blog-1","visitorId":"v-9","occurredAt":"2025-01-03T00:00:00Z"}',
].join('\n');

describe('partner-ledger export-subject', () => {
  let root: string;
  let store: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-export-subject-'));
    store = join(root, 'ledger');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const run = (...args: string[]) => runInProcess([...args, '--store', store]);

  it('warns on stderr when the ledger holds no event about the subject, and keeps stdout the document', async () => {
    expect((await run('init', '--effective-from', '2025-01-01')).code).toBe(0);
    const empty = await run('export-subject', '--visitor', 'v-9');
    expect(empty.code).toBe(0);
    expect(empty.stderr).toBe(
      'partner-ledger: warning: export-subject: the ledger holds no event about visitor "v-9": ' +
        "no visitor has been recorded under the current visitors' key (visitors)\n",
    );
    const file = join(root, 'commands.ndjson');
    writeFileSync(file, `${COMMANDS}\n`);
    expect((await run('import', file)).code).toBe(0);

    const partner = await run('export-subject', '--partner', 'blog-1');
    expect([partner.code, partner.stderr]).toEqual([0, '']);
    expect((JSON.parse(partner.stdout) as { events: unknown[] }).events).toHaveLength(1);
    const visitor = await run('export-subject', '--visitor', 'v-9');
    expect([visitor.code, visitor.stderr]).toEqual([0, '']);

    const typo = await run('export-subject', '--partner', 'blog-l');
    expect(typo.code).toBe(0);
    expect(JSON.parse(typo.stdout)).toEqual({
      subject: { kind: 'partner', id: 'blog-l' },
      key: { keyId: 'partner:blog-l', state: 'missing' },
      events: [],
    });
    expect(typo.stderr).toBe(
      'partner-ledger: warning: export-subject: the ledger holds no event about partner "blog-l"; ' +
        'check the id (a typo is the likely cause)\n',
    );
    const visitorTypo = await run('export-subject', '--visitor', 'v-8');
    expect(visitorTypo.code).toBe(0);
    expect((JSON.parse(visitorTypo.stdout) as { events: unknown[] }).events).toEqual([]);
    expect(visitorTypo.stderr).toBe(
      'partner-ledger: warning: export-subject: the ledger holds no event about visitor "v-8"; ' +
        'check the id (a typo is the likely cause)\n',
    );
  });
});
