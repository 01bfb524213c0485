import * as E from 'fp-ts/Either';
import { parseResultFile, preparePayouts, reconcilePayouts } from './index';
import type { PreparedBatch } from './index';
import { createTestProgram, day, reconciled } from './testing/program';
import type { TestProgram } from './testing/program';

// A PayPal run, end to end on a small program: who is paid, what the file says, what the ledger records,
// and what reconciliation does with paid, failed and returned items.

const prepared = async (program: TestProgram, asOf: string): Promise<PreparedBatch> => {
  const result = await preparePayouts({
    ledger: program.ledger,
    store: program.store,
    asOf,
    method: 'paypal',
  })();
  if (E.isLeft(result)) throw new Error(result.left.message);
  return result.right;
};

const idOf = (batch: PreparedBatch, partnerId: string): string =>
  batch.payouts.find((p) => p.partnerId === partnerId)!.payoutId;

const payable = (program: TestProgram, partnerId: string, currency: string, at: string) =>
  program.payable(partnerId, currency, at);

const setUp = async () => {
  const program = await createTestProgram('50.00');
  await program.join('ana', 'USD', { method: 'paypal', email: 'ana@example.net' });
  await program.join('ben', 'USD', { method: 'paypal', email: 'ben@example.net' });
  await program.join('hu', 'HUF', { method: 'paypal', email: 'hu@example.net' });
  await program.join('jp', 'JPY', { method: 'paypal', email: 'jp@example.net' });
  await program.join('wiz', 'USD', { method: 'wise', wiseRecipientId: '1234567' });
  await program.join('gone', 'USD', { method: 'paypal', email: 'gone@example.net' });
  await program.join('none', 'USD');
  await program.convert('o-ana', 'ana', 'USD', '1234.50', day(1)); // 123.45
  await program.convert('o-ben', 'ben', 'USD', '300.00', day(1)); // 30.00: below the minimum
  await program.convert('o-hu', 'hu', 'HUF', '123456.70', day(2)); // 12345.67 HUF
  await program.convert('o-jp', 'jp', 'JPY', '55555', day(2)); // 5556 JPY (5555.5 rounded half to even)
  await program.convert('o-wiz', 'wiz', 'USD', '1000.00', day(2));
  await program.convert('o-gone', 'gone', 'USD', '1000.00', day(2));
  await program.convert('o-none', 'none', 'USD', '1000.00', day(2));
  program.setNow(day(3));
  await program.privacy.erasePersonalData({
    subject: { kind: 'partner', id: 'gone' },
    requestedBy: 'ticket:1',
    reason: 'test',
  })();
  program.setNow(day(10));
  return program;
};

