import * as E from 'fp-ts/Either';
import { createInMemoryStore } from '@partner-ledger/store';
import { createLedger } from './ledger';
import { basicProgram, conversionAttributed, programConfigured } from './testing/fixtures';
import type { AnyGivenEvent } from './testing/spec';
import { SPEC_NOW, appendGiven, ledgerSpec } from './testing/spec';

const spec = ledgerSpec(); // now: 2026-03-15T12:00:00.000Z

/** p1 earned 20.00 on o1 (payable since 2026-02-09) and 30.00 on o2 (payable since 2026-02-20). */
const earned: AnyGivenEvent[] = [
  ...basicProgram('p1', 'p2'),
  conversionAttributed({
    conversionId: 'o1',
    partnerId: 'p1',
    amount: '100.00',
    commission: '20.00',
    payableAt: '2026-02-09T00:00:00.000Z',
  }),
  conversionAttributed({
    conversionId: 'o2',
    partnerId: 'p1',
    amount: '150.00',
    commission: '30.00',
    payableAt: '2026-02-20T00:00:00.000Z',
  }),
  conversionAttributed({
    conversionId: 'o3',
    partnerId: 'p1',
    amount: '500.00',
    commission: '100.00',
    payableAt: '2026-04-01T00:00:00.000Z',
  }),
];

const payout = {
  command: 'issuePayout',
  payoutId: 'pay-1',
  partnerId: 'p1',
  amount: '50.00',
  currency: 'USD',
  method: 'wise',
};
const paid = {
  type: 'PayoutIssued' as const,
  data: {
    payoutId: 'pay-1',
    partnerId: 'p1',
    amount: '50.00',
    currency: 'USD',
    method: 'wise' as const,
    externalReference: null,
    settles: [
      { kind: 'commission' as const, id: 'o1/p1/0', amount: '20.00' },
      { kind: 'commission' as const, id: 'o2/p1/0', amount: '30.00' },
    ],
  },
  occurredAt: '2026-03-01T00:00:00.000Z',
};

