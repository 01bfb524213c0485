import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import Stripe from 'stripe';
import { decodeStoredEvent } from '@partner-ledger/events';
import type { LedgerEvent } from '@partner-ledger/events';
import { createInMemoryStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { createStripeIntake } from './intake';
import { createStripeWebhookHandler } from './webhook';
import { NOW, SECRET, recordedLookups, startHarness } from './testing/harness';
import type { Harness } from './testing/harness';
import {
  T0,
  charge,
  chargeRefunded,
  checkoutCompleted,
  checkoutSession,
  dispute,
  disputeClosed,
  disputeCreated,
  invoice,
  invoicePaid,
  invoicePayment,
  invoicePaymentPaid,
} from './testing/payloads';

const day = (n: number) => T0 + n * 86_400;

const stored = async (store: EventStore): Promise<LedgerEvent[]> => {
  const events: LedgerEvent[] = [];
  for await (const event of store.readAll()) events.push(decodeStoredEvent(event));
  return events;
};
const ofType = async (store: EventStore, type: string) =>
  (await stored(store)).filter((e) => e.type === type);

/** A subscription's first invoice (bob's visitor in the subscription's metadata), its payment and charge. */
const subscription = (currency = 'usd', amount = 10000) => {
  const first = invoice({
    id: 'in_first',
    customer: 'cus_1',
    amountPaid: amount,
    currency,
    billingReason: 'subscription_create',
    paidAt: day(1),
    subscription: { id: 'sub_1', metadata: { partner_ledger_visitor_id: 'v-bob' } },
  });
  return {
    paid: invoicePaid('evt_inv_1', day(1), first),
    payment: invoicePaymentPaid(
      'evt_ip_1',
      day(1),
      invoicePayment({
        id: 'inpay_1',
        invoice: 'in_first',
        paymentIntent: 'pi_1',
        amount,
        currency,
        paidAt: day(1),
      }),
    ),
    refund: (id: string, cumulative: number, at = day(3)) =>
      chargeRefunded(
        id,
        at,
        charge({
          id: 'ch_1',
          paymentIntent: 'pi_1',
          amount,
          amountRefunded: cumulative,
          currency,
          created: day(1),
        }),
      ),
    dispute: (status: Stripe.Dispute.Status, disputed = amount) =>
      dispute({
        id: 'dp_1',
        charge: 'ch_1',
        paymentIntent: 'pi_1',
        amount: disputed,
        currency,
        status,
        created: day(4),
      }),
  };
};

let harness: Harness;
afterEach(() => harness?.close());

describe('invoice.paid: conversions of kind invoice, then renewals', () => {
  it("records the first invoice of a subscription as an invoice credited by its subscription's metadata, later ones as renewals", async () => {
    harness = await startHarness();
    const s = subscription();
    const renewal = invoice({
      id: 'in_second',
      customer: 'cus_1',
      amountPaid: 10000,
      currency: 'usd',
      billingReason: 'subscription_cycle',
      paidAt: day(31),
      subscription: { id: 'sub_1', metadata: { partner_ledger_visitor_id: 'v-bob' } },
    });
    expect((await harness.send(s.paid)).status).toBe(200);
    expect((await harness.send(invoicePaid('evt_inv_2', day(31), renewal))).body).toMatchObject({
      outcome: 'recorded',
    });
    const conversions = await ofType(harness.store, 'ConversionAttributed');
    expect(
      conversions.map(
        (e) =>
          e.type === 'ConversionAttributed' && [
            e.data.conversionId,
            e.data.kind,
            e.data.amount,
            e.data.visitorId,
            e.data.credits.map((c) => c.partnerId),
          ],
      ),
    ).toEqual([
      ['stripe:in_first', 'invoice', '100.00', 'v-bob', ['bob']],
      ['stripe:in_second', 'renewal', '100.00', 'v-bob', ['bob']],
    ]);
    expect(conversions[0]!.occurredAt).toBe(new Date(day(1) * 1000).toISOString());
    expect(await harness.balances()).toEqual({ 'bob USD': '40.00' });
  });

  it('resolves a discount to its promotion code text with the lookups, once per id, and credits the coupon', async () => {
    const asked: string[] = [];
    harness = await startHarness({
      lookups: recordedLookups(asked, { invoices: { in_coupon: ['promo_alice'] } }),
    });
    const paid = invoicePaid(
      'evt_coupon',
      day(2),
      invoice({
        id: 'in_coupon',
        customer: 'cus_2',
        amountPaid: 5000,
        currency: 'usd',
        billingReason: 'manual',
        paidAt: day(2),
        discounts: ['di_1'],
      }),
    );
    const second = { ...paid, id: 'evt_coupon_again' };
    expect((await harness.send(paid)).status).toBe(200);
    expect((await harness.send(second)).body).toMatchObject({ outcome: 'alreadyRecorded' });
    const [conversion] = await ofType(harness.store, 'ConversionAttributed');
    expect(
      conversion?.type === 'ConversionAttributed' && [conversion.data.couponCode, conversion.data.kind],
    ).toEqual(['ALICE10', 'invoice']);
    expect(asked).toEqual(['invoice in_coupon', 'promotionCode promo_alice']);
  });
});

describe('checkout.session.completed', () => {
  it('records a paid payment-mode session as an order, with client_reference_id as the visitor id', async () => {
    harness = await startHarness();
    const session = checkoutSession({
      id: 'cs_1',
      paymentIntent: 'pi_order',
      amountTotal: 2500,
      currency: 'usd',
      customer: null,
      clientReferenceId: 'v-bob',
      created: day(2),
    });
    expect((await harness.send(checkoutCompleted('evt_cs_1', day(2), session))).body).toMatchObject({
      outcome: 'recorded',
    });
    const subscriptionMode = checkoutSession({
      id: 'cs_2',
      paymentIntent: null,
      mode: 'subscription',
      amountTotal: 2500,
      currency: 'usd',
      customer: 'cus_9',
      created: day(2),
    });
    expect((await harness.send(checkoutCompleted('evt_cs_2', day(2), subscriptionMode))).body).toMatchObject({
      outcome: 'ignored',
    });
    const [order] = await ofType(harness.store, 'ConversionAttributed');
    expect(
      order?.type === 'ConversionAttributed' && [
        order.data.conversionId,
        order.data.kind,
        order.data.customerId,
        order.data.amount,
      ],
    ).toEqual(['stripe:pi_order', 'order', 'stripe:guest:pi_order', '25.00']);
    // A refund of the order finds it by its PaymentIntent.
    const refund = chargeRefunded(
      'evt_r_order',
      day(3),
      charge({
        id: 'ch_o',
        paymentIntent: 'pi_order',
        amount: 2500,
        amountRefunded: 2500,
        currency: 'usd',
        created: day(2),
      }),
    );
    expect((await harness.send(refund)).status).toBe(200);
    expect(await harness.balances()).toEqual({ 'bob USD': '0.00' });
  });
});

describe('the webhook endpoint: signatures and answers', () => {
  it('refuses a bad, stale or missing signature and a malformed payload with 4xx, recording nothing', async () => {
    harness = await startHarness();
    const before = (await stored(harness.store)).length;
    const body = JSON.stringify(subscription().paid);
    const now = Math.floor(NOW.getTime() / 1000);
    const sign = (payload: string, timestamp = now, secret = SECRET) =>
      Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
    expect((await harness.post(body, sign(body, now, 'whsec_other'))).status).toBe(400);
    expect((await harness.post(body, sign(body, now - 600))).status).toBe(400);
    expect((await harness.post(body)).status).toBe(400);
    expect((await harness.post(body.replace('10000', '10001'), sign(body))).status).toBe(400);
    expect((await harness.post('{"id": "evt_x"', sign('{"id": "evt_x"'))).status).toBe(400);
    const notAnEvent = JSON.stringify({ id: 'evt_y', type: 'invoice.paid', created: now });
    expect((await harness.post(notAnEvent, sign(notAnEvent))).body).toMatchObject({
      outcome: 'malformed',
      field: 'data.object',
    });
    const fractional = JSON.stringify({
      ...subscription().paid,
      data: { object: { ...subscription().paid.data.object, amount_paid: 99.5 } },
    });
    expect((await harness.post(fractional, sign(fractional))).body).toMatchObject({
      outcome: 'malformed',
      field: 'data.object.amount_paid',
    });
    expect((await fetch(harness.url)).status).toBe(405);
    expect((await stored(harness.store)).length).toBe(before);
  });

  it('answers 500 when the store fails, and 200 when Stripe delivers the event again', async () => {
    const inner = createInMemoryStore();
    let failing = false;
    const store: EventStore = {
      ...inner,
      append: (stream, events, options) =>
        failing ? Promise.reject(new Error('disk full')) : inner.append(stream, events, options),
      readStream: (stream, options) => inner.readStream(stream, options),
      readAll: (options) => inner.readAll(options),
      subscribe: (options) => inner.subscribe(options),
      headPosition: () => inner.headPosition(),
    };
    harness = await startHarness({ store });
    failing = true;
    expect((await harness.send(subscription().paid)).status).toBe(500);
    failing = false;
    expect(await ofType(harness.store, 'ConversionAttributed')).toHaveLength(0);
    expect((await harness.send(subscription().paid)).status).toBe(200);
    expect(await ofType(harness.store, 'ConversionAttributed')).toHaveLength(1);
  });
});

describe('the webhook handler behind a framework that has read the body', () => {
  it('verifies the raw body a framework left in req.body (Express with express.raw())', async () => {
    harness = await startHarness();
    const received: number[] = [];
    const handler = createStripeWebhookHandler({
      intake: createStripeIntake({
        ledger: harness.ledger,
        store: harness.store,
        lookups: recordedLookups(),
      }),
      webhooks: Stripe.webhooks,
      endpointSecret: SECRET,
      clock: () => NOW,
      onOutcome: ({ status }) => received.push(status),
    });
    const body = JSON.stringify(subscription().paid);
    const signature = Stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret: SECRET,
      timestamp: Math.floor(NOW.getTime() / 1000),
    });
    const request = Object.assign(new PassThrough(), {
      method: 'POST',
      headers: { 'stripe-signature': signature },
      body: Buffer.from(body, 'utf8'),
    });
    request.end();
    let status = 0;
    const response = {
      writeHead: (code: number) => {
        status = code;
        return response;
      },
      end: () => response,
    };
    await handler(request as never, response as never);
    expect([status, received]).toEqual([200, [200]]);
    expect(await ofType(harness.store, 'ConversionAttributed')).toHaveLength(1);
  });
});

