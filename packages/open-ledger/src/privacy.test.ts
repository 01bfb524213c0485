import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import { SealedValueError, createInMemoryKeyStore } from '@partner-ledger/events';
import { createInMemoryStore, createSealingStore, verifyStore } from '@partner-ledger/store';
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

  it('a retried change of contact details, sent through two ledgers on one sealed store, is recorded once', async () => {
    // One store shared by two ledgers (as two processes share a PostgreSQL store), each with its own key file
    // reader of one key file.
    const shared = createInMemoryStore();
    const keyFile = join(root, 'retry.keys');
    await createKeyFile(keyFile);
    const open = () =>
      openLedger({ store: shared, keys: keyFile, cwd: root, clock: () => new Date('2026-12-01T00:00:00Z') });
    const first = await open();
    await first.configureProgram({
      programId: 'p',
      name: 'P',
      currency: 'USD',
      attribution: { model: 'lastTouch', clickWindowDays: 30, halfLifeDays: 7, precedence: ['clicks'] },
      minimumPayout: '10.00',
      minClickToConversionSeconds: 0,
    })();
    await first.publishPlan({
      planId: 's',
      version: 1,
      name: 'S',
      currency: 'USD',
      holdDays: 0,
      effectiveFrom: '2025-01-01T00:00:00Z',
      rules: [{ kind: 'revenueShare', rate: '0.1' }],
    })();
    await first.joinPartner({
      partnerId: 'b',
      name: 'Bo',
      partnerType: 'affiliate',
      planId: 's',
      payoutCurrency: 'USD',
    })();
    const second = await open();
    const change = {
      partnerId: 'b',
      contactEmail: 'bo@mail.example',
      payee: { method: 'paypal' as const, email: 'bo.pay@mail.example' },
    };
    const results = await Promise.all([
      first.changePartnerContactDetails(change)(),
      second.changePartnerContactDetails(change)(),
      first.changePartnerContactDetails(change)(),
      second.changePartnerContactDetails(change)(),
    ]);
    expect(results.every(E.isRight)).toBe(true);
    expect(results.filter((r) => E.isRight(r) && !r.right.alreadyRecorded)).toHaveLength(1);
    await expect(second.changePartnerContactDetails(change)()).resolves.toMatchObject({
      right: { alreadyRecorded: true, events: [{ data: { contactEmail: 'bo@mail.example' } }] },
    });
    const stored: unknown[] = [];
    for await (const event of first.sealedStore.readStream('partner-b'))
      if (event.type === 'PartnerContactDetailsChanged') stored.push(event.data);
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain('bo@mail.example'); // sealed as stored
    await first.close();
    await second.close();
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
