import Decimal from 'decimal.js';
import * as E from 'fp-ts/Either';
import { decodeStoredEvent } from '@partner-ledger/events';
import { createBalanceBook } from '@partner-ledger/ledger';
import { preparePayouts, reconcilePayouts, wiseReferenceOf } from './index';
import type { PayoutBatchMethod, PreparedBatch, ReconcileSummary } from './index';
import { createTestProgram, day } from './testing/program';
import type { Payee, TestCurrency, TestProgram } from './testing/program';

// A month of a simulated program through prepare and reconcile: partners paid in USD, EUR, JPY and HUF by
// PayPal and Wise, 5,200 PayPal payees in USD (two files; 52 of them below the minimum) and 1,050 Wise
// payees in EUR (two files), conversions and refunds through the month, two payout runs, failures, an
// unclaimed item, Wise transfers returned weeks later, and every command run twice. The expected payouts and balances are computed here, independently of
// the ledger, from the rules as docs/payments.md states them.

// The test's own arithmetic: a decimal.js of its own (never the ledger's), half-even as the ledger rounds.
const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });
const DECIMALS: Record<TestCurrency, number> = { USD: 2, EUR: 2, JPY: 0, HUF: 2 };
/** PayPal sends HUF and JPY in whole units (and TWD, not used here). */
const SEND_DECIMALS: Record<PayoutBatchMethod, Record<TestCurrency, number>> = {
  paypal: { USD: 2, EUR: 2, JPY: 0, HUF: 0 },
  wise: DECIMALS,
  csv: DECIMALS,
};
const MINIMUMS: Record<TestCurrency, string> = { USD: '50.00', EUR: '20.00', JPY: '3000', HUF: '10000.00' };

interface ModelPartner {
  readonly partnerId: string;
  readonly currency: TestCurrency;
  readonly payee: Payee | undefined;
  erased: boolean;
  /** Earned less paid out (by payouts that did not fail), as the model computes it. */
  owed: Decimal;
}

/** The expected payouts of a run: partner -> amount, from the model. */
const expectedRun = (model: Map<string, ModelPartner>, method: 'paypal' | 'wise') => {
  const expected = new Map<string, string>();
  for (const p of model.values()) {
    if (p.erased || p.payee?.method !== method) continue;
    const amount = p.owed.toDecimalPlaces(SEND_DECIMALS[method][p.currency], Decimal.ROUND_DOWN);
    if (amount.gt(0) && amount.gte(MINIMUMS[p.currency]))
      expected.set(p.partnerId, amount.toFixed(DECIMALS[p.currency]));
  }
  return expected;
};

/** A deterministic sequence of numbers in [0, 1). */
const random = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

const run = async (program: TestProgram, method: 'paypal' | 'wise', asOf: string): Promise<PreparedBatch> => {
  const result = await preparePayouts({
    ledger: program.ledger,
    store: program.store,
    asOf,
    method,
    minimums: MINIMUMS,
  })();
  if (E.isLeft(result)) throw new Error(result.left.message);
  return result.right;
};

const reconcile = async (program: TestProgram, lines: string[]): Promise<ReconcileSummary> => {
  const result = await reconcilePayouts({
    ledger: program.ledger,
    store: program.store,
    text: ['payoutId,status,reason,providerReference,date', ...lines].join('\n'),
  })();
  if (E.isLeft(result)) throw new Error(JSON.stringify(result.left.slice(0, 3)));
  return result.right;
};

const balanceBook = async (program: TestProgram) => {
  const book = createBalanceBook();
  for await (const event of program.store.readAll()) book.apply(decodeStoredEvent(event));
  return book;
};