describe('charge.refunded: the cumulative amount, idempotently', () => {
  it('reverses the difference from what was reversed for the charge; duplicates and a second Event record nothing', async () => {
    harness = await startHarness();
    const s = subscription();
    await harness.deliver([s.paid, s.payment]);
    expect((await harness.send(s.refund('evt_r1', 2000))).body).toMatchObject({ outcome: 'recorded' });
    expect((await harness.send(s.refund('evt_r1', 2000))).body).toMatchObject({ outcome: 'alreadyRecorded' });
    // Stripe's second Event object for the same change: another id, another time.
    expect((await harness.send(s.refund('evt_r1_bis', 2000, day(3) + 1))).body).toMatchObject({
      outcome: 'alreadyRecorded',
    });
    expect((await harness.send(s.refund('evt_r2', 5000, day(5)))).body).toMatchObject({
      outcome: 'recorded',
    });
    const reversals = await ofType(harness.store, 'ConversionReversed');
    expect(
      reversals.map(
        (e) => e.type === 'ConversionReversed' && [e.data.reversalId, e.data.kind, e.data.amount],
      ),
    ).toEqual([
      ['stripe:refund:ch_1:2000', 'refund', '20.00'],
      ['stripe:refund:ch_1:5000', 'refund', '30.00'],
    ]);
    expect(await harness.balances()).toEqual({ 'bob USD': '10.00' });
  });

  it('answers 409 to a refund before its invoice, and takes it when Stripe delivers it again', async () => {
    harness = await startHarness();
    const s = subscription();
    expect((await harness.send(s.refund('evt_r1', 10000))).status).toBe(409);
    expect(await ofType(harness.store, 'ConversionReversed')).toHaveLength(0);
    await harness.deliver([s.paid, s.payment]);
    expect((await harness.send(s.refund('evt_r1', 10000))).status).toBe(200);
    expect(await harness.balances()).toEqual({ 'bob USD': '0.00' });
  });

  it('ends with the same reversals when the cumulative amounts arrive in reverse order', async () => {
    harness = await startHarness();
    const s = subscription();
    await harness.deliver([s.paid, s.payment, s.refund('evt_r2', 5000, day(5)), s.refund('evt_r1', 2000)]);
    expect(await harness.balances()).toEqual({ 'bob USD': '10.00' });
  });
});

