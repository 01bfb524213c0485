import * as E from 'fp-ts/Either';
import { decodeStoredEvent } from '@partner-ledger/events';
import type { LedgerEvent } from '@partner-ledger/events';
import type { EventStore } from '@partner-ledger/store';
import { createLedger } from '../ledger';
import type { Ledger } from '../ledger';
import { streams } from '../naming';
import { basicProgram, clickTracked, conversionAttributed, programConfigured } from './fixtures';
import { describeRaces } from './races';
import type { RaceOptions } from './races';
import { SPEC_NOW, appendGiven } from './spec';

/**
 * The ledger's concurrency guarantees, as a suite any store can run: each test starts writers in parallel,
 * through two ledger instances on the same store (two processes, each with its own in-memory view and
 * lock, so only the store's expected-revision checks keep them apart) and within each instance.
 *
 *   ledgerConcurrencySuite('file store', async () => createFileStore(await mkdtemp(...)))
 *
 * `closeStore` runs after each test (default: store.close()). It also runs the seeded races of ./races
 * (payout against reversal, hold, payout; two reversals; release against reject; conversions against a
 * period cap and a tier), many trials each, with the checks `raceOptions` adds.
 */
export const ledgerConcurrencySuite = (
  name: string,
  makeStore: () => EventStore | Promise<EventStore>,
  closeStore: (store: EventStore) => Promise<void> = (store) => store.close(),
  raceOptions: RaceOptions = {},
): void => {
  describeRaces(name, makeStore, closeStore, raceOptions);
  describe(`ledger concurrency on ${name}`, () => {
    let store: EventStore;
    let ledgers: Ledger[];

    beforeEach(async () => {
      store = await makeStore();
      let n = 0;
      const make = () =>
        createLedger({ store, clock: () => new Date(SPEC_NOW), ids: () => `corr-${(n += 1)}`, retries: 20 });
      ledgers = [make(), make()];
    });
    afterEach(() => closeStore(store));

    const streamEvents = async (stream: string): Promise<LedgerEvent[]> => {
      const events: LedgerEvent[] = [];
      for await (const event of store.readStream(stream)) events.push(decodeStoredEvent(event));
      return events;
    };
    /** Runs the commands all at once, alternating between the two ledgers. */
    const inParallel = (commands: readonly Record<string, unknown>[]) =>
      Promise.all(commands.map((command, i) => ledgers[i % ledgers.length]!.execute(command)()));

    it('parallel payouts for one partner never overdraw its payable balance', async () => {
      await appendGiven(store, [
        ...basicProgram('p1'),
        programConfigured({ minimumPayout: '10.00' }),
        conversionAttributed({
          conversionId: 'o1',
          partnerId: 'p1',
          amount: '300.00',
          commission: '60.00',
          payableAt: '2026-02-01T00:00:00.000Z',
        }),
        conversionAttributed({
          conversionId: 'o2',
          partnerId: 'p1',
          amount: '200.00',
          commission: '40.00',
          payableAt: '2026-02-02T00:00:00.000Z',
        }),
      ]);
      const results = await inParallel(
        Array.from({ length: 10 }, (_, i) => ({
          command: 'issuePayout',
          payoutId: `pay-${i}`,
          partnerId: 'p1',
          amount: '30.00',
          currency: 'USD',
          method: 'wise',
        })),
      );
      const issued = (await streamEvents(streams.balance('p1'))).filter((e) => e.type === 'PayoutIssued');
      // 100.00 payable: three payouts of 30.00 fit, a fourth would overdraw.
      expect(issued).toHaveLength(3);
      expect(results.filter(E.isRight)).toHaveLength(3);
      expect(results.filter(E.isLeft).map((r) => r.left.code)).toEqual(
        Array(7).fill('PAYOUT_EXCEEDS_PAYABLE'),
      );
      const settledPerLine = new Map<string, number>();
      for (const event of issued)
        if (event.type === 'PayoutIssued')
          for (const item of event.data.settles)
            settledPerLine.set(
              item.id,
              (settledPerLine.get(item.id) ?? 0) + Math.round(Number(item.amount) * 100),
            );
      expect(settledPerLine.get('o1/p1/0')).toBe(6000);
      expect(settledPerLine.get('o2/p1/0')).toBe(3000);
    });

    it('the same payout sent twice in parallel is issued once, both get its result', async () => {
      await appendGiven(store, [
        ...basicProgram('p1'),
        conversionAttributed({
          conversionId: 'o1',
          partnerId: 'p1',
          amount: '500.00',
          commission: '100.00',
          payableAt: '2026-02-01T00:00:00.000Z',
        }),
      ]);
      const command = {
        command: 'issuePayout',
        payoutId: 'pay-1',
        partnerId: 'p1',
        amount: '60.00',
        currency: 'USD',
        method: 'wise',
        occurredAt: SPEC_NOW,
      };
      const results = await inParallel([command, command, command]);
      expect(results.every(E.isRight)).toBe(true);
      const issued = (await streamEvents(streams.balance('p1'))).filter((e) => e.type === 'PayoutIssued');
      expect(issued).toHaveLength(1);
      for (const result of results)
        if (E.isRight(result)) expect(result.right.events[0]!.id).toBe(issued[0]!.id);
    });

    it('two registrations of one account in parallel: one is recorded, the other names the holder', async () => {
      await appendGiven(store, basicProgram('reseller', 'agency'));
      const register = {
        command: 'registerDeal',
        accountId: 'acme.com',
        expectedValue: '1000.00',
        currency: 'USD',
        expiresAt: '2026-06-01T00:00:00.000Z',
      };
      const results = await inParallel([
        { ...register, registrationId: 'r1', partnerId: 'reseller' },
        { ...register, registrationId: 'r2', partnerId: 'agency' },
      ]);
      expect(results.filter(E.isRight)).toHaveLength(1);
      const refused = results.find(E.isLeft);
      expect(refused).toMatchObject({
        left: { code: 'REGISTRATION_CONFLICT', rule: 'oneActiveRegistrationPerAccount' },
      });
      const registered = (await streamEvents(streams.account('acme.com'))).filter(
        (e) => e.type === 'DealRegistered',
      );
      expect(registered).toHaveLength(1);
      const holder = registered[0]!.type === 'DealRegistered' ? registered[0]!.data.partnerId : '';
      expect(refused && E.isLeft(refused) && refused.left.message).toContain(JSON.stringify(holder));
    });

    it('the same change of contact details sent in parallel through both ledgers is recorded once', async () => {
      await appendGiven(store, basicProgram('p1'));
      const change = {
        command: 'changePartnerContactDetails',
        partnerId: 'p1',
        contactEmail: 'new@blog.example',
        payee: { method: 'paypal', email: 'pay@blog.example' },
      };
      // Without an identity (a retry of the last change), by requestId, and by occurredAt.
      for (const command of [
        change,
        { ...change, taxId: 'FR-1', requestId: 'crm-7' },
        { ...change, taxId: 'FR-2', occurredAt: '2026-03-15T11:00:00.000Z' },
      ]) {
        const results = await inParallel([command, command, command, command]);
        expect(results.every(E.isRight)).toBe(true);
        expect(results.filter((r) => E.isRight(r) && !r.right.alreadyRecorded)).toHaveLength(1);
        const changes = (await streamEvents(streams.partner('p1'))).filter(
          (e) => e.type === 'PartnerContactDetailsChanged',
        );
        const last = changes[changes.length - 1]!;
        for (const result of results) if (E.isRight(result)) expect(result.right.events[0]!.id).toBe(last.id);
        // Sent again later, through either ledger: already recorded, nothing appended.
        for (const ledger of ledgers)
          expect(await ledger.execute(command)()).toMatchObject({ right: { alreadyRecorded: true } });
      }
      const changes = (await streamEvents(streams.partner('p1'))).filter(
        (e) => e.type === 'PartnerContactDetailsChanged',
      );
      expect(changes).toHaveLength(3);
    });

    it('the same conversion recorded twice in parallel is attributed once', async () => {
      await appendGiven(store, [
        ...basicProgram('p1'),
        clickTracked('c1', 'p1', 'v1', '2026-03-14T00:00:00.000Z'),
      ]);
      const command = {
        command: 'recordConversion',
        conversionId: 'o1',
        customerId: 'cust-1',
        visitorId: 'v1',
        kind: 'order',
        amount: '100.00',
        currency: 'USD',
        occurredAt: '2026-03-15T10:00:00.000Z',
      };
      const results = await inParallel([command, command, command, command]);
      expect(results.every(E.isRight)).toBe(true);
      const firsts = results.filter((r) => E.isRight(r) && !r.right.alreadyRecorded);
      expect(firsts).toHaveLength(1);
      const events = await streamEvents(streams.conversion('o1'));
      expect(events.map((e) => e.type)).toEqual(['ConversionAttributed']);
      for (const result of results)
        if (E.isRight(result)) expect(result.right.events[0]!.id).toBe(events[0]!.id);
    });

    it('the same conversion id with other content in parallel is attributed once, the other rejected', async () => {
      await appendGiven(store, basicProgram('p1'));
      const command = {
        command: 'recordConversion',
        conversionId: 'o1',
        customerId: 'cust-1',
        kind: 'order',
        amount: '100.00',
        currency: 'USD',
        occurredAt: '2026-03-15T10:00:00.000Z',
      };
      const results = await inParallel([command, { ...command, amount: '200.00' }]);
      expect(results.filter(E.isRight)).toHaveLength(1);
      expect(results.filter(E.isLeft).map((r) => r.left.code)).toEqual(['IDEMPOTENCY_CONFLICT']);
      expect(await streamEvents(streams.conversion('o1'))).toHaveLength(1);
    });

    it('a double reversal reverses once', async () => {
      await appendGiven(store, [
        ...basicProgram('p1'),
        conversionAttributed({
          conversionId: 'o1',
          partnerId: 'p1',
          amount: '100.00',
          commission: '20.00',
          payableAt: '2026-04-01T00:00:00.000Z',
        }),
      ]);
      const reverse = { command: 'reverseConversion', conversionId: 'o1', kind: 'chargeback' };
      const results = await inParallel([
        { ...reverse, reversalId: 'rev-a' },
        { ...reverse, reversalId: 'rev-b' },
        { ...reverse, reversalId: 'rev-a' },
        { ...reverse, reversalId: 'rev-b' },
      ]);
      const reversed = (await streamEvents(streams.conversion('o1'))).filter(
        (e) => e.type === 'ConversionReversed',
      );
      expect(reversed).toHaveLength(1);
      expect(reversed[0]!.data).toMatchObject({ amount: '100.00', lines: [{ amount: '20.00' }] });
      const winner = reversed[0]!.type === 'ConversionReversed' ? reversed[0]!.data.reversalId : '';
      for (const [i, result] of results.entries()) {
        const id = i % 2 === 0 ? 'rev-a' : 'rev-b';
        if (id === winner) expect(E.isRight(result)).toBe(true);
        else expect(result).toMatchObject({ left: { code: 'NOTHING_LEFT_TO_REVERSE' } });
      }
    });
  });
};