describe('reverseConversion', () => {
  const reverse = { command: 'reverseConversion', reversalId: 'rev-1', conversionId: 'o1', kind: 'refund' };

  it('reverses all that is left when no amount is given, at the original rate', () =>
    spec
      .given(earned)
      .when(reverse)
      .then([
        {
          type: 'ConversionReversed',
          data: {
            reversalId: 'rev-1',
            amount: '100.00',
            credits: [{ partnerId: 'p1', revenueCredit: '100.00' }],
            lines: [{ lineId: 'o1/p1/0', amount: '20.00', currency: 'USD' }],
            reason: null,
          },
        },
      ]));

  it('reverses part in the original proportions', () =>
    spec
      .given(earned)
      .when({ ...reverse, amount: '25.00', reason: 'one seat refunded' })
      .then([
        {
          type: 'ConversionReversed',
          data: { amount: '25.00', lines: [{ amount: '5.00' }], reason: 'one seat refunded' },
        },
      ]));

  it('is a repeat with the same reversal id', () =>
    spec
      .given([
        ...earned,
        {
          type: 'ConversionReversed',
          data: {
            reversalId: 'rev-1',
            conversionId: 'o1',
            customerId: 'customer-o1',
            kind: 'refund',
            amount: '100.00',
            currency: 'USD',
            credits: [{ partnerId: 'p1', revenueCredit: '100.00' }],
            lines: [{ lineId: 'o1/p1/0', partnerId: 'p1', amount: '20.00', currency: 'USD' }],
            reason: null,
          },
        },
      ])
      .when(reverse)
      .thenAlreadyRecorded());

  it('rejects the same reversal id with other details', () =>
    spec
      .given(earned)
      .when({ ...reverse, amount: '10.00' })
      .run()
      .then(async ({ ledger }) => {
        const again = await ledger.execute({ ...reverse, amount: '20.00' })();
        expect(again).toMatchObject({ left: { code: 'IDEMPOTENCY_CONFLICT', field: 'reversalId' } });
      }));

  it('rejects a reversal amount with more decimals than the conversion`s currency, or of zero', async () => {
    await spec
      .given(earned)
      .when({ ...reverse, amount: '1.001' })
      .thenRejects('REVERSAL_AMOUNT_INVALID', { field: 'amount' });
    await spec
      .given(earned)
      .when({ ...reverse, amount: '0.00' })
      .thenRejects('REVERSAL_AMOUNT_INVALID', { field: 'amount' });
  });

  it('refuses to build on a reversal history that does not fit the conversion (RATING_FAILED)', () =>
    spec
      .given([
        ...earned,
        {
          type: 'ConversionReversed',
          data: {
            reversalId: 'forged',
            conversionId: 'o1',
            customerId: 'customer-o1',
            kind: 'refund',
            amount: '10.00',
            currency: 'USD',
            credits: [{ partnerId: 'p1', revenueCredit: '10.00' }],
            lines: [{ lineId: 'o1/p1/0', partnerId: 'p1', amount: '25.00', currency: 'USD' }],
            reason: null,
          },
        },
      ])
      .when(reverse)
      .thenRejects('RATING_FAILED'));

  it('rejects a reversal larger than what is left', () =>
    spec
      .given(earned)
      .when({ ...reverse, amount: '100.01' })
      .thenRejects('REVERSAL_EXCEEDS_REMAINING'));

  it('rejects a second full reversal (nothing left)', async () => {
    const { ledger } = await spec.given(earned).when(reverse).run();
    expect(await ledger.execute({ ...reverse, reversalId: 'rev-2' })()).toMatchObject({
      left: { code: 'NOTHING_LEFT_TO_REVERSE' },
    });
  });

  it('rejects an unknown conversion', () =>
    spec
      .given(earned)
      .when({ ...reverse, conversionId: 'nope' })
      .thenRejects('CONVERSION_NOT_FOUND', { field: 'conversionId' }));

  it('after payment, leaves a negative balance that the next payout recovers first', async () => {
    const { ledger } = await spec
      .given([
        ...earned,
        paid,
        conversionAttributed({
          conversionId: 'o4',
          partnerId: 'p1',
          amount: '500.00',
          commission: '100.00',
          payableAt: '2026-03-10T00:00:00.000Z',
        }),
      ])
      .when(reverse)
      .run();
    // payable: o4's 100.00, less the 20.00 clawed back on o1 = 80.00
    expect(await ledger.execute({ ...payout, payoutId: 'pay-2', amount: '80.01' })()).toMatchObject({
      left: { code: 'PAYOUT_EXCEEDS_PAYABLE' },
    });
    const second = await ledger.execute({ ...payout, payoutId: 'pay-2', amount: '80.00' })();
    expect(second).toMatchObject({
      right: {
        events: [
          {
            type: 'PayoutIssued',
            data: {
              settles: [
                { kind: 'reversal', id: 'o1/p1/0', amount: '-20.00' },
                { kind: 'commission', id: 'o4/p1/0', amount: '100.00' },
              ],
            },
          },
        ],
      },
    });
  });
});

describe('holdCommission, releaseCommission, rejectCommission', () => {
  const ref = { conversionId: 'o1', lineId: 'o1/p1/0' };
  const held = { type: 'CommissionHeld' as const, data: { ...ref, partnerId: 'p1', reason: 'review' } };

  it('holds a pending line', () =>
    spec
      .given(earned)
      .when({ command: 'holdCommission', ...ref, reason: 'review' })
      .then([{ type: 'CommissionHeld', data: { ...ref, partnerId: 'p1', reason: 'review' } }]));
  it('refuses to hold a held line', () =>
    spec
      .given([...earned, held])
      .when({ command: 'holdCommission', ...ref, reason: 'again' })
      .thenRejects('LINE_NOT_PENDING'));
  it('refuses to hold a line that was paid', () =>
    spec
      .given([...earned, paid])
      .when({ command: 'holdCommission', ...ref, reason: 'late' })
      .thenRejects('LINE_ALREADY_SETTLED'));
  it('rejects an unknown line', () =>
    spec
      .given(earned)
      .when({ command: 'holdCommission', ...ref, lineId: 'nope', reason: 'x' })
      .thenRejects('LINE_NOT_FOUND', { field: 'lineId' }));
  it('rejects a line of an unknown conversion', () =>
    spec
      .given(earned)
      .when({ command: 'holdCommission', conversionId: 'nope', lineId: 'x', reason: 'x' })
      .thenRejects('CONVERSION_NOT_FOUND'));

  it('releases a held line', () =>
    spec
      .given([...earned, held])
      .when({ command: 'releaseCommission', ...ref, note: 'cleared' })
      .then([{ type: 'CommissionReleased', data: { note: 'cleared' } }]));
  it('refuses to release a line that is not held', () =>
    spec
      .given(earned)
      .when({ command: 'releaseCommission', ...ref })
      .thenRejects('LINE_NOT_HELD'));

  it('rejects a held line for good', () =>
    spec
      .given([...earned, held])
      .when({ command: 'rejectCommission', ...ref, reason: 'fraud confirmed' })
      .then([{ type: 'CommissionRejected', data: { reason: 'fraud confirmed' } }]));
  it('refuses anything on a rejected line', () =>
    spec
      .given([
        ...earned,
        held,
        { type: 'CommissionRejected', data: { ...ref, partnerId: 'p1', reason: 'fraud' } },
      ])
      .when({ command: 'releaseCommission', ...ref })
      .thenRejects('LINE_ALREADY_REJECTED'));
  it('refuses to reject a paid line (reverse the conversion instead)', () =>
    spec
      .given([...earned, paid])
      .when({ command: 'rejectCommission', ...ref, reason: 'x' })
      .thenRejects('LINE_ALREADY_SETTLED'));
});