describe('disputes', () => {
  it('records nothing for an inquiry, a chargeback for a dispute, and restores the commission when it is won', async () => {
    harness = await startHarness();
    const s = subscription();
    await harness.deliver([s.paid, s.payment]);
    const before = (await stored(harness.store)).length;
    expect(
      (await harness.send(disputeCreated('evt_inq', day(4), s.dispute('warning_needs_response')))).body,
    ).toMatchObject({ outcome: 'ignored' });
    expect(
      (await harness.send(disputeClosed('evt_inq_c', day(5), s.dispute('warning_closed')))).body,
    ).toMatchObject({ outcome: 'ignored' });
    expect((await stored(harness.store)).length).toBe(before);

    expect(
      (await harness.send(disputeCreated('evt_dp', day(4), s.dispute('needs_response')))).body,
    ).toMatchObject({ outcome: 'recorded' });
    expect(await harness.balances()).toEqual({ 'bob USD': '0.00' });
    expect((await harness.send(disputeClosed('evt_dp_won', day(20), s.dispute('won')))).body).toMatchObject({
      outcome: 'recorded',
    });
    expect(
      (await harness.send(disputeClosed('evt_dp_won_bis', day(20) + 5, s.dispute('won')))).body,
    ).toMatchObject({ outcome: 'alreadyRecorded' });
    const [chargeback] = await ofType(harness.store, 'ConversionReversed');
    expect(
      chargeback?.type === 'ConversionReversed' && [chargeback.data.kind, chargeback.data.amount],
    ).toEqual(['chargeback', '100.00']);
    const adjustments = await ofType(harness.store, 'ManualAdjustmentRecorded');
    expect(
      adjustments.map(
        (e) => e.type === 'ManualAdjustmentRecorded' && [e.data.partnerId, e.data.amount, e.data.currency],
      ),
    ).toEqual([['bob', '20.00', 'USD']]);
    expect(await harness.balances()).toEqual({ 'bob USD': '20.00' });
  });

  it('records the chargeback and its restoration when the closing arrives before the opening', async () => {
    harness = await startHarness();
    const s = subscription();
    await harness.deliver([
      s.paid,
      s.payment,
      disputeClosed('evt_dp_won', day(20), s.dispute('won')),
      disputeCreated('evt_dp', day(4), s.dispute('needs_response')),
    ]);
    expect(await harness.balances()).toEqual({ 'bob USD': '20.00' });
    expect(await ofType(harness.store, 'ConversionReversed')).toHaveLength(1);
  });

  it('gives nothing back for a line rejected on review when the dispute is won', async () => {
    harness = await startHarness();
    const s = subscription();
    await harness.deliver([s.paid, s.payment]);
    const rejected = await harness.ledger.rejectCommission({
      conversionId: 'stripe:in_first',
      lineId: 'stripe:in_first/bob/0',
      reason: 'self-referral',
      occurredAt: new Date(day(2) * 1000).toISOString(),
    })();
    expect(rejected._tag).toBe('Right');
    await harness.deliver([
      disputeCreated('evt_dp', day(4), s.dispute('needs_response')),
      disputeClosed('evt_dp_won', day(20), s.dispute('won')),
    ]);
    expect(await ofType(harness.store, 'ManualAdjustmentRecorded')).toHaveLength(0);
  });

  it('keeps a lost dispute charged back', async () => {
    harness = await startHarness();
    const s = subscription();
    await harness.deliver([
      s.paid,
      s.payment,
      disputeCreated('evt_dp', day(4), s.dispute('needs_response')),
      disputeClosed('evt_dp_lost', day(20), s.dispute('lost')),
    ]);
    expect(await harness.balances()).toEqual({ 'bob USD': '0.00' });
  });
});

