import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as E from 'fp-ts/Either';
import Stripe from 'stripe';
import { LedgerDecimal, decodeStoredEvent } from '@partner-ledger/events';
import { createLedger } from '@partner-ledger/ledger';
import type { Ledger } from '@partner-ledger/ledger';
import { createInMemoryStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { createStripeIntake } from '../intake';
import type { StripeIntakeOptions } from '../intake';
import type { StripeLookups } from '../lookups';
import { createStripeWebhookHandler } from '../webhook';
import { T0 } from './payloads';

// A ledger with a program, a plan and two partners, behind the webhook endpoint on a real server on
// 127.0.0.1, and a sender that signs payloads as Stripe does and delivers them again until they are taken.

export const SECRET = 'whsec_test_partner_ledger';
/** The webhook's clock: a day after the fixtures' events. */
export const NOW = new Date((T0 + 90 * 86_400) * 1000);

/** Rates into USD, for conversions in other currencies (the plan is in USD). */
const RATES: Record<string, string> = {
  EUR: '1.08',
  JPY: '0.0067',
  BHD: '2.65',
  ISK: '0.0072',
  UGX: '0.00027',
  MGA: '0.00022',
  KWD: '3.25',
};

/** Recorded answers of Stripe's API: the promotion codes and invoice discounts the fixtures use. */
export const recordedLookups = (
  asked: string[] = [],
  answers: { codes?: Record<string, string>; invoices?: Record<string, string[]> } = {},
): StripeLookups => ({
  promotionCodeText: async (id) => {
    asked.push(`promotionCode ${id}`);
    return (answers.codes ?? { promo_alice: 'ALICE10' })[id] ?? null;
  },
  invoicePromotionCodes: async (id) => {
    asked.push(`invoice ${id}`);
    return (answers.invoices ?? {})[id] ?? [];
  },
  invoiceOfPaymentIntent: async () => null,
});

export interface Harness {
  readonly store: EventStore;
  readonly ledger: Ledger;
  readonly url: string;
  /** Posts a body with a signature header; answers the status and the parsed body. */
  readonly post: (
    body: string,
    signature?: string,
  ) => Promise<{ status: number; body: Record<string, unknown> }>;
  /** Signs and posts an event once. */
  readonly send: (event: Stripe.Event) => Promise<{ status: number; body: Record<string, unknown> }>;
  /** Delivers events in order, then again every one not answered 2xx, as Stripe retries, until all are. */
  readonly deliver: (events: readonly Stripe.Event[], rounds?: number) => Promise<number[]>;
  /** Each partner's commission balance by currency, from the stored events: lines - reversals + adjustments. */
  readonly balances: () => Promise<Record<string, string>>;
  readonly close: () => Promise<void>;
}

const run = async <T>(task: () => Promise<E.Either<{ code: string; message: string }, T>>): Promise<T> => {
  const result = await task();
  if (E.isLeft(result)) throw new Error(`${result.left.code}: ${result.left.message}`);
  return result.right;
};

export const startHarness = async (
  options: Partial<Omit<StripeIntakeOptions, 'ledger' | 'store'>> & { store?: EventStore } = {},
): Promise<Harness> => {
  const store = options.store ?? createInMemoryStore();
  const ledger = createLedger({
    store,
    clock: () => NOW,
    ids: (() => {
      let n = 0;
      return () => `id-${++n}`;
    })(),
  });
  const at = (days: number) => new Date((T0 + days * 86_400) * 1000).toISOString();
  await run(
    ledger.configureProgram({
      programId: 'acme',
      name: 'Acme partners',
      currency: 'USD',
      attribution: {
        model: 'lastTouch',
        clickWindowDays: 30,
        halfLifeDays: 7,
        precedence: ['dealRegistration', 'coupon', 'clicks'],
      },
      minimumPayout: '50.00',
      minClickToConversionSeconds: 10,
      occurredAt: at(-60),
    }),
  );
  await run(
    ledger.publishPlan({
      planId: 'standard',
      version: 1,
      name: 'Standard',
      currency: 'USD',
      holdDays: 30,
      effectiveFrom: at(-60),
      rules: [{ kind: 'revenueShare', rate: '0.2' }],
      occurredAt: at(-60),
    }),
  );
  for (const partnerId of ['alice', 'bob'])
    await run(
      ledger.joinPartner({
        partnerId,
        name: partnerId,
        partnerType: 'affiliate',
        planId: 'standard',
        payoutCurrency: 'USD',
        couponCodes: partnerId === 'alice' ? ['ALICE10'] : [],
        occurredAt: at(-50),
      }),
    );
  await run(
    ledger.trackClick({ clickId: 'click-bob', partnerId: 'bob', visitorId: 'v-bob', occurredAt: at(-1) }),
  );
  const intake = createStripeIntake({
    lookups: recordedLookups(),
    fx: async ({ currency, occurredAt }) =>
      currency === 'USD'
        ? []
        : [{ from: currency, to: 'USD', rate: RATES[currency]!, source: 'test', date: occurredAt }],
    ...options,
    ledger,
    store,
  });
  const handler = createStripeWebhookHandler({
    intake,
    webhooks: Stripe.webhooks,
    endpointSecret: SECRET,
    clock: () => NOW,
  });
  const server: Server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stripe/webhook`;
  const post = async (body: string, signature?: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signature === undefined ? {} : { 'stripe-signature': signature }),
      },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const send = (event: Stripe.Event) => {
    const body = JSON.stringify(event);
    const signature = Stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret: SECRET,
      timestamp: Math.floor(NOW.getTime() / 1000),
    });
    return post(body, signature);
  };
  const deliver = async (events: readonly Stripe.Event[], rounds = 5) => {
    const statuses: number[] = [];
    let pending = [...events];
    for (let round = 0; round < rounds && pending.length > 0; round++) {
      const again: Stripe.Event[] = [];
      for (const event of pending) {
        const { status } = await send(event);
        statuses.push(status);
        if (status < 200 || status > 299) again.push(event);
      }
      pending = again;
    }
    if (pending.length > 0) throw new Error(`never taken: ${pending.map((e) => e.id).join(', ')}`);
    return statuses;
  };
  const balances = async () => {
    const sums = new Map<string, LedgerDecimal>();
    const add = (partnerId: string, currency: string, amount: string | LedgerDecimal) => {
      const key = `${partnerId} ${currency}`;
      sums.set(key, (sums.get(key) ?? new LedgerDecimal(0)).plus(amount));
    };
    for await (const stored of store.readAll()) {
      const event = decodeStoredEvent(stored);
      if (event.type === 'ConversionAttributed')
        for (const line of event.data.commissions) add(line.partnerId, line.currency, line.amount);
      else if (event.type === 'ConversionReversed')
        for (const line of event.data.lines)
          add(line.partnerId, line.currency, new LedgerDecimal(line.amount).neg());
      else if (event.type === 'ManualAdjustmentRecorded')
        add(event.data.partnerId, event.data.currency, event.data.amount);
    }
    return Object.fromEntries([...sums.entries()].sort().map(([key, value]) => [key, value.toFixed(2)]));
  };
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    ));
  return { store, ledger, url, post, send, deliver, balances, close };
};
