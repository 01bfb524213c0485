import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import { SealedValueError, createInMemoryKeyStore } from '@partner-ledger/events';
import { createSealingStore, verifyStore } from '@partner-ledger/store';
import { openLedger } from './open-ledger';
import { createKeyFile, openKeyFile } from './key-file';

const bytesUnder = (path: string): Buffer =>
  statSync(path).isDirectory()
    ? Buffer.concat(readdirSync(path).map((name) => bytesUnder(join(path, name))))
    : readFileSync(path);

describe('openLedger with keys', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-open-privacy-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('seals, pseudonymizes, erases; the store beneath verifies without a key', async () => {
    const directory = join(root, 'books');
    await createKeyFile(`${directory}.keys`);
    const ledger = await openLedger({
      store: directory,
      cwd: root,
      clock: () => new Date('2026-12-01T00:00:00Z'),
    });
    expect(ledger.keys).toBeDefined();
    const run = async (task: () => Promise<E.Either<unknown, unknown>>) =>
      expect(E.isRight(await task())).toBe(true);
    await run(
      ledger.configureProgram({
        programId: 'p',
        name: 'P',
        currency: 'USD',
        attribution: { model: 'lastTouch', clickWindowDays: 30, halfLifeDays: 7, precedence: ['clicks'] },
        minimumPayout: '10.00',
        minClickToConversionSeconds: 0,
      }),
    );
    await run(
      ledger.publishPlan({
        planId: 's',
        version: 1,
        name: 'S',
        currency: 'USD',
        holdDays: 0,
        effectiveFrom: '2025-01-01T00:00:00Z',
        rules: [{ kind: 'revenueShare', rate: '0.1' }],
      }),
    );
    await run(
      ledger.joinPartner({
        partnerId: 'ana',
        name: 'Ana Bergström-Okafor',
        partnerType: 'affiliate',
        planId: 's',
        payoutCurrency: 'USD',
        payee: { method: 'paypal', email: 'ana.pay@example.net' },
      }),
    );
    // A retried join is recognised: sealing is deterministic.
    const again = await ledger.joinPartner({
      partnerId: 'ana',
      name: 'Ana Bergström-Okafor',
      partnerType: 'affiliate',
      planId: 's',
      payoutCurrency: 'USD',
      payee: { method: 'paypal', email: 'ana.pay@example.net' },
    })();
    expect(E.isRight(again) && again.right.alreadyRecorded).toBe(true);
    const click = await ledger.trackClick({ clickId: 'c', partnerId: 'ana', visitorId: 'raw-visitor-991' })();
    expect(E.isRight(click) && click.right.stream).toMatch(/^visitor-vp-[0-9a-f]{32}$/);

    const erased = await ledger.erasePersonalData({
      subject: { kind: 'partner', id: 'ana' },
      requestedBy: 'ticket:1',
      reason: 'request',
    })();
    expect(E.isRight(erased)).toBe(true);
    const exported = await ledger.exportSubject({ kind: 'partner', id: 'ana' });
    expect(exported.key?.state).toBe('erased');
    expect(exported.events[0]?.data).toMatchObject({
      name: '[erased]',
      payee: { method: 'paypal', email: '[erased]' },
    });
    expect((await verifyStore(ledger.sealedStore)).ok).toBe(true);
    const another = await ledger.joinPartner({
      partnerId: 'ana2',
      name: 'x',
      partnerType: 'affiliate',
      planId: 's',
      payoutCurrency: 'USD',
    })();
    expect(E.isRight(another)).toBe(true); // other partners still join, with their own keys
    await ledger.close();
    const bytes = bytesUnder(directory);
    for (const plain of ['Ana Bergström-Okafor', 'ana.pay@example.net', 'raw-visitor-991'])
      expect([plain, bytes.includes(Buffer.from(plain))]).toEqual([plain, false]);
    await expect((await openKeyFile(`${directory}.keys`)).get('partner:ana')).resolves.toMatchObject({
      state: 'erased',
    });
  });

  it('a wrong key is an error naming the key, never garbage', async () => {
    const directory = join(root, 'wrong');
    const ledger = await openLedger({ store: directory, cwd: root, keys: createInMemoryKeyStore() });
    await ledger.configureProgram({
      programId: 'p',
      name: 'P',
      currency: 'USD',
      attribution: { model: 'lastTouch', clickWindowDays: 30, halfLifeDays: 7, precedence: ['clicks'] },
      minimumPayout: '10.00',
      minClickToConversionSeconds: 0,
    })();
    await ledger.publishPlan({
      planId: 's',
      version: 1,
      name: 'S',
      currency: 'USD',
      holdDays: 0,
      effectiveFrom: '2025-01-01T00:00:00Z',
      rules: [{ kind: 'revenueShare', rate: '0.1' }],
    })();
    await ledger.joinPartner({
      partnerId: 'b',
      name: 'Bo',
      partnerType: 'affiliate',
      planId: 's',
      payoutCurrency: 'USD',
    })();
    const other = createInMemoryKeyStore();
    await other.getOrCreate('partner:b');
    const read = async () => {
      for await (const event of createSealingStore(ledger.sealedStore, other).readStream('partner-b'))
        void event;
    };
    await expect(read()).rejects.toThrow(SealedValueError);
    await expect(read()).rejects.toThrow(/key "partner:b"/);
    const noKey = createSealingStore(ledger.sealedStore, createInMemoryKeyStore());
    for await (const event of noKey.readStream('partner-b'))
      expect(event.data).toMatchObject({ name: '[sealed]' });
    await ledger.close();
  });
});