describe("currencies: Stripe's exponents into the ledger's", () => {
  it.each([
    ['jpy', 5000, '5000', 'JPY'],
    ['bhd', 5120, '5.120', 'BHD'],
    ['kwd', 12340, '12.340', 'KWD'],
    ['isk', 199900, '1999', 'ISK'],
    ['ugx', 500000, '5000', 'UGX'],
    ['mga', 100000, '100000.00', 'MGA'],
    ['eur', 1999, '19.99', 'EUR'],
  ])('records %s %i as %s %s, and reverses it in full', async (currency, amount, expected, code) => {
    harness = await startHarness();
    const s = subscription(currency, amount);
    await harness.deliver([s.paid, s.payment, s.refund('evt_r', amount)]);
    const events = await stored(harness.store);
    const conversion = events.find((e) => e.type === 'ConversionAttributed');
    expect(
      conversion?.type === 'ConversionAttributed' && [conversion.data.amount, conversion.data.currency],
    ).toEqual([expected, code]);
    const reversal = events.find((e) => e.type === 'ConversionReversed');
    expect(reversal?.type === 'ConversionReversed' && reversal.data.amount).toBe(expected);
    expect(await harness.balances()).toEqual({ 'bob USD': '0.00' });
  });

  it('refuses with 400 an ISK amount with hundredths, which the ledger cannot hold, recording nothing', async () => {
    harness = await startHarness();
    const response = await harness.send(subscription('isk', 199950).paid);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ field: 'data.object.amount_paid' });
    expect(await ofType(harness.store, 'ConversionAttributed')).toHaveLength(0);
  });
});

