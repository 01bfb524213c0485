import * as E from 'fp-ts/Either';
import { decodeStoredEvent } from '@partner-ledger/events';
import { parseResults, preparePayouts, reconcilePayouts, wiseReferenceOf } from './index';
import type { PayoutBatchMethod, PreparedBatch } from './index';
import { createTestProgram, day, reconciled } from './testing/program';
import type { TestProgram } from './testing/program';

// The providers' own result documents, shaped as their API references show them: PayPal's payout batch
// details (GET /v1/payments/payouts/{payout_batch_id}), one payout item (GET /v1/payments/payouts-item/{id})
// and a PAYMENT.PAYOUTS-ITEM.* webhook event; Wise's transfer (GET /v1/transfers/{id}), the list
// (GET /v1/transfers) and the transfers#state-change webhook event.

const setUp = async () => {
  const program = await createTestProgram('50.00');
  await program.join('ana', 'USD', { method: 'paypal', email: 'ana@example.net' });
  await program.join('hu', 'HUF', { method: 'paypal', email: 'hu@example.net' });
  await program.join('jp', 'JPY', { method: 'paypal', email: 'jp@example.net' });
  await program.join('w1', 'EUR', { method: 'wise', wiseRecipientId: '7001', accountHolderName: 'W One' });
  await program.join('w2', 'EUR', { method: 'wise', wiseRecipientId: '7002', accountHolderName: 'W Two' });
  await program.convert('o-ana', 'ana', 'USD', '1234.50', day(1)); // 123.45 USD
  await program.convert('o-hu', 'hu', 'HUF', '123456.70', day(1)); // 12345.67 HUF, 12345 sent
  await program.convert('o-jp', 'jp', 'JPY', '55555', day(1)); // 5556 JPY
  await program.convert('o-w1', 'w1', 'EUR', '600.00', day(1)); // 60.00 EUR
  await program.convert('o-w2', 'w2', 'EUR', '700.00', day(1)); // 70.00 EUR
  program.setNow(day(30));
  const run = async (method: PayoutBatchMethod): Promise<PreparedBatch> => {
    const result = await preparePayouts({
      ledger: program.ledger,
      store: program.store,
      asOf: day(5),
      method,
    })();
    if (E.isLeft(result)) throw new Error(result.left.message);
    return result.right;
  };
  const paypal = await run('paypal');
  const wise = await run('wise');
  const id = (batch: PreparedBatch, partnerId: string) =>
    batch.payouts.find((p) => p.partnerId === partnerId)!.payoutId;
  return {
    program,
    ana: id(paypal, 'ana'),
    hu: id(paypal, 'hu'),
    jp: id(paypal, 'jp'),
    w1: id(wise, 'w1'),
    w2: id(wise, 'w2'),
  };
};

const reconcile = (program: TestProgram, document: unknown) =>
  reconcilePayouts({
    ledger: program.ledger,
    store: program.store,
    text: JSON.stringify(document, null, 2),
  })();

const appended = async (program: TestProgram, from: number) => {
  const events = [];
  for await (const event of program.store.readAll({ fromPosition: from }))
    events.push(decodeStoredEvent(event));
  return events.map((event) => [event.type, event.occurredAt, JSON.stringify(event.data)]);
};

const next = async (program: TestProgram) => (await program.raw.headPosition()) + 1;

/** A PayPal payout item as the batch details and the item details show it. */
const paypalItem = (
  senderItemId: string,
  status: string,
  amount: { value: string; currency: string },
  extra: Record<string, unknown> = {},
) => ({
  payout_item_id: `ITEM-${senderItemId.slice(3, 9).toUpperCase()}`,
  transaction_id: `TX-${senderItemId.slice(3, 9).toUpperCase()}`,
  activity_id: '0E158638XS0329106',
  transaction_status: status,
  payout_item_fee: { currency: amount.currency, value: '0.00' },
  payout_batch_id: 'Q8KVJG9TZTNN4',
  payout_item: {
    recipient_type: 'EMAIL',
    amount,
    note: 'Partner commission payout',
    receiver: 'receiver@example.com',
    sender_item_id: senderItemId,
    recipient_wallet: 'PAYPAL',
  },
  time_processed: '2026-03-07T10:17:41Z',
  links: [
    {
      href: 'https://api-m.sandbox.paypal.com/v1/payments/payouts-item/ITEM',
      rel: 'item',
      method: 'GET',
      encType: 'application/json',
    },
  ],
  ...extra,
});