describe('recordManualAdjustment', () => {
  const adjust = {
    command: 'recordManualAdjustment',
    adjustmentId: 'adj-1',
    partnerId: 'p1',
    amount: '-5.00',
    currency: 'USD',
    reason: 'duplicate bonus',
    actor: 'user:ana@vendor.com',
  };

  it('records a signed adjustment with its reason and actor', async () => {
    const { appended } = await spec
      .given(earned)
      .when(adjust)
      .then([{ type: 'ManualAdjustmentRecorded', data: { amount: '-5.00', reason: 'duplicate bonus' } }]);
    expect(appended[0]!.actor).toBe('user:ana@vendor.com');
  });
  it('is a repeat with the same adjustment id', async () => {
    const { ledger } = await spec.given(earned).when(adjust).run();
    expect(await ledger.execute(adjust)()).toMatchObject({ right: { alreadyRecorded: true } });
  });
  it('rejects the same adjustment id with another amount', async () => {
    const { ledger } = await spec.given(earned).when(adjust).run();
    expect(await ledger.execute({ ...adjust, amount: '5.00' })()).toMatchObject({
      left: { code: 'IDEMPOTENCY_CONFLICT', field: 'adjustmentId' },
    });
  });
  it('requires an actor', () => {
    const { actor: _actor, ...withoutActor } = adjust;
    return spec.given(earned).when(withoutActor).thenRejects('INVALID_COMMAND', { field: 'actor' });
  });
  it('rejects an unknown partner', () =>
    spec
      .given(earned)
      .when({ ...adjust, partnerId: 'ghost' })
      .thenRejects('PARTNER_NOT_FOUND'));
  it('rejects an adjustment of zero', () =>
    spec
      .given(earned)
      .when({ ...adjust, amount: '0.00' })
      .thenRejects('INVALID_COMMAND', { field: 'amount' }));
  it('counts towards the payable balance at once', async () => {
    const { ledger } = await spec
      .given(earned)
      .when({ ...adjust, amount: '10.00' })
      .run();
    expect(await ledger.execute({ ...payout, amount: '60.00' })()).toMatchObject({
      right: {
        events: [
          {
            data: {
              settles: [
                { id: 'o1/p1/0' },
                { id: 'o2/p1/0' },
                { kind: 'adjustment', id: 'adj-1', amount: '10.00' },
              ],
            },
          },
        ],
      },
    });
  });
});