describe('delivery order (property)', () => {
  it('ends with the same balances whatever the order, the duplicates and the second Events', async () => {
    const s = subscription();
    const order = invoicePaid(
      'evt_inv_alice',
      day(2),
      invoice({
        id: 'in_alice',
        customer: 'cus_a',
        amountPaid: 30000,
        currency: 'usd',
        billingReason: 'subscription_create',
        paidAt: day(2),
        subscription: { id: 'sub_a', metadata: {} },
        discounts: ['di_a'],
      }),
    );
    const alicePayment = invoicePaymentPaid(
      'evt_ip_a',
      day(2),
      invoicePayment({
        id: 'inpay_a',
        invoice: 'in_alice',
        paymentIntent: 'pi_a',
        amount: 30000,
        currency: 'usd',
        paidAt: day(2),
      }),
    );
    const aliceDispute = (status: Stripe.Dispute.Status) =>
      dispute({
        id: 'dp_a',
        charge: 'ch_a',
        paymentIntent: 'pi_a',
        amount: 30000,
        currency: 'usd',
        status,
        created: day(6),
      });
    const events: Stripe.Event[] = [
      s.paid,
      s.payment,
      s.refund('evt_r1', 2000),
      s.refund('evt_r1_bis', 2000, day(3) + 2),
      s.refund('evt_r2', 5000, day(5)),
      s.refund('evt_r3', 7500, day(6)),
      order,
      alicePayment,
      disputeCreated('evt_dp_inq', day(5), aliceDispute('warning_under_review')),
      disputeCreated('evt_dp_a', day(6), aliceDispute('needs_response')),
      disputeClosed('evt_dp_a_won', day(25), aliceDispute('won')),
    ];
    const expected = { 'alice USD': '60.00', 'bob USD': '5.00' };
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        fc.array(fc.nat({ max: events.length - 1 }), { maxLength: 4 }),
        async (shuffled, repeats) => {
          harness = await startHarness({
            lookups: recordedLookups([], { invoices: { in_alice: ['promo_alice'] } }),
          });
          try {
            await harness.deliver([...shuffled, ...repeats.map((i) => shuffled[i]!)], 12);
            expect(await harness.balances()).toEqual(expected);
          } finally {
            await harness.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