const paypalBatch = (items: unknown[]) => ({
  total_items: items.length,
  total_pages: 1,
  batch_header: {
    payout_batch_id: 'Q8KVJG9TZTNN4',
    batch_status: 'SUCCESS',
    time_created: '2026-03-07T10:17:00Z',
    time_completed: '2026-03-07T10:18:00Z',
    sender_batch_header: { sender_batch_id: 'paypal-20260306', email_subject: 'You have a payout!' },
    amount: { currency: 'USD', value: '123.45' },
    fees: { currency: 'USD', value: '0.00' },
  },
  items,
  links: [],
});

/** A Wise transfer as GET /v1/transfers/{id} returns it. */
const wiseTransfer = (id: number, reference: string, status: string, targetValue: number) => ({
  id,
  user: 4100,
  targetAccount: 7001,
  sourceAccount: null,
  quote: null,
  quoteUuid: '11144c35-9fe8-4c32-b7fd-d05c2a7734bf',
  status,
  reference,
  rate: 1,
  created: '2026-03-07 09:00:00',
  business: 4200,
  transferRequest: null,
  details: { reference },
  hasActiveIssues: false,
  sourceCurrency: 'EUR',
  sourceValue: targetValue,
  targetCurrency: 'EUR',
  targetValue,
  customerTransactionId: 'bd244a95-dcf8-4c31-aac8-bf5e2f3e54c0',
});

/** Wise's transfers#state-change webhook event (schema 4.0.0). */
const wiseStateChange = (id: number, current: string, previous: string, occurredAt: string) => ({
  data: {
    resource: { type: 'transfer', id, profile_id: 4200, account_id: 7001 },
    current_state: current,
    previous_state: previous,
    occurred_at: occurredAt,
  },
  subscription_id: '01234567-89ab-cdef-0123-456789abcdef',
  event_type: 'transfers#state-change',
  schema_version: '4.0.0',
  sent_at: occurredAt,
});