describe('issuePayout', () => {
  it('pays the payable balance, listing the lines it settles oldest first', () =>
    spec
      .given(earned)
      .when(payout)
      .then([{ type: 'PayoutIssued', data: paid.data }]));

  it('settles the last line in part', () =>
    spec
      .given([...earned, programConfigured({ minimumPayout: '10.00' })])
      .when({ ...payout, amount: '45.00', externalReference: 'wise-123' })
      .then([
        {
          type: 'PayoutIssued',
          data: {
            externalReference: 'wise-123',
            settles: [
              { id: 'o1/p1/0', amount: '20.00' },
              { id: 'o2/p1/0', amount: '25.00' },
            ],
          },
        },
      ]));

  it('rejects more than the payable balance (pending lines are not payable yet)', async () => {
    const rejection = await spec
      .given(earned)
      .when({ ...payout, amount: '50.01' })
      .thenRejects('PAYOUT_EXCEEDS_PAYABLE', { field: 'amount', rule: 'payoutAtMostPayable' });
    expect(rejection.message).toContain('50.00 USD payable');
  });

  it('leaves held lines out of payable', () =>
    spec
      .given([
        ...earned,
        {
          type: 'CommissionHeld',
          data: { conversionId: 'o2', lineId: 'o2/p1/0', partnerId: 'p1', reason: 'review' },
        },
      ])
      .when(payout)
      .thenRejects('PAYOUT_EXCEEDS_PAYABLE'));

  it('rejects a payout below the program minimum', () =>
    spec
      .given(earned)
      .when({ ...payout, amount: '49.99' })
      .thenRejects('PAYOUT_BELOW_MINIMUM', { rule: 'minimumPayout' }));

  it('is a repeat with the same payout id and body: the first result, nothing appended', () =>
    spec
      .given([...earned, { ...paid, occurredAt: SPEC_NOW }])
      .when(payout)
      .thenAlreadyRecorded());

  it('rejects the same payout id with another body', () =>
    spec
      .given([...earned, paid])
      .when({ ...payout, method: 'paypal' })
      .thenRejects('IDEMPOTENCY_CONFLICT', { field: 'payoutId' }));

  it('rejects a payout id already used for another partner', async () => {
    const store = createInMemoryStore();
    await appendGiven(store, [
      ...earned,
      conversionAttributed({
        conversionId: 'o9',
        partnerId: 'p2',
        amount: '500.00',
        commission: '100.00',
        payableAt: '2026-02-09T00:00:00.000Z',
      }),
    ]);
    const ledger = createLedger({ store, clock: () => new Date(SPEC_NOW), ids: () => 'x' });
    expect(E.isRight(await ledger.execute(payout)())).toBe(true);
    const head = await store.headPosition();
    expect(await ledger.execute({ ...payout, partnerId: 'p2', amount: '60.00' })()).toMatchObject({
      left: { code: 'IDEMPOTENCY_CONFLICT', field: 'payoutId' },
    });
    expect(await store.headPosition()).toBe(head);
  });

  it('rejects an unknown partner', () =>
    spec
      .given(earned)
      .when({ ...payout, partnerId: 'ghost' })
      .thenRejects('PARTNER_NOT_FOUND'));

  it('rejects a payout before the program is configured', () =>
    spec.given(earned.slice(1)).when(payout).thenRejects('PROGRAM_NOT_CONFIGURED'));
});

describe('recordPayoutFailure', () => {
  const failure = {
    command: 'recordPayoutFailure',
    payoutId: 'pay-1',
    partnerId: 'p1',
    reason: 'account closed',
  };

  it('records the failure with the payout`s amount, which returns to payable', async () => {
    const { ledger } = await spec
      .given([...earned, paid])
      .when(failure)
      .then([{ type: 'PayoutFailed', data: { amount: '50.00', currency: 'USD', reason: 'account closed' } }]);
    expect(await ledger.execute({ ...payout, payoutId: 'pay-2' })()).toMatchObject({
      right: { events: [{ data: { amount: '50.00' } }] },
    });
  });
  it('is a repeat with the same reason', async () => {
    const { ledger } = await spec
      .given([...earned, paid])
      .when(failure)
      .run();
    expect(await ledger.execute(failure)()).toMatchObject({ right: { alreadyRecorded: true } });
  });
  it('rejects the same failure with another reason', async () => {
    const { ledger } = await spec
      .given([...earned, paid])
      .when(failure)
      .run();
    expect(await ledger.execute({ ...failure, reason: 'other' })()).toMatchObject({
      left: { code: 'IDEMPOTENCY_CONFLICT' },
    });
  });
  it('rejects an unknown payout', () =>
    spec.given(earned).when(failure).thenRejects('PAYOUT_NOT_FOUND', { field: 'payoutId' }));
});

