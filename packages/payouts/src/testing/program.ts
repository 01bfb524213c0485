import * as E from 'fp-ts/Either';
import { CATALOGUE, createInMemoryKeyStore, decodeStoredEvent } from '@partner-ledger/events';
import type { EventData, KeyStore } from '@partner-ledger/events';
import {
  createBalanceBook,
  createLedger,
  createPersonalDataOperations,
  eventIdFor,
  streams,
} from '@partner-ledger/ledger';
import type { Ledger, PersonalDataOperations } from '@partner-ledger/ledger';
import { createInMemoryStore, createSealingStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';

// A program for payout tests: a ledger over an in-memory store behind a sealing store with in-memory keys
// (so payee details are sealed as in production and opened as the payout run reads them), one plan per
// currency (10% revenue share, paid at once), and a clock the test moves.

/** The currencies of the test program's plans. */
export const CURRENCIES = ['USD', 'EUR', 'JPY', 'HUF'] as const;
export type TestCurrency = (typeof CURRENCIES)[number];

/** The first day of the simulated month. */
export const MONTH_START = Date.parse('2026-03-01T00:00:00.000Z');
/** The time `days` after the month's start, as the ledger writes times. */
export const day = (days: number): string => new Date(MONTH_START + days * 86_400_000).toISOString();

export type Payee = NonNullable<EventData<'PartnerJoined'>['payee']>;

export interface TestProgram {
  readonly raw: EventStore;
  /** The sealing store: what the ledger writes to, and the payout run reads. */
  readonly store: EventStore;
  readonly keys: KeyStore;
  readonly ledger: Ledger;
  readonly privacy: PersonalDataOperations;
  /** Moves the clock. */
  readonly setNow: (at: string) => void;
  readonly join: (partnerId: string, currency: TestCurrency, payee?: Payee) => Promise<void>;
  /** A conversion of `amount` by the partner's coupon, at `at` (the clock moves there if it is behind). */
  readonly convert: (
    conversionId: string,
    partnerId: string,
    currency: TestCurrency,
    amount: string,
    at: string,
  ) => Promise<void>;
  /** What is payable to the partner in `currency` at `at`, by the ledger's rules, read from the store. */
  readonly payable: (partnerId: string, currency: string, at: string) => Promise<string>;
  /**
   * Many partners at once, each with a credit of `amount`, appended straight to the store (sealed as the
   * ledger would): the thousands of payees of a big run, without deciding each join.
   */
  readonly bulk: (
    partners: ReadonlyArray<{ partnerId: string; currency: TestCurrency; payee: Payee; amount: string }>,
    at: string,
  ) => Promise<void>;
}

/**
 * A reconciliation's summary as a test expects it: the counts given (others 0), the pending results given
 * (and their count), no notes.
 */
export const reconciled = (
  counts: Partial<Record<'confirmed' | 'failed' | 'returned' | 'alreadyRecorded', number>>,
  pendingResults: readonly { where: string; payoutId: string | undefined; status: string }[] = [],
) =>
  E.right({
    confirmed: 0,
    failed: 0,
    returned: 0,
    alreadyRecorded: 0,
    ...counts,
    pending: pendingResults.length,
    pendingResults,
    notes: [],
  });

const ok = async <T>(task: () => Promise<E.Either<{ code: string; message: string }, T>>): Promise<T> => {
  const result = await task();
  if (E.isLeft(result)) throw new Error(`${result.left.code}: ${result.left.message}`);
  return result.right;
};

export const createTestProgram = async (minimumPayout = '50.00'): Promise<TestProgram> => {
  const raw = createInMemoryStore();
  let counter = 0;
  const keys = createInMemoryKeyStore({
    random: (n) => {
      counter += 1;
      return Buffer.alloc(n, counter % 256);
    },
  });
  const store = createSealingStore(raw, keys);
  let now = day(0);
  const clock = () => new Date(now);
  let ids = 0;
  const ledger = createLedger({ store, clock, ids: () => `id-${(ids += 1)}`, actor: 'service:test' });
  const privacy = createPersonalDataOperations({ store, keys, clock, actor: 'service:test' });
  await ok(
    ledger.configureProgram({
      programId: 'acme',
      name: 'Acme partners',
      currency: 'USD',
      attribution: {
        model: 'lastTouch',
        clickWindowDays: 30,
        halfLifeDays: 7,
        precedence: ['coupon', 'clicks'],
      },
      minimumPayout,
      minClickToConversionSeconds: 0,
      occurredAt: day(-30),
    }),
  );
  for (const currency of CURRENCIES)
    await ok(
      ledger.publishPlan({
        planId: `plan-${currency}`,
        version: 1,
        name: `Standard ${currency}`,
        currency,
        holdDays: 0,
        effectiveFrom: day(-30),
        rules: [{ kind: 'revenueShare', rate: '0.1' }],
        occurredAt: day(-30),
      }),
    );
  const joinData = (
    partnerId: string,
    currency: TestCurrency,
    payee?: Payee,
  ): EventData<'PartnerJoined'> => ({
    partnerId,
    name: `Partner ${partnerId}`,
    partnerType: 'affiliate',
    planId: `plan-${currency}`,
    parentPartnerId: null,
    payoutCurrency: currency,
    couponCodes: [`C-${partnerId}`],
    ownAccountIds: [],
    ...(payee === undefined ? {} : { payee }),
  });
  return {
    raw,
    store,
    keys,
    ledger,
    privacy,
    setNow: (at) => {
      now = at;
    },
    join: async (partnerId, currency, payee) => {
      const {
        couponCodes,
        ownAccountIds,
        parentPartnerId: _p,
        ...rest
      } = joinData(partnerId, currency, payee);
      await ok(ledger.joinPartner({ ...rest, couponCodes, ownAccountIds, occurredAt: day(-20) }));
    },
    convert: async (conversionId, partnerId, currency, amount, at) => {
      if (at > now) now = at;
      await ok(
        ledger.recordConversion({
          conversionId,
          customerId: `cust-${conversionId}`,
          kind: 'order',
          amount,
          currency,
          couponCode: `C-${partnerId}`,
          occurredAt: at,
        }),
      );
    },
    payable: async (partnerId, currency, at) => {
      const book = createBalanceBook();
      for await (const event of store.readAll()) book.apply(decodeStoredEvent(event));
      return book.payable(partnerId, currency, at).toFixed();
    },
    bulk: async (partners, at) => {
      for (const { partnerId, currency, payee, amount } of partners) {
        const envelope = {
          occurredAt: at,
          recordedAt: at,
          actor: 'service:test',
          correlationId: 'bulk',
          causationId: null,
        };
        await store.append(streams.partner(partnerId), [
          {
            id: eventIdFor('PartnerJoined', partnerId),
            type: 'PartnerJoined',
            schemaVersion: CATALOGUE.PartnerJoined.schemaVersion,
            data: joinData(partnerId, currency, payee),
            ...envelope,
          },
        ]);
        const adjustmentId = `credit-${partnerId}`;
        await store.append(streams.balance(partnerId), [
          {
            id: eventIdFor('ManualAdjustmentRecorded', adjustmentId),
            type: 'ManualAdjustmentRecorded',
            schemaVersion: CATALOGUE.ManualAdjustmentRecorded.schemaVersion,
            data: { adjustmentId, partnerId, amount, currency, reason: 'opening balance' },
            ...envelope,
          },
        ]);
      }
    },
  };
};
