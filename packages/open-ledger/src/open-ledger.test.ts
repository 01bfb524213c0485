import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import { createInMemoryStore } from '@partner-ledger/store';
import { openLedger } from './open-ledger';

const program = {
  programId: 'acme',
  name: 'Acme',
  currency: 'USD' as const,
  attribution: {
    model: 'lastTouch' as const,
    clickWindowDays: 30,
    halfLifeDays: 7,
    precedence: ['dealRegistration' as const, 'coupon' as const, 'clicks' as const],
  },
  minimumPayout: '50.00',
  minClickToConversionSeconds: 0,
};

describe('openLedger', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-open-ledger-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('opens the file store in ./.partner-ledger by default, and what it records is there after a reopen', async () => {
    const clock = () => new Date('2026-02-01T00:00:00.000Z');
    const ledger = await openLedger({ cwd: root, clock, ids: () => 'corr-1' });
    expect(
      E.isRight(await ledger.configureProgram({ ...program, occurredAt: '2026-01-01T00:00:00.000Z' })()),
    ).toBe(true);
    await ledger.close();
    expect(existsSync(join(root, '.partner-ledger'))).toBe(true);

    const again = await openLedger({ store: join(root, '.partner-ledger'), clock });
    const repeat = await again.configureProgram({ ...program, occurredAt: '2026-01-01T00:00:00.000Z' })();
    expect(E.isRight(repeat) && repeat.right.alreadyRecorded).toBe(true);
    expect(await again.store.headPosition()).toBe(0);
    await again.close();
  });

  it('refuses a store name given instead of the options object, rather than opening the default store', async () => {
    const empty = mkdtempSync(join(root, 'cwd-'));
    const cwd = process.cwd();
    process.chdir(empty);
    try {
      for (const wrong of ['some-dir', null, 7, ['some-dir']]) {
        const refused = openLedger(wrong as never);
        await expect(refused).rejects.toThrow(TypeError);
        await expect(refused).rejects.toThrow(/an options object such as \{ store: /);
      }
      await expect(openLedger('some-dir' as never)).rejects.toThrow('got the string "some-dir"');
      expect(readdirSync(empty)).toEqual([]); // no ./.partner-ledger, no ./some-dir
    } finally {
      process.chdir(cwd);
    }
  });

  it('uses a store it is given, and leaves it open: the caller owns it', async () => {
    const store = createInMemoryStore();
    const ledger = await openLedger({ store, clock: () => new Date('2026-02-01T00:00:00.000Z') });
    const refused = await ledger.trackClick({ clickId: 'c-1', partnerId: 'nobody', visitorId: 'v-1' })();
    expect(E.isLeft(refused) && refused.left.code).toBe('PARTNER_NOT_FOUND');
    await ledger.close();
    expect(await store.headPosition()).toBe(-1); // still open: this would throw StoreClosedError otherwise
  });
});
