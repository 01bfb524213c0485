import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import { openLedger, openStore, simulate } from '@partner-ledger/cli';
import { audit, balancesAsOf, saveClose } from './audit';

describe('the auditor', () => {
  let directory: string;
  const spec = () => ({ kind: 'file' as const, directory });
  const closeAt = '2026-02-28T23:59:59.999Z';
  const reportedAt = '2026-03-02T00:00:00.000Z';

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'pl-auditor-'));
    const store = await openStore(spec());
    const summary = await simulate(store, { partners: 10, events: 700, seed: 'audit', days: 60 });
    expect(summary.rejected).toEqual({});
    await store.close();
  });

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('replays the close as reported, verifies, and matches the digest saved then, after later facts', async () => {
    const store = await openStore(spec());
    const saved = await saveClose(store);
    const reported = await balancesAsOf(store, closeAt, reportedAt);
    // Later, a late correction for February is recorded: effective in February, known only after the report.
    const ledger = await openLedger({ store, clock: () => new Date('2026-03-10T00:00:00.000Z') });
    const adjustment = await ledger.recordManualAdjustment({
      adjustmentId: 'late-fix-1',
      partnerId: 'affiliate-0001',
      amount: '-12.34',
      currency: 'USD',
      reason: 'duplicate bonus in February',
      actor: 'user:controller@vendor.example',
      occurredAt: '2026-02-20T00:00:00.000Z',
    })();
    expect(E.isRight(adjustment)).toBe(true);

    const report = await audit(store, { asOf: closeAt, knownAt: reportedAt, saved });
    expect(report.ok).toBe(true);
    expect(report.verify.eventsChecked).toBe(saved.headPosition + 2);
    expect(report.close).toEqual({ same: true, position: saved.headPosition });
    expect(report.balancesThen).toBe(reported); // the report as it was, byte for byte
    expect(await balancesAsOf(store, closeAt, '2026-03-11T00:00:00.000Z')).not.toBe(reported); // as known now
    await store.close();
  });

  it('sees a changed amount: verify names the event and the digest no longer matches', async () => {
    const store = await openStore(spec());
    const saved = await saveClose(store);
    await store.close();
    const segments = join(directory, 'segments');
    const file = join(segments, readdirSync(segments).sort()[0]!);
    const bytes = readFileSync(file);
    const at = bytes.indexOf('"amount":"', bytes.length / 2) + '"amount":"'.length;
    bytes[at] = bytes[at] === 0x39 ? 0x38 : bytes[at]! + 1; // one digit of an amount
    writeFileSync(file, bytes);

    const damaged = await openStore(spec(), { readOnly: true, tolerateDamage: true });
    const report = await audit(damaged, { asOf: closeAt, knownAt: reportedAt, saved }).catch(
      (error: Error) => error,
    );
    await damaged.close();
    if (report instanceof Error) throw report;
    expect(report.ok).toBe(false);
    expect(report.verify.ok).toBe(false);
    expect(report.verify.firstProblem?.eventId).toEqual(expect.any(String));
    expect(report.close).toMatchObject({ same: false });
  });
});

// The README's commands are run as written by packages/events/src/examples-readme.test.ts.
describe('a missing close', () => {
  const here = join(__dirname, '..');
  beforeEach(() => rmSync(join(here, 'close.json'), { force: true }));

  it('says how to make close.json when it is missing', () => {
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, ['dist/main.js', 'close.json', '2026-02-28', '2026-03-02T00:00:00Z'], {
        cwd: here,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      failure = error as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(2);
    expect(failure?.stderr).toContain('verify --format json > close.json');
    expect(failure?.stderr).not.toContain('ENOENT');
  });
});
