import fc from 'fast-check';
import * as E from 'fp-ts/Either';
import { LedgerDecimal, minorUnitsOf } from '@partner-ledger/events';
import { csvRecord, parseCsvRecord, payableDecimals, sendableAmount, wiseReferenceOf } from './formats';
import { preparePayouts } from './index';
import { createTestProgram, day } from './testing/program';

describe('batch file formats', () => {
  it('gives a Wise payout a reference of 10 digits and capital letters, which the narrowest routes keep whole', () => {
    expect(wiseReferenceOf('po-0244a38ce27f6fd')).toMatch(/^[0-9A-Z]{10}$/);
    expect(wiseReferenceOf('po-0244a38ce27f6fd')).toBe(wiseReferenceOf('po-0244a38ce27f6fd'));
    const references = new Set(Array.from({ length: 20000 }, (_, i) => wiseReferenceOf(`po-${i}`)));
    expect(references.size).toBe(20000);
  });

  it('reads back every CSV record it writes (quotes, commas, line breaks)', () =>
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme-ascii' }), { minLength: 1, maxLength: 6 }),
        (fields) => {
          const text = csvRecord(fields);
          expect(text.endsWith('\r\n')).toBe(true);
          const body = text.slice(0, -2);
          if (!/[\r\n]/.test(body)) expect(parseCsvRecord(body)).toEqual(fields);
        },
      ),
    ));

  it('sends what is payable but less than one unit of the method`s last decimal, never more', () =>
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.constantFrom('paypal' as const, 'wise' as const, 'csv' as const),
        fc.constantFrom('USD', 'EUR', 'JPY', 'HUF', 'TWD', 'BHD'),
        (units, method, currency) => {
          const payable = new LedgerDecimal(units.toString()).div(
            new LedgerDecimal(10).pow(minorUnitsOf(currency)),
          );
          const sent = sendableAmount(method, currency, payable);
          const step = new LedgerDecimal(10).pow(-payableDecimals(method, currency));
          expect(sent.lte(payable)).toBe(true);
          expect(payable.minus(sent).lt(step)).toBe(true);
          expect(sent.decimalPlaces()).toBeLessThanOrEqual(payableDecimals(method, currency));
        },
      ),
    ));

  it('never sends more than is payable: PayPal rounds HUF, JPY and TWD down to whole units', () => {
    expect(sendableAmount('paypal', 'HUF', new LedgerDecimal('12345.99')).toFixed()).toBe('12345');
    expect(sendableAmount('paypal', 'TWD', new LedgerDecimal('0.99')).toFixed()).toBe('0');
    expect(sendableAmount('wise', 'HUF', new LedgerDecimal('12345.99')).toFixed()).toBe('12345.99');
    expect(sendableAmount('paypal', 'USD', new LedgerDecimal('10.01')).toFixed()).toBe('10.01');
  });
});

describe('Wise and generic CSV runs', () => {
  const setUp = async () => {
    const program = await createTestProgram('50.00');
    await program.join('w1', 'EUR', {
      method: 'wise',
      wiseRecipientId: '777',
      accountHolderName: 'Ana, "W"',
    });
    await program.join('w2', 'EUR', { method: 'wise', iban: 'DE89370400440532013000' });
    await program.join('m1', 'USD', { method: 'manual', email: 'm1@example.net' });
    await program.convert('o1', 'w1', 'EUR', '500.00', day(1));
    await program.convert('o2', 'w2', 'EUR', '500.00', day(1));
    await program.convert('o3', 'm1', 'USD', '700.00', day(1));
    program.setNow(day(3));
    return program;
  };

  it('writes Wise`s template columns and skips a payee without a Wise recipient id', async () => {
    const program = await setUp();
    const result = await preparePayouts({
      ledger: program.ledger,
      store: program.store,
      asOf: day(2),
      method: 'wise',
    })();
    if (E.isLeft(result)) throw new Error(result.left.message);
    const [file] = result.right.files;
    const id = result.right.payouts[0]!.payoutId;
    expect(file).toEqual({
      name: 'wise-20260303-EUR-1.csv',
      rows: 1,
      content:
        'name,recipientId,recipientEmail,sourceCurrency,targetCurrency,amount,amountCurrency,paymentReference\r\n' +
        `"Ana, ""W""",777,,EUR,EUR,50.00,target,${wiseReferenceOf(id)}\r\n`,
    });
    expect(result.right.skipped).toEqual([
      { partnerId: 'm1', currency: 'USD', payable: '70.00', reason: 'payee method is manual, not wise' },
      {
        partnerId: 'w2',
        currency: 'EUR',
        payable: '50.00',
        reason: 'no Wise recipient id in the payee details',
      },
    ]);
  });

  it('writes every payee with its details into one generic CSV, whatever the method', async () => {
    const program = await setUp();
    const result = await preparePayouts({
      ledger: program.ledger,
      store: program.store,
      asOf: day(2),
      method: 'csv',
      minimums: { EUR: '60.00' },
    })();
    if (E.isLeft(result)) throw new Error(result.left.message);
    expect(result.right.belowMinimum).toBe(2);
    const [file] = result.right.files;
    const id = result.right.payouts[0]!.payoutId;
    expect(file).toEqual({
      name: 'payouts-20260303.csv',
      rows: 1,
      content:
        'payoutId,partnerId,payeeMethod,currency,amount,email,accountHolderName,iban,wiseRecipientId\r\n' +
        `${id},m1,manual,USD,70.00,m1@example.net,,,\r\n`,
    });
  });

  it('does not pay a PayPal e-mail longer than the 127 bytes PayPal takes', async () => {
    const program = await createTestProgram('50.00');
    await program.join('long', 'USD', { method: 'paypal', email: `${'a'.repeat(116)}@example.net` });
    await program.join('fits', 'USD', { method: 'paypal', email: `${'a'.repeat(115)}@example.net` });
    await program.convert('o-long', 'long', 'USD', '1000.00', day(1));
    await program.convert('o-fits', 'fits', 'USD', '1000.00', day(1));
    program.setNow(day(2));
    const result = await preparePayouts({
      ledger: program.ledger,
      store: program.store,
      asOf: day(2),
      method: 'paypal',
    })();
    expect(E.isRight(result) && [result.right.payouts.map((p) => p.partnerId), result.right.skipped]).toEqual(
      [
        ['fits'],
        [
          {
            partnerId: 'long',
            currency: 'USD',
            payable: '100.00',
            reason: 'PayPal e-mail longer than 127 bytes, more than PayPal takes',
          },
        ],
      ],
    );
  });

  it('refuses a bad minimum before reading anything', async () => {
    const program = await setUp();
    const result = await preparePayouts({
      ledger: program.ledger,
      store: program.store,
      asOf: day(2),
      method: 'csv',
      minimums: { EURO: '5' },
    })();
    expect(result).toMatchObject({ left: { code: 'INVALID_OPTION' } });
    const head = await program.raw.headPosition();
    const note = (text: string) =>
      preparePayouts({
        ledger: program.ledger,
        store: program.store,
        asOf: day(2),
        method: 'paypal',
        note: text,
      })();
    expect(await note('é'.repeat(1001))).toEqual(
      E.left({
        code: 'INVALID_OPTION',
        message: 'note: PayPal takes at most 4000 ASCII or 1000 other characters, got 1001',
      }),
    );
    expect(await note('x'.repeat(4001))).toMatchObject({ left: { code: 'INVALID_OPTION' } });
    expect(await program.raw.headPosition()).toBe(head);
    expect(E.isRight(await note('é'.repeat(1000)))).toBe(true);
  });
});
