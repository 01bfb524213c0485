// The command mix: what happens on an ordinary simulated moment (clicks, conversions, influence touches,
// deal registrations, invoices, adjustments, suspensions, plan changes), each with its relative weight.
import { fromMinorUnits, formatAmount } from '@partner-ledger/events';
import type { CurrencyCode } from '@partner-ledger/events';
import { DAY, FRAUD_REASONS, PLAN_IDS, PROGRAM_CURRENCY, fx, iso } from './program';
import { isOutcome } from './world';
import type { AfterConversion, SimulationWorld } from './world';

/** The actions and their weights; the visitors seen lately, to convert or click again, are their own state. */
export const createActions = (
  world: SimulationWorld,
  afterConversion: AfterConversion,
): ReadonlyArray<readonly [() => Promise<void>, number]> => {
  const { random, run, now, tasks, next } = world;
  const money = (min: number, max: number, currency: CurrencyCode): string =>
    formatAmount(fromMinorUnits(BigInt(random.int(min * 100, max * 100)), currency), currency);

  const recentVisitors: Array<{ visitorId: string; clickedAt: number }> = [];
  const RECENT = 20_000;
  let visitorCount = 0;
  let lastVisitor: { visitorId: string; clickedAt: number } | undefined;

  const conversionCurrency = (): CurrencyCode =>
    random.weighted([
      ['USD', 80],
      ['EUR', 15],
      ['GBP', 5],
    ] as const);

  return [
    [
      async () => {
        const partner = world.clickPartner();
        if (partner === undefined) return;
        const reuse = recentVisitors.length > 0 && random.chance(0.3);
        const visitorId = reuse
          ? random.pick(recentVisitors).visitorId
          : `visitor-${(visitorCount += 1).toString(36)}`;
        const fraud = random.chance(0.02);
        await run('trackClick', {
          clickId: next('click'),
          partnerId: partner.id,
          visitorId,
          campaign: random.pick(['spring-launch', 'newsletter', 'review-post', 'youtube', null]),
          url: `https://vendor.example/landing/${random.pick(['pricing', 'features', 'signup'])}`,
          ipFingerprint: random.hex(64),
          userAgentFingerprint: random.hex(64),
          fraudReason: fraud ? random.pick(FRAUD_REASONS) : null,
          occurredAt: iso(now()),
        });
        if (!reuse) {
          lastVisitor = { visitorId, clickedAt: now() };
          if (recentVisitors.length >= RECENT)
            recentVisitors[random.int(0, RECENT - 1)] = { visitorId, clickedAt: now() };
          else recentVisitors.push({ visitorId, clickedAt: now() });
        }
      },
      60,
    ],
    [
      async () => {
        // Now and then a conversion follows its click within seconds: a fraud signal the ledger holds.
        const fast = lastVisitor !== undefined && random.chance(0.01);
        const visitor = fast
          ? lastVisitor
          : recentVisitors.length > 0
            ? random.pick(recentVisitors)
            : undefined;
        if (visitor === undefined) return;
        const currency = conversionCurrency();
        const at = fast ? Math.min(now(), visitor.clickedAt + random.int(5, 20) * 1000) : now();
        const amount = money(19, 499, currency);
        const conversionId = next('order');
        const customerId = `customer-${visitor.visitorId}`;
        const outcome = await run('recordConversion', {
          conversionId,
          customerId,
          kind: 'order',
          amount,
          currency,
          visitorId: visitor.visitorId,
          fx: fx(currency, iso(at)),
          occurredAt: iso(at),
        });
        afterConversion(outcome, conversionId, amount);
        if (isOutcome(outcome) && random.chance(0.3))
          tasks.push(iso(at + 30 * DAY), {
            kind: 'renew',
            subscription: { origin: conversionId, customerId, amount, currency, renewals: 0 },
          });
      },
      9,
    ],
    [
      async () => {
        const partner = world.couponPartner();
        if (partner === undefined) return;
        const currency = conversionCurrency();
        const amount = money(29, 299, currency);
        const conversionId = next('order');
        const outcome = await run('recordConversion', {
          conversionId,
          customerId: `customer-${conversionId}`,
          kind: 'order',
          amount,
          currency,
          couponCode: partner.coupon,
          fx: fx(currency, iso(now())),
          occurredAt: iso(now()),
        });
        afterConversion(outcome, conversionId, amount);
      },
      1.5,
    ],
    [
      async () => {
        const partner = world.influencePartner();
        if (partner === undefined) return;
        await run('recordInfluenceTouch', {
          touchId: next('touch'),
          partnerId: partner.id,
          accountId: `acct-${random.int(1, world.accounts)}`,
          kind:
            partner.type === 'technology'
              ? 'integrationInstalled'
              : random.pick(['coSelling', 'introduction', 'servicesEngagement'] as const),
          note: null,
          occurredAt: iso(now()),
        });
      },
      4,
    ],
    [
      async () => {
        const partner = world.dealPartner();
        if (partner === undefined) return;
        if (partner.suspended) return;
        const own = partner.ownAccount !== null && random.chance(0.03);
        const accountId = own ? partner.ownAccount! : `acct-${random.int(1, world.accounts)}`;
        if (world.activeRegistration.has(accountId)) return;
        const registrationId = next('reg');
        const value = random.int(5_000, 80_000);
        const outcome = await run('registerDeal', {
          registrationId,
          partnerId: partner.id,
          accountId,
          expectedValue: `${value}.00`,
          currency: PROGRAM_CURRENCY,
          expiresAt: iso(now() + 60 * DAY),
          occurredAt: iso(now()),
        });
        if (!isOutcome(outcome)) return;
        world.activeRegistration.set(accountId, registrationId);
        tasks.push(iso(now() + random.int(1, 4) * DAY), {
          kind: 'approveOrReject',
          registrationId,
          accountId,
          expiresAt: now() + 60 * DAY,
        });
      },
      2.5,
    ],
    [
      async () => {
        // An invoice from an account that partners may have influenced (no click, no coupon).
        const currency = conversionCurrency();
        const amount = money(500, 5_000, currency);
        const conversionId = next('invoice');
        const accountId = `acct-${random.int(1, world.accounts)}`;
        const outcome = await run('recordConversion', {
          conversionId,
          customerId: `customer-${accountId}`,
          accountId,
          kind: 'invoice',
          amount,
          currency,
          fx: fx(currency, iso(now())),
          occurredAt: iso(now()),
        });
        afterConversion(outcome, conversionId, amount);
      },
      1,
    ],
    [
      async () => {
        const partner = world.anyPartner();
        if (partner === undefined) return;
        const amount = money(5, 120, partner.currency);
        await run('recordManualAdjustment', {
          adjustmentId: next('adj'),
          partnerId: partner.id,
          amount: random.chance(0.7) ? amount : `-${amount}`,
          currency: partner.currency,
          reason: random.pick([
            'goodwill bonus',
            'correction of a duplicate payout line',
            'contest prize',
            'fee refund',
          ]),
          actor: random.pick(['user:ana@vendor.example', 'user:li@vendor.example']),
          occurredAt: iso(now()),
        });
      },
      0.3,
    ],
    [
      async () => {
        const partner = world.anyPartner();
        if (partner === undefined) return;
        if (partner.suspended || random.chance(0.5)) return;
        partner.suspended = true;
        await run('changePartnerStatus', {
          partnerId: partner.id,
          status: 'suspended',
          reason: 'compliance review',
          occurredAt: iso(now()),
        });
        tasks.push(iso(now() + random.int(5, 25) * DAY), { kind: 'reactivate', partnerId: partner.id });
      },
      0.1,
    ],
    [
      async () => {
        const partner = world.clickPartner();
        if (partner === undefined) return;
        if (partner.type !== 'affiliate' || partner.currency !== PROGRAM_CURRENCY) return;
        const planId =
          partner.planId === PLAN_IDS.affiliateCps ? PLAN_IDS.affiliateShare : PLAN_IDS.affiliateCps;
        partner.planId = planId;
        await run('changePartnerPlan', { partnerId: partner.id, planId, occurredAt: iso(now()) });
      },
      0.1,
    ],
  ];
};
