import fc from 'fast-check';
import * as E from 'fp-ts/Either';
import { PARTNER_TYPES } from '@partner-ledger/events';
import type { PartnerType } from '@partner-ledger/events';
// Test only: the write side records the histories these properties run over, from generated commands.
// The published projections never import the ledger (docs/architecture.md); only this test does.
// eslint-disable-next-line no-restricted-imports
import { createLedger } from '@partner-ledger/ledger';
import { createInMemoryStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { commissionBalances } from './projections/balances';
import { formatMinor, toMinor } from './money';
import { replay } from './runtime/runner';
import {
  checkBalances,
  checkChunkedCatchUp,
  checkEffectiveAt,
  checkIdentical,
  checkKnownAt,
  checkRevenue,
  eventsOf,
} from './testing/checks';

const RUNS = Number(process.env['PROJECTION_RUNS'] ?? 25);
const START = Date.parse('2026-03-01T00:00:00.000Z');
const HOUR = 3_600_000;
const PARTNERS = 4;

type Step =
  | { kind: 'click'; partner: number; visitor: number; fraud: boolean }
  | { kind: 'influence'; partner: number; account: number }
  | { kind: 'deal'; partner: number; account: number; approve: boolean }
  | {
      kind: 'convert';
      visitor: number;
      account: number | null;
      cents: number;
      euro: boolean;
      renewal: boolean;
    }
  | { kind: 'reverse'; target: number; cents: number | null }
  | { kind: 'hold' | 'release' | 'reject'; target: number }
  | { kind: 'adjust'; partner: number; cents: number }
  | { kind: 'payAll'; partner: number }
  | { kind: 'pay'; partner: number; cents: number }
  | { kind: 'fail'; partner: number }
  | { kind: 'wait'; hours: number };

const partner = fc.nat({ max: PARTNERS - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('click' as const),
      partner,
      visitor: fc.nat({ max: 5 }),
      fraud: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('influence' as const), partner, account: fc.nat({ max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deal' as const),
      partner,
      account: fc.nat({ max: 3 }),
      approve: fc.boolean(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('convert' as const),
      visitor: fc.nat({ max: 5 }),
      account: fc.option(fc.nat({ max: 3 }), { nil: null }),
      cents: fc.integer({ min: 0, max: 200_000 }),
      euro: fc.boolean(),
      renewal: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reverse' as const),
      target: fc.nat(),
      cents: fc.option(fc.integer({ min: 1, max: 50_000 }), { nil: null }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('hold' as const, 'release' as const, 'reject' as const),
      target: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('adjust' as const),
      partner,
      cents: fc.integer({ min: -3_000, max: 3_000 }),
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('payAll' as const), partner }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('pay' as const),
      partner,
      cents: fc.integer({ min: 1, max: 5_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), partner }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), hours: fc.integer({ min: 1, max: 72 }) }),
  },
);

const usd = (cents: number | bigint): string => formatMinor(BigInt(cents), 'USD');

/**
 * Runs generated commands through the ledger's public API (createLedger + execute) on an in-memory store.
 * Every `payAll` also checks the balances projection against the write side: the projection's payable as
 * of now is exactly what the ledger lets the partner be paid (it pays it, and refuses one cent more).
 */
const record = async (
  types: readonly PartnerType[],
  steps: readonly Step[],
): Promise<{ store: EventStore; payoutsChecked: number }> => {
  const store = createInMemoryStore();
  let now = START;
  const ledger = createLedger({ store, clock: () => new Date(now), ids: () => 'x' });
  const run = async (command: Record<string, unknown>) => ledger.execute(command)();
  const must = async (command: Record<string, unknown>) => {
    const result = await run(command);
    if (E.isLeft(result)) throw new Error(`${String(command['command'])} refused: ${result.left.message}`);
    return result.right;
  };
  await must({
    command: 'configureProgram',
    programId: 'program',
    name: 'Program',
    currency: 'USD',
    attribution: {
      model: 'linear',
      clickWindowDays: 30,
      halfLifeDays: 7,
      precedence: ['dealRegistration', 'coupon', 'clicks'],
    },
    minimumPayout: '0.01',
    minClickToConversionSeconds: 0,
  });
  await must({
    command: 'publishPlan',
    planId: 'standard',
    version: 1,
    name: 'Standard',
    currency: 'USD',
    holdDays: 1,
    effectiveFrom: new Date(now).toISOString(),
    rules: [{ kind: 'revenueShare', rate: '0.2' }],
    recurringMaxMonths: null,
    caps: { perConversion: null, perPartnerPerPeriod: null },
    twoTierOverrideRate: '0.1',
  });
  for (let i = 0; i < PARTNERS; i += 1)
    await must({
      command: 'joinPartner',
      partnerId: `p${i}`,
      name: `Partner ${i}`,
      partnerType: types[i % types.length],
      planId: 'standard',
      payoutCurrency: 'USD',
      parentPartnerId: i === PARTNERS - 1 ? 'p0' : null,
    });
  const conversions: string[] = [];
  const lines: Array<{ conversionId: string; lineId: string }> = [];
  const latestPayout = new Map<string, string>();
  let payoutsChecked = 0;
  let n = 0;
  for (const s of steps) {
    n += 1;
    now += 60_000;
    switch (s.kind) {
      case 'wait':
        now += s.hours * HOUR;
        break;
      case 'click':
        await run({
          command: 'trackClick',
          clickId: `c${n}`,
          partnerId: `p${s.partner}`,
          visitorId: `v${s.visitor}`,
          fraudReason: s.fraud ? 'bot' : null,
        });
        break;
      case 'influence':
        await run({
          command: 'recordInfluenceTouch',
          touchId: `t${n}`,
          partnerId: `p${s.partner}`,
          accountId: `a${s.account}`,
          kind: 'integrationInstalled',
        });
        break;
      case 'deal': {
        const registered = await run({
          command: 'registerDeal',
          registrationId: `d${n}`,
          partnerId: `p${s.partner}`,
          accountId: `a${s.account}`,
          expectedValue: '1000.00',
          currency: 'USD',
          expiresAt: new Date(now + 30 * 24 * HOUR).toISOString(),
        });
        if (E.isRight(registered) && s.approve)
          await run({
            command: 'approveDealRegistration',
            registrationId: `d${n}`,
            accountId: `a${s.account}`,
          });
        break;
      }
      case 'convert': {
        const result = await run({
          command: 'recordConversion',
          conversionId: `o${n}`,
          customerId: `k${s.visitor}`,
          visitorId: `v${s.visitor}`,
          accountId: s.account === null ? null : `a${s.account}`,
          kind: s.renewal ? 'renewal' : 'order',
          amount: s.euro ? formatMinor(BigInt(s.cents), 'EUR') : usd(s.cents),
          currency: s.euro ? 'EUR' : 'USD',
          fx: s.euro
            ? [{ from: 'EUR', to: 'USD', rate: '1.0834', source: 'ECB', date: new Date(now).toISOString() }]
            : [],
        });
        if (E.isRight(result)) {
          conversions.push(`o${n}`);
          for (const e of result.right.events)
            if (e.type === 'ConversionAttributed')
              for (const l of e.data.commissions) lines.push({ conversionId: `o${n}`, lineId: l.lineId });
        }
        break;
      }
      case 'reverse': {
        const target = conversions[s.target % Math.max(1, conversions.length)];
        if (target)
          await run({
            command: 'reverseConversion',
            reversalId: `r${n}`,
            conversionId: target,
            kind: 'refund',
            ...(s.cents === null ? {} : { amount: usd(s.cents) }),
          });
        break;
      }
      case 'hold':
      case 'release':
      case 'reject': {
        const line = lines[s.target % Math.max(1, lines.length)];
        if (line)
          await run({
            command: `${s.kind}Commission`,
            ...line,
            ...(s.kind === 'release' ? {} : { reason: 'review' }),
          });
        break;
      }
      case 'adjust':
        if (s.cents !== 0)
          await run({
            command: 'recordManualAdjustment',
            adjustmentId: `adj${n}`,
            partnerId: `p${s.partner}`,
            amount: usd(s.cents),
            currency: 'USD',
            reason: 'correction',
            actor: 'user:finance',
          });
        break;
      case 'pay': {
        const paid = await run({
          command: 'issuePayout',
          payoutId: `pay${n}`,
          partnerId: `p${s.partner}`,
          amount: usd(s.cents),
          currency: 'USD',
          method: 'wise',
        });
        if (E.isRight(paid)) latestPayout.set(`p${s.partner}`, `pay${n}`);
        break;
      }
      case 'payAll': {
        const asOf = new Date(now).toISOString();
        const { results } = await replay(store, { balances: commissionBalances() }, { effectiveAt: asOf });
        const payable = toMinor(
          results.balances.partners[`p${s.partner}`]?.['USD']?.payable ?? '0.00',
          'USD',
        );
        if (payable > 0n) {
          const paid = await run({
            command: 'issuePayout',
            payoutId: `pay${n}`,
            partnerId: `p${s.partner}`,
            amount: usd(payable),
            currency: 'USD',
            method: 'wise',
          });
          expect(E.isRight(paid) ? 'paid' : paid.left.code).toBe('paid');
          latestPayout.set(`p${s.partner}`, `pay${n}`);
        }
        const more = await run({
          command: 'issuePayout',
          payoutId: `more${n}`,
          partnerId: `p${s.partner}`,
          amount: '0.01',
          currency: 'USD',
          method: 'wise',
        });
        expect(E.isLeft(more) ? more.left.code : 'paid').toBe('PAYOUT_EXCEEDS_PAYABLE');
        payoutsChecked += 1;
        break;
      }
      case 'fail': {
        // A failure is reported before the partner's next payout (the projection restores the lines of
        // a partner's latest payout; see docs/projections.md).
        const payoutId = latestPayout.get(`p${s.partner}`);
        if (payoutId) {
          await run({
            command: 'recordPayoutFailure',
            payoutId,
            partnerId: `p${s.partner}`,
            reason: 'bounced',
          });
          latestPayout.delete(`p${s.partner}`);
        }
        break;
      }
    }
  }
  return { store, payoutsChecked };
};

const types = fc.array(fc.constantFrom(...PARTNER_TYPES), { minLength: 1, maxLength: PARTNERS });
const steps = fc.array(step, { minLength: 10, maxLength: 60, size: 'max' });

describe('projections over histories recorded by the ledger from generated commands', () => {
  it('payable as of now is what the ledger pays; balances, trial balance and revenue sums hold', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(types, steps, async (partnerTypes, commands) => {
        const { store, payoutsChecked } = await record(partnerTypes, commands);
        checked += payoutsChecked;
        if (process.env['PROJECTION_STATS']) {
          const counts: Record<string, number> = {};
          for (const { event } of await eventsOf(store)) counts[event.type] = (counts[event.type] ?? 0) + 1;
          process.stdout.write(`${JSON.stringify(counts)}\n`);
        }
        await checkBalances(store);
        await checkRevenue(store);
      }),
      { numRuns: RUNS },
    );
    expect(checked).toBeGreaterThan(RUNS);
  });

  it('one pass equals chunked catch-up from checkpoints; as-of effective and known times equal prefix replays', async () => {
    await fc.assert(
      fc.asyncProperty(
        types,
        steps,
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.boolean(),
        async (partnerTypes, commands, chunks, pick, byPosition) => {
          const { store } = await record(partnerTypes, commands);
          await checkChunkedCatchUp(store, chunks);
          const events = await eventsOf(store);
          await checkEffectiveAt(events, pick);
          await checkKnownAt(events, pick, byPosition);
          await checkIdentical(events);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