describe("reconciling the providers' own documents", () => {
  it('reads PayPal batch details: paid, failed with its error, unclaimed listed as pending; idempotent', async () => {
    const { program, ana, hu, jp } = await setUp();
    const from = await next(program);
    const batch = paypalBatch([
      paypalItem(ana, 'SUCCESS', { value: '123.45', currency: 'USD' }),
      paypalItem(
        hu,
        'FAILED',
        { value: '12345', currency: 'HUF' },
        {
          errors: {
            name: 'RECEIVER_ACCOUNT_LOCKED',
            message: 'Receiver account is locked or inactive',
            information_link: 'https://developer.paypal.com/docs/api/payments.payouts-batch/#errors',
            details: [],
          },
        },
      ),
      paypalItem(jp, 'UNCLAIMED', { value: '5556', currency: 'JPY' }),
    ]);
    expect(await reconcile(program, batch)).toEqual(
      reconciled({ confirmed: 1, failed: 1 }, [
        { where: `items[2] (sender_item_id ${jp})`, payoutId: jp, status: 'UNCLAIMED' },
      ]),
    );
    expect(await appended(program, from)).toEqual([
      [
        'PayoutConfirmed',
        '2026-03-07T10:17:41.000Z',
        JSON.stringify({
          payoutId: ana,
          partnerId: 'ana',
          amount: '123.45',
          currency: 'USD',
          providerReference: `TX-${ana.slice(3, 9).toUpperCase()}`,
        }),
      ],
      [
        'PayoutFailed',
        '2026-03-07T10:17:41.000Z',
        JSON.stringify({
          payoutId: hu,
          partnerId: 'hu',
          amount: '12345.00',
          currency: 'HUF',
          reason: 'failed: RECEIVER_ACCOUNT_LOCKED: Receiver account is locked or inactive',
        }),
      ],
    ]);
    expect(await program.payable('hu', 'HUF', day(30))).toBe('12345.67');
    const head = await program.raw.headPosition();
    expect(await reconcile(program, batch)).toMatchObject(E.right({ alreadyRecorded: 2, pending: 1 }));
    expect(await program.raw.headPosition()).toBe(head);
  });

  it('reads one PayPal item and PAYMENT.PAYOUTS-ITEM webhook events: returns give the funds back, once', async () => {
    const { program, ana, jp } = await setUp();
    await reconcile(program, paypalBatch([paypalItem(ana, 'SUCCESS', { value: '123.45', currency: 'USD' })]));
    // Weeks later the unclaimed JPY item is returned (GET /v1/payments/payouts-item/{id}).
    const jpItem = paypalItem(jp, 'RETURNED', { value: '5556', currency: 'JPY' });
    expect(await reconcile(program, jpItem)).toMatchObject(E.right({ returned: 1, alreadyRecorded: 0 }));
    expect(await program.payable('jp', 'JPY', day(30))).toBe('5556');
    // ana's paid item is reversed, as a webhook event says; the event delivered twice records it once.
    const event = {
      id: 'WH-7YX49823S2290830K-0JE13296W68552352',
      create_time: '2026-03-28T09:00:00.000Z',
      resource_type: 'payouts_item',
      event_type: 'PAYMENT.PAYOUTS-ITEM.REVERSED',
      summary: 'A payout item was reversed',
      resource: paypalItem(ana, 'REVERSED', { value: '123.45', currency: 'USD' }),
      event_version: '1.0',
    };
    expect(await reconcile(program, event)).toMatchObject(E.right({ returned: 1 }));
    expect(await program.payable('ana', 'USD', day(30))).toBe('123.45');
    const head = await program.raw.headPosition();
    expect(await reconcile(program, event)).toMatchObject(E.right({ returned: 0, alreadyRecorded: 1 }));
    expect(await reconcile(program, jpItem)).toMatchObject(E.right({ returned: 0, alreadyRecorded: 1 }));
    expect(await program.raw.headPosition()).toBe(head);
    // A batch event names no item.
    expect(
      await reconcile(program, { ...event, event_type: 'PAYMENT.PAYOUTSBATCH.SUCCESS', resource: {} }),
    ).toEqual(
      E.left([
        {
          where: 'document',
          field: 'event_type',
          message:
            'PAYMENT.PAYOUTSBATCH.SUCCESS names no item: reconcile the batch details (GET /v1/payments/payouts/{payout_batch_id}) instead',
        },
      ]),
    );
  });

  it('reads Wise transfers, and a transfer bounced back weeks later through the state-change webhook', async () => {
    const { program, w1, w2 } = await setUp();
    const list = [
      // As Wise shows them: the reference is the batch file's paymentReference.
      wiseTransfer(50001, wiseReferenceOf(w1), 'outgoing_payment_sent', 60),
      wiseTransfer(50002, wiseReferenceOf(w2), 'processing', 70),
    ];
    expect(await reconcile(program, list)).toEqual(
      reconciled({ confirmed: 1 }, [
        {
          where: `[1] (transfer 50002, reference ${wiseReferenceOf(w2)})`,
          payoutId: w2,
          status: 'processing',
        },
      ]),
    );
    expect(await program.payable('w1', 'EUR', day(30))).toBe('0');
    // Wise's bounce path, each webhook delivered once and the first twice: the return is recorded once.
    const from = await next(program);
    const bounce = [
      wiseStateChange(50001, 'bounced_back', 'outgoing_payment_sent', '2026-03-27T08:00:00.000Z'),
      wiseStateChange(50001, 'bounced_back', 'outgoing_payment_sent', '2026-03-27T08:00:00.000Z'),
      wiseStateChange(50001, 'processing', 'bounced_back', '2026-03-27T09:00:00.000Z'),
      wiseStateChange(50001, 'cancelled', 'processing', '2026-03-28T09:00:00.000Z'),
      wiseStateChange(50001, 'funds_refunded', 'cancelled', '2026-03-29T09:00:00.000Z'),
    ];
    const summaries = [];
    for (const event of bounce) summaries.push(await reconcile(program, event));
    expect(
      summaries.map((s) => E.isRight(s) && [s.right.returned, s.right.alreadyRecorded, s.right.pending]),
    ).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [0, 1, 0],
      [0, 1, 0],
    ]);
    expect(await appended(program, from)).toEqual([
      [
        'PayoutFailed',
        '2026-03-27T08:00:00.000Z',
        JSON.stringify({
          payoutId: w1,
          partnerId: 'w1',
          amount: '60.00',
          currency: 'EUR',
          reason: 'returned: Wise transfer 50001: bounced_back',
        }),
      ],
    ]);
    expect(await program.payable('w1', 'EUR', day(30))).toBe('60');
    // The transfer itself, read afterwards, adds nothing.
    expect(
      await reconcile(program, wiseTransfer(50001, wiseReferenceOf(w1), 'funds_refunded', 60)),
    ).toMatchObject(E.right({ returned: 0, alreadyRecorded: 1 }));
    // A webhook for a transfer no payout was confirmed with: pending is listed, a final state refused.
    expect(
      await reconcile(program, wiseStateChange(50002, 'funds_converted', 'processing', day(20))),
    ).toMatchObject(
      E.right({
        pending: 1,
        pendingResults: [
          { where: 'document (transfer 50002)', payoutId: undefined, status: 'funds_converted' },
        ],
      }),
    );
    expect(
      await reconcile(program, wiseStateChange(50002, 'outgoing_payment_sent', 'funds_converted', day(20))),
    ).toEqual(
      E.left([
        {
          where: 'document (transfer 50002)',
          field: 'data.resource.id',
          message:
            'no payout was confirmed with Wise transfer 50002: reconcile the transfer itself (GET /v1/transfers/50002), whose reference names the payout',
        },
      ]),
    );
  });

  it('refuses a bad document, naming each item and field, and records nothing', async () => {
    const { program, ana, hu, jp, w1 } = await setUp();
    const head = await program.raw.headPosition();
    const noId = paypalItem(ana, 'SUCCESS', { value: '123.45', currency: 'USD' });
    delete (noId.payout_item as Partial<typeof noId.payout_item>).sender_item_id;
    const batch = paypalBatch([
      paypalItem(ana, 'SUCCESS', { value: '123.45', currency: 'USD' }),
      noId,
      paypalItem(hu, 'EXPLODED', { value: '12345', currency: 'HUF' }),
      paypalItem(jp, 'SUCCESS', { value: '5557', currency: 'JPY' }),
      paypalItem(hu, 'SUCCESS', { value: '12345', currency: 'USD' }),
      paypalItem('po-000000000000000', 'SUCCESS', { value: '1.00', currency: 'USD' }),
      paypalItem(ana, 'SUCCESS', { value: '123.45', currency: 'USD' }, { time_processed: 'yesterday' }),
    ]);
    const result = await reconcile(program, batch);
    expect(E.isLeft(result) && result.left.map((p) => `${p.where}: ${p.field}: ${p.message}`)).toEqual([
      'items[1]: payout_item.sender_item_id: missing',
      'items[2]: transaction_status: unknown status "EXPLODED" (expected one of success, failed, pending, unclaimed, returned, onhold, blocked, refunded, reversed, canceled, denied)',
      'items[6]: time_processed: expected an RFC 3339 time, got "yesterday"',
    ]);
    const checked = await reconcile(
      program,
      paypalBatch([
        paypalItem(jp, 'SUCCESS', { value: '5557', currency: 'JPY' }),
        paypalItem(hu, 'SUCCESS', { value: '12345', currency: 'USD' }),
        paypalItem('po-000000000000000', 'SUCCESS', { value: '1.00', currency: 'USD' }),
      ]),
    );
    expect(E.isLeft(checked) && checked.left.map((p) => `${p.where}: ${p.field}: ${p.message}`)).toEqual([
      `items[0] (sender_item_id ${jp}): amount: 5557 JPY is not the amount of payout ${jp} (5556 JPY)`,
      `items[1] (sender_item_id ${hu}): currency: USD is not the currency of payout ${hu} (HUF)`,
      'items[2] (sender_item_id po-000000000000000): payoutId: no payout "po-000000000000000" was prepared',
    ]);
    const wise = await reconcile(program, [
      {
        ...wiseTransfer(50001, w1, 'outgoing_payment_sent', 60),
        reference: null,
        details: {},
        customerTransactionId: null,
      },
      wiseTransfer(50003, w1, 'teleported', 60),
    ]);
    expect(E.isLeft(wise) && wise.left.map((p) => `${p.where}: ${p.field}`)).toEqual([
      '[0]: reference',
      '[1]: status',
    ]);
    expect(await reconcile(program, { hello: 'world' })).toMatchObject(
      E.left([{ where: 'document', field: '(document)' }]),
    );
    expect(
      await reconcilePayouts({ ledger: program.ledger, store: program.store, text: '{"items": [' })(),
    ).toMatchObject(E.left([{ where: 'document', field: '(json)' }]));
    expect(await program.raw.headPosition()).toBe(head);
  });

  it('says when a PayPal batch page is not the last', async () => {
    const { program, ana } = await setUp();
    const page = {
      ...paypalBatch([paypalItem(ana, 'SUCCESS', { value: '123.45', currency: 'USD' })]),
      total_items: 1200,
      total_pages: 2,
      links: [
        {
          href: 'https://api-m.paypal.com/v1/payments/payouts/Q8KVJG9TZTNN4?page_size=1000&page=2',
          rel: 'next',
          method: 'GET',
          encType: 'application/json',
        },
      ],
    };
    expect(await reconcile(program, page)).toMatchObject(
      E.right({
        confirmed: 1,
        notes: [
          'PayPal batch Q8KVJG9TZTNN4 has more pages (2 in all): reconcile each page (GET with page=2, 3, ...)',
        ],
      }),
    );
  });

  it('tells a JSON document from a result file by its first character', () => {
    expect(E.isRight(parseResults('payoutId,status\npo-1,SUCCESS\n'))).toBe(true);
    expect(parseResults('\uFEFF  [ ]')).toEqual(E.right([]));
  });
});