describe('confirmPayout', () => {
  const confirmation = {
    command: 'confirmPayout',
    payoutId: 'pay-1',
    partnerId: 'p1',
    providerReference: 'TX-77',
    occurredAt: '2026-03-15T10:00:00.000Z',
  };

  it('records the provider`s confirmation with the payout`s amount, and pays nothing more', async () => {
    const { ledger } = await spec
      .given([...earned, paid])
      .when(confirmation)
      .then([
        {
          type: 'PayoutConfirmed',
          data: { payoutId: 'pay-1', amount: '50.00', currency: 'USD', providerReference: 'TX-77' },
        },
      ]);
    expect(await ledger.execute(confirmation)()).toMatchObject({ right: { alreadyRecorded: true } });
    expect(await ledger.execute({ ...payout, payoutId: 'pay-2' })()).toMatchObject({
      left: { code: 'PAYOUT_EXCEEDS_PAYABLE' },
    });
  });
  it('lets a confirmed payout be returned: its amount is payable again', async () => {
    const { ledger } = await spec
      .given([...earned, paid])
      .when(confirmation)
      .run();
    expect(
      await ledger.execute({
        command: 'recordPayoutFailure',
        payoutId: 'pay-1',
        partnerId: 'p1',
        reason: 'returned: account closed',
      })(),
    ).toMatchObject({ right: { alreadyRecorded: false } });
    expect(await ledger.execute({ ...payout, payoutId: 'pay-2' })()).toMatchObject({
      right: { events: [{ data: { amount: '50.00' } }] },
    });
  });
  it('rejects an unknown payout, and one that failed, appending nothing', async () => {
    await spec.given(earned).when(confirmation).thenRejects('PAYOUT_NOT_FOUND', { field: 'payoutId' });
    await spec
      .given([
        ...earned,
        paid,
        {
          type: 'PayoutFailed',
          data: { payoutId: 'pay-1', partnerId: 'p1', amount: '50.00', currency: 'USD', reason: 'bounced' },
        },
      ])
      .when(confirmation)
      .thenRejects('PAYOUT_ALREADY_FAILED', { field: 'payoutId' });
  });
});

describe('a command dated before the fact it acts on (OCCURRED_BEFORE_SUBJECT)', () => {
  // Each was accepted: `partner-ledger report balances --as-of` a moment in between then showed a partner
  // "paid -60.00" (a failure returning what no payout had settled yet), or a reversal of revenue never
  // earned. The conversions of `earned` occurred at 2026-01-10T00:00:00.000Z, the payout `paid` at
  // 2026-03-01T00:00:00.000Z.
  const beforeConversions = '2026-01-09T23:59:59.999Z';
  const before = '2026-02-28T23:59:59.999Z';

  it('refuses a reversal dated before its conversion, appending nothing; the same moment is allowed', async () => {
    const reverse = { command: 'reverseConversion', reversalId: 'rev-1', conversionId: 'o1', kind: 'refund' };
    await spec
      .given(earned)
      .when({ ...reverse, occurredAt: beforeConversions })
      .thenRejects('OCCURRED_BEFORE_SUBJECT', { field: 'occurredAt' });
    await spec
      .given(earned)
      .when({ ...reverse, occurredAt: '2026-01-10T00:00:00.000Z' })
      .then([{ type: 'ConversionReversed', data: { amount: '100.00' } }]);
  });

  it.each(['holdCommission', 'releaseCommission', 'rejectCommission'])(
    'refuses %s of a line dated before its conversion',
    (command) =>
      spec
        .given(earned)
        .when({
          command,
          conversionId: 'o3',
          lineId: 'o3/p1/0',
          ...(command === 'releaseCommission' ? {} : { reason: 'review' }),
          occurredAt: beforeConversions,
        })
        .thenRejects('OCCURRED_BEFORE_SUBJECT', { field: 'occurredAt' }),
  );

  it('refuses a confirmation or a failure dated before the payout was issued', async () => {
    await spec
      .given([...earned, paid])
      .when({ command: 'confirmPayout', payoutId: 'pay-1', partnerId: 'p1', occurredAt: before })
      .thenRejects('OCCURRED_BEFORE_SUBJECT', { field: 'occurredAt' });
    await spec
      .given([...earned, paid])
      .when({
        command: 'recordPayoutFailure',
        payoutId: 'pay-1',
        partnerId: 'p1',
        reason: 'x',
        occurredAt: before,
      })
      .thenRejects('OCCURRED_BEFORE_SUBJECT', { field: 'occurredAt' });
  });

  it('records a return dated before the confirmation, which may carry only when it was reconciled', async () => {
    const confirmed = {
      type: 'PayoutConfirmed' as const,
      data: {
        payoutId: 'pay-1',
        partnerId: 'p1',
        amount: '50.00',
        currency: 'USD',
        providerReference: 'TX-1',
      },
      occurredAt: '2026-03-10T00:00:00.000Z',
    };
    const returned = {
      command: 'recordPayoutFailure',
      payoutId: 'pay-1',
      partnerId: 'p1',
      reason: 'returned',
    };
    await spec
      .given([...earned, paid, confirmed])
      .when({ ...returned, occurredAt: '2026-03-05T00:00:00.000Z' })
      .then([{ type: 'PayoutFailed', data: { amount: '50.00' } }]);
  });
});