describe('a PayPal payout run', () => {
  it('pays every partner at or above the minimum, in one file a currency, keeping what PayPal cannot send', async () => {
    const program = await setUp();
    const batch = await prepared(program, day(5));
    // By file (currency), then by partner.
    expect(batch.payouts.map((p) => [p.partnerId, p.currency, p.amount, p.payable, p.file])).toEqual([
      ['hu', 'HUF', '12345.00', '12345.67', 'paypal-20260306-HUF-1.csv'],
      ['jp', 'JPY', '5556', '5556', 'paypal-20260306-JPY-1.csv'],
      ['ana', 'USD', '123.45', '123.45', 'paypal-20260306-USD-1.csv'],
    ]);
    expect(batch.belowMinimum).toBe(1);
    expect(batch.skipped.map((s) => [s.partnerId, s.reason])).toEqual([
      ['gone', 'personal data erased: the payee details are gone, so it cannot be paid'],
      ['none', 'no payee details'],
      ['wiz', 'payee method is wise, not paypal'],
    ]);
    const ana = idOf(batch, 'ana');
    expect(ana).toMatch(/^po-[0-9a-f]{15}$/);
    expect(batch.files.map((f) => [f.name, f.rows])).toEqual([
      ['paypal-20260306-HUF-1.csv', 1],
      ['paypal-20260306-JPY-1.csv', 1],
      ['paypal-20260306-USD-1.csv', 1],
    ]);
    expect(batch.files[2]!.content).toBe(
      `ana@example.net,123.45,USD,${ana},Partner commission payout,PAYPAL\r\n`,
    );
    expect(batch.files[0]!.content).toMatch(/^hu@example\.net,12345,HUF,po-[0-9a-f]{15},/);
    // The fraction PayPal cannot send stays payable; the rest is settled.
    expect(await payable(program, 'hu', 'HUF', day(5))).toBe('0.67');
    expect(await payable(program, 'ana', 'USD', day(5))).toBe('0');
  });

  it('prepares nothing the second time for the same balances', async () => {
    const program = await setUp();
    const first = await prepared(program, day(5));
    const head = await program.raw.headPosition();
    const again = await prepared(program, day(5));
    expect(again.payouts).toEqual([]);
    // The payouts the first run recorded are still open: their files are written again, byte for byte.
    expect(again.reopened).toEqual(first.payouts.map(({ payable: _p, ...payout }) => payout));
    expect(again.files).toEqual(first.files);
    // ana and jp were paid all they had: a zero balance is not "below the minimum"; ben's 30.00 is, and so
    // is hu's 0.67 HUF that PayPal cannot send.
    expect(again.belowMinimum).toBe(2);
    // Nor is anything sent to the ledger for a zero payout, or listed as not paid.
    expect(again.skipped.map((s) => s.partnerId)).toEqual(['gone', 'none', 'wiz']);
    expect(await program.raw.headPosition()).toBe(head);
  });

  it('counts a partner paid all it had neither as below the minimum nor as not paid', async () => {
    const program = await setUp();
    const run = (asOf: string) =>
      preparePayouts({
        ledger: program.ledger,
        store: program.store,
        asOf,
        method: 'paypal',
        minimums: { USD: '10.00', HUF: '1.00' },
      })();
    const first = await run(day(5));
    expect(E.isRight(first) && first.right.payouts.map((p) => p.partnerId)).toEqual(['hu', 'jp', 'ana']);
    const again = await run(day(6));
    // ana and jp have nothing left; hu's 0.67 HUF, which PayPal cannot send, waits (ben's 30.00 USD is
    // refused by the ledger, under the program's minimum of 50.00).
    expect(
      E.isRight(again) && [again.right.belowMinimum, again.right.skipped.map((s) => s.partnerId)],
    ).toEqual([1, ['gone', 'none', 'wiz', 'ben']]);
  });

  it('reconciles paid, failed and returned items idempotently; failures and returns are payable again', async () => {
    const program = await setUp();
    const batch = await prepared(program, day(5));
    const [ana, hu, jp] = ['ana', 'hu', 'jp'].map((partner) => idOf(batch, partner));
    const first = [
      'Item ID,Status,Transaction ID,Reason,Date',
      `${ana},SUCCESS,TX-ana,,2026-03-07`,
      `${hu},FAILED,,"Receiver account locked, try later",2026-03-07`,
      `${jp},UNCLAIMED,,,2026-03-07`,
    ].join('\n');
    const run = (text: string) => reconcilePayouts({ ledger: program.ledger, store: program.store, text })();
    const pendingResults = [{ where: 'line 4', payoutId: jp, status: 'UNCLAIMED' }];
    expect(await run(first)).toEqual(reconciled({ confirmed: 1, failed: 1 }, pendingResults));
    const head = await program.raw.headPosition();
    expect(await run(first)).toEqual(reconciled({ alreadyRecorded: 2 }, pendingResults));
    expect(await program.raw.headPosition()).toBe(head);
    expect(await payable(program, 'hu', 'HUF', day(10))).toBe('12345.67');

    // Weeks later: the JPY item was returned unclaimed, and ana's paid one came back.
    const later = [
      'payoutId,status,reason,date',
      `${jp},RETURNED,unclaimed for 30 days,2026-03-09`,
      `${ana},SUCCESS,,2026-03-07`,
      `${ana},RETURNED,account closed,2026-03-09`,
    ].join('\n');
    expect(await run(later)).toEqual(reconciled({ returned: 2, alreadyRecorded: 1 }));
    expect(await payable(program, 'ana', 'USD', day(10))).toBe('123.45');
    expect(await payable(program, 'jp', 'JPY', day(10))).toBe('5556');

    // The next run pays them again, under new payout ids.
    const next = await prepared(program, day(10));
    expect(next.payouts.map((p) => [p.partnerId, p.amount])).toEqual([
      ['hu', '12345.00'],
      ['jp', '5556'],
      ['ana', '123.45'],
    ]);
    expect(next.payouts.map((p) => p.payoutId)).not.toContain(ana);
  });

  it('dates a result given as a day on the payout’s own day when the payout was issued, and refuses the day before', async () => {
    const program = await setUp();
    const issuedAt = new Date(Date.parse(day(5)) + 10 * 3_600_000).toISOString(); // 10:00 that day
    const batch = await prepared(program, issuedAt);
    const [ana, hu] = ['ana', 'hu'].map((partner) => idOf(batch, partner));
    const sameDay = issuedAt.slice(0, 10);
    const dayBefore = day(4).slice(0, 10);
    const run = (text: string) => reconcilePayouts({ ledger: program.ledger, store: program.store, text })();
    const head = await program.raw.headPosition();
    expect(await run(['payoutId,status,date', `${ana},SUCCESS,${dayBefore}`].join('\n'))).toEqual(
      E.left([
        {
          where: 'line 2',
          field: 'date',
          message: `${dayBefore}T00:00:00.000Z is before payout ${ana} was issued (${issuedAt})`,
        },
      ]),
    );
    // A time, not a day, before the issue is refused even on the same day: it says more than a day does.
    expect(
      E.isLeft(await run(['payoutId,status,date', `${ana},SUCCESS,${sameDay}T09:00:00Z`].join('\n'))),
    ).toBe(true);
    expect(await program.raw.headPosition()).toBe(head);
    const text = [
      'payoutId,status,reason,date',
      `${ana},SUCCESS,,${sameDay}`,
      `${hu},FAILED,locked,${sameDay}`,
    ];
    expect(await run(text.join('\n'))).toEqual(reconciled({ confirmed: 1, failed: 1 }));
    const recorded: { type: string; occurredAt: string }[] = [];
    for await (const event of program.raw.readAll({ fromPosition: head + 1 })) recorded.push(event);
    expect(recorded.map((e) => [e.type, e.occurredAt])).toEqual([
      ['PayoutConfirmed', issuedAt],
      ['PayoutFailed', issuedAt],
    ]);
  });

  it('refuses a result file with a bad line, naming it, and records nothing', async () => {
    const program = await setUp();
    const batch = await prepared(program, day(5));
    const ana = idOf(batch, 'ana');
    const head = await program.raw.headPosition();
    const text = [
      'payoutId,status,date',
      `${ana},SUCCESS,2026-03-07`,
      `${ana},EXPLODED,2026-03-07`,
      'po-unknown,SUCCESS,',
      `${ana},"SUCCESS`,
    ].join('\n');
    const result = await reconcilePayouts({ ledger: program.ledger, store: program.store, text })();
    expect(E.isLeft(result) && result.left.map((p) => `${p.where} ${p.field}`)).toEqual([
      'line 3 status',
      'line 5 (line)',
    ]);
    const unknown = await reconcilePayouts({
      ledger: program.ledger,
      store: program.store,
      text: ['payoutId,status', `${ana},SUCCESS`, 'po-unknown,SUCCESS'].join('\n'),
    })();
    expect(unknown).toEqual(
      E.left([{ where: 'line 3', field: 'payoutId', message: 'no payout "po-unknown" was prepared' }]),
    );
    expect(await program.raw.headPosition()).toBe(head);
    // A date that does not exist is refused, not rolled over into the next month by Date (30 February was
    // recorded as 2 March), as is one out of the ledger's range; real ones are read as the instant they name.
    for (const date of ['2025-02-30', '2025-04-31T10:00:00Z', '2025-01-01T24:00:00Z', '1969-12-31'])
      expect(parseResultFile(['payoutId,status,date', `${ana},SUCCESS,${date}`].join('\n'))).toEqual(
        E.left([
          {
            where: 'line 2',
            field: 'date',
            message: `expected a date (2026-03-31) or an RFC 3339 time, got ${JSON.stringify(date)}`,
          },
        ]),
      );
    for (const [date, at] of [
      ['2024-02-29', '2024-02-29T00:00:00.000Z'],
      ['2025-03-01T01:30+02:00', '2025-02-28T23:30:00.000Z'],
      ['2025-03-01T10:00:00.123456789Z', '2025-03-01T10:00:00.123Z'],
    ])
      expect(parseResultFile(['payoutId,status,date', `${ana},SUCCESS,${date}`].join('\n'))).toMatchObject(
        E.right([{ at }]),
      );
    expect(E.isLeft(parseResultFile('status\nSUCCESS'))).toBe(true);
    expect(
      parseResultFile(['payoutId,status,reason', `${ana},FAILED,closed, account,SUCCESS`].join('\n')),
    ).toEqual(
      E.left([
        {
          where: 'line 2',
          field: '(line)',
          message: '5 fields, but the header names 3 columns (is a comma in a value not quoted?)',
        },
      ]),
    );
  });
});
