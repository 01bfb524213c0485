import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from './testing/in-process';

// A refused click or conversion writes nothing to the key file: the visitors' key it would need is made in
// memory and written only before an append (docs/privacy.md). Writing it and then removing it again left the
// file rewritten twice for nothing, and a crash in between left a key that nothing needs; so the file must
// be not only byte-identical afterwards but never rewritten (each write renames a new file into place).

const PLAN =
  '{"command":"publishPlan","planId":"p","version":1,"name":"P","currency":"USD","holdDays":0,"effectiveFrom":"2025-01-01T00:00:00Z","rules":[{"kind":"flat","amount":"1.00"}],"occurredAt":"2025-01-01T00:00:00Z"}';
const JOIN =
  '{"command":"joinPartner","partnerId":"blog-1","name":"Blog One","partnerType":"affiliate","planId":"p","payoutCurrency":"USD","occurredAt":"2025-01-02T00:00:00Z"}';

describe('the key file and refused commands', () => {
  let root: string;
  let store: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-key-writes-'));
    store = join(root, 'ledger');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const run = async (...args: string[]) => runInProcess([...args, '--store', store]);
  const importLines = async (...lines: string[]) => {
    const file = join(root, `commands-${Math.random().toString(36).slice(2)}.ndjson`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return run('import', file);
  };
  /** The key file's bytes, and what changes when it is written anew (a new file renamed over it). */
  const keyFileNow = () => {
    const info = statSync(`${store}.keys`);
    return { bytes: readFileSync(`${store}.keys`), inode: info.ino, modified: info.mtimeMs };
  };
  const keyIds = (): string[] =>
    Object.keys((JSON.parse(readFileSync(`${store}.keys`, 'utf8')) as { keys: object }).keys).sort();

  it.each([
    [
      'a first click whose partner has not joined',
      '{"command":"trackClick","clickId":"c-1","partnerId":"nobody","visitorId":"v-1","occurredAt":"2025-01-03T00:00:00Z"}',
      'PARTNER_NOT_FOUND',
    ],
    [
      'a first conversion with a visitor, its id recorded before without one',
      '{"command":"recordConversion","conversionId":"o-1","customerId":"k-1","kind":"order","amount":"10.00","currency":"USD","visitorId":"v-1","occurredAt":"2025-01-04T00:00:00Z"}',
      'IDEMPOTENCY_CONFLICT',
    ],
  ])('%s: refused, the key file is not even rewritten', async (_, line, code) => {
    expect((await run('init', '--effective-from', '2025-01-01')).code).toBe(0);
    // o-1 without a visitor: no visitors' key is needed for it.
    const o1 =
      '{"command":"recordConversion","conversionId":"o-1","customerId":"k-1","kind":"order","amount":"10.00","currency":"USD","occurredAt":"2025-01-04T00:00:00Z"}';
    expect((await importLines(PLAN, JOIN, o1)).code).toBe(0);
    // The partner's key only: no visitor was recorded yet, so the visitors' key was never made.
    expect(keyIds()).toEqual(['partner:blog-1']);
    const before = keyFileNow();

    const refused = await importLines(line);
    expect(refused.stderr).toContain(code);
    expect(refused.stderr).toContain('0 applied (0 events)');
    expect(refused.code).toBe(2);
    expect(keyFileNow()).toEqual(before);

    // The same visitor's click, accepted: its key is made and written (before its event was appended).
    const accepted = await importLines(
      '{"command":"trackClick","clickId":"c-2","partnerId":"blog-1","visitorId":"v-1","occurredAt":"2025-01-03T00:00:00Z"}',
    );
    expect(accepted.stderr).toContain('1 applied (1 event)');
    expect(keyIds()).toEqual(['partner:blog-1', 'visitors']);
    expect((await run('verify')).code).toBe(0);
  });
});