it('a month of payouts: balances afterwards are what the rules say', async () => {
  const program = await createTestProgram('50.00');
  const model = new Map<string, ModelPartner>();
  const next = random(42);

  // 40 partners with conversions through the ledger, in each currency, paid by PayPal or Wise.
  const small: ModelPartner[] = [];
  for (let i = 0; i < 40; i += 1) {
    const currency = (['USD', 'EUR', 'JPY', 'HUF'] as const)[i % 4]!;
    const partnerId = `p${String(i).padStart(2, '0')}`;
    const payee: Payee | undefined =
      i === 7
        ? undefined
        : i % 3 === 0
          ? { method: 'wise', wiseRecipientId: `${9000 + i}`, accountHolderName: `Holder ${i}` }
          : { method: 'paypal', email: `${partnerId}@example.net` };
    await program.join(partnerId, currency, payee);
    const partner = { partnerId, currency, payee, erased: false, owed: new D(0) };
    small.push(partner);
    model.set(partnerId, partner);
  }
  // Bulk payees: 5,200 by PayPal in USD, 1,050 by Wise in EUR, each with an opening credit.
  const bulk: Array<{ partnerId: string; currency: TestCurrency; payee: Payee; amount: string }> = [];
  for (let i = 0; i < 5200; i += 1)
    bulk.push({
      partnerId: `pp${String(i).padStart(4, '0')}`,
      currency: 'USD',
      payee: { method: 'paypal', email: `pp${i}@example.org` },
      amount: i % 100 === 0 ? '49.99' : `${60 + (i % 7)}.${String(i % 100).padStart(2, '0')}`,
    });
  for (let i = 0; i < 1050; i += 1)
    bulk.push({
      partnerId: `wz${String(i).padStart(4, '0')}`,
      currency: 'EUR',
      payee: { method: 'wise', wiseRecipientId: `${100000 + i}`, accountHolderName: `Wise Payee ${i}` },
      amount: `${25 + (i % 5)}.50`,
    });
  await program.bulk(bulk, day(0));
  for (const b of bulk)
    model.set(b.partnerId, {
      partnerId: b.partnerId,
      currency: b.currency,
      payee: b.payee,
      erased: false,
      owed: new D(b.amount),
    });

  // Conversions over the month: 10% commission, rounded half-even to the currency's decimals.
  const conversions: Array<{ id: string; partner: ModelPartner; amount: string; at: number }> = [];
  let n = 0;
  const convertUpTo = async (lastDay: number, firstDay: number) => {
    for (let d = firstDay; d <= lastDay; d += 1)
      for (const partner of small) {
        if (next() < 0.6) continue;
        const units = Math.floor(next() * 200_000) + 5000;
        const amount =
          partner.currency === 'JPY'
            ? String(units)
            : new D(units)
                .div(100)
                .times(partner.currency === 'HUF' ? 100 : 1)
                .toFixed(2);
        const id = `o-${(n += 1)}`;
        await program.convert(id, partner.partnerId, partner.currency, amount, day(d));
        partner.owed = partner.owed.plus(
          new D(amount).times('0.1').toDecimalPlaces(DECIMALS[partner.currency]),
        );
        conversions.push({ id, partner, amount, at: d });
      }
  };
  await convertUpTo(13, 1);
  // Two full refunds: the commission goes back entirely.
  for (const refunded of [conversions[3]!, conversions[10]!]) {
    const outcome = await program.ledger.reverseConversion({
      reversalId: `r-${refunded.id}`,
      conversionId: refunded.id,
      kind: 'refund',
      occurredAt: day(13),
    })();
    expect(E.isRight(outcome)).toBe(true);
    refunded.partner.owed = refunded.partner.owed.minus(
      new D(refunded.amount).times('0.1').toDecimalPlaces(DECIMALS[refunded.partner.currency]),
    );
  }
  // One partner asks for erasure: it cannot be paid any more.
  const erased = small.find((p) => p.payee?.method === 'paypal' && p.currency === 'EUR')!;
  program.setNow(day(13));
  await program.privacy.erasePersonalData({
    subject: { kind: 'partner', id: erased.partnerId },
    requestedBy: 'ticket:7',
    reason: 'request',
  })();
  erased.erased = true;

  // Day 14: the mid-month runs.
  program.setNow(day(14));
  const issued = new Map<string, { partner: ModelPartner; amount: string }>();
  const checkRun = async (method: 'paypal' | 'wise', asOf: string): Promise<PreparedBatch> => {
    const expected = expectedRun(model, method);
    const batch = await run(program, method, asOf);
    expect(new Map(batch.payouts.map((p) => [p.partnerId, p.amount]))).toEqual(expected);
    for (const payout of batch.payouts) {
      const partner = model.get(payout.partnerId)!;
      partner.owed = partner.owed.minus(payout.amount);
      issued.set(payout.payoutId, { partner, amount: payout.amount });
    }
    return batch;
  };
  const paypal1 = await checkRun('paypal', day(14));
  const wise1 = await checkRun('wise', day(14));
  const usdFiles = paypal1.files.filter((f) => f.name.includes('-USD-'));
  expect(usdFiles.map((f) => f.rows)).toEqual([
    5000,
    paypal1.payouts.filter((p) => p.currency === 'USD').length - 5000,
  ]);
  expect(usdFiles.every((f) => f.content.split('\r\n').length - 1 === f.rows)).toBe(true);
  const eurWise = wise1.files.filter((f) => f.name.includes('-EUR-'));
  expect(eurWise.map((f) => f.rows)).toEqual([
    1000,
    wise1.payouts.filter((p) => p.currency === 'EUR').length - 1000,
  ]);
  expect(eurWise.every((f) => f.content.split('\r\n').length - 2 === f.rows)).toBe(true); // a header each
  expect(paypal1.skipped.find((s) => s.partnerId === erased.partnerId)?.reason).toMatch(/erased/);
  expect(paypal1.skipped.find((s) => s.partnerId === 'p07')?.reason).toBe('no payee details');

  // Run again: nothing is prepared twice.
  expect((await run(program, 'paypal', day(14))).payouts).toEqual([]);
  expect((await run(program, 'wise', day(14))).payouts).toEqual([]);

  // Day 16: PayPal's results. Every 97th item failed, every 101st is unclaimed, the rest were paid.
  program.setNow(day(16));
  const paypalLines = paypal1.payouts.map((p, i) =>
    i % 97 === 5
      ? `${p.payoutId},FAILED,Receiver's account is locked,,2026-03-16`
      : i % 101 === 7
        ? `${p.payoutId},UNCLAIMED,,,2026-03-16`
        : `${p.payoutId},SUCCESS,,TX-${i},2026-03-16`,
  );
  const failedIds = paypal1.payouts.filter((_, i) => i % 97 === 5).map((p) => p.payoutId);
  const unclaimedIds = paypal1.payouts.filter((_, i) => i % 97 !== 5 && i % 101 === 7).map((p) => p.payoutId);
  const first = await reconcile(program, paypalLines);
  expect(first).toEqual({
    confirmed: paypal1.payouts.length - failedIds.length - unclaimedIds.length,
    failed: failedIds.length,
    returned: 0,
    alreadyRecorded: 0,
    pending: unclaimedIds.length,
    pendingResults: unclaimedIds.map((payoutId) =>
      expect.objectContaining({ payoutId, status: 'UNCLAIMED' }),
    ),
    notes: [],
  });
  for (const id of failedIds) {
    const { partner, amount } = issued.get(id)!;
    partner.owed = partner.owed.plus(amount);
  }
  // The same file again records nothing.
  const head = await program.raw.headPosition();
  expect(await reconcile(program, paypalLines)).toMatchObject({
    confirmed: 0,
    failed: 0,
    alreadyRecorded: paypalLines.length - unclaimedIds.length,
  });
  expect(await program.raw.headPosition()).toBe(head);

  // Day 17: Wise sent every transfer.
  program.setNow(day(17));
  // Wise's exports name each transfer by the file's payment reference, not the payout id.
  const wiseSent = wise1.payouts.map(
    (p, i) => `${wiseReferenceOf(p.payoutId)},outgoing_payment_sent,,T${i},2026-03-17`,
  );
  expect(await reconcile(program, wiseSent)).toMatchObject({ confirmed: wise1.payouts.length });

  // More conversions; then weeks after, Wise reports transfers that bounced back (with the sent ones again).
  await convertUpTo(27, 14);
  program.setNow(day(28));
  const bounced = wise1.payouts.filter((_, i) => i % 50 === 3).map((p) => p.payoutId);
  const wiseLater = [
    ...wiseSent,
    ...bounced.map(
      (id) => `${wiseReferenceOf(id)},bounced_back,Recipient bank rejected the account,,2026-03-28`,
    ),
  ];
  expect(await reconcile(program, wiseLater)).toMatchObject({
    confirmed: 0,
    returned: bounced.length,
    alreadyRecorded: wiseSent.length,
  });
  expect(await reconcile(program, wiseLater)).toMatchObject({
    returned: 0,
    alreadyRecorded: wiseLater.length,
  });
  for (const id of bounced) {
    const { partner, amount } = issued.get(id)!;
    partner.owed = partner.owed.plus(amount);
  }
  // An unclaimed PayPal item is returned at last.
  const unclaimed = unclaimedIds[0]!;
  expect(await reconcile(program, [`${unclaimed},RETURNED,Unclaimed for 30 days,,2026-03-28`])).toMatchObject(
    { returned: 1 },
  );
  issued.get(unclaimed)!.partner.owed = issued
    .get(unclaimed)!
    .partner.owed.plus(issued.get(unclaimed)!.amount);

  // Day 30: the month-end runs pay what was earned since, and what failed or came back.
  program.setNow(day(30));
  const paypal2 = await checkRun('paypal', day(30));
  const wise2 = await checkRun('wise', day(30));
  expect(paypal2.payouts.some((p) => failedIds.includes(p.payoutId))).toBe(false);
  for (const id of [...failedIds, ...bounced, unclaimed]) {
    const { partner } = issued.get(id)!;
    expect([...paypal2.payouts, ...wise2.payouts].some((p) => p.partnerId === partner.partnerId)).toBe(true);
  }
  expect((await run(program, 'paypal', day(30))).payouts).toEqual([]);

  // Afterwards, every balance is what the model says: earned less what was paid and not given back.
  const book = await balanceBook(program);
  const mismatches = [...model.values()]
    .map((p) => [
      p.partnerId,
      book.payable(p.partnerId, p.currency, day(30)).toFixed(DECIMALS[p.currency]),
      p.owed.toFixed(DECIMALS[p.currency]),
    ])
    .filter(([, actual, expected]) => actual !== expected);
  expect(mismatches).toEqual([]);
  // What PayPal could not send in HUF stayed payable (the ledger agrees with the model above): a fraction
  // of a forint, never rounded away.
  const hufFractions = small.filter((p) => p.currency === 'HUF' && p.payee?.method === 'paypal' && !p.erased);
  expect(hufFractions.some((p) => p.owed.gt(0) && p.owed.lt(1))).toBe(true);
}, 600_000);
