import * as E from 'fp-ts/Either';
import { fromMinorUnits, formatAmount } from '@partner-ledger/events';
import type { CurrencyCode, KeyStore, PartnerType } from '@partner-ledger/events';
import { createLedger, pseudonymizeVisitors } from '@partner-ledger/ledger';
import type { CommandName, Ledger, LedgerRejection, Outcome } from '@partner-ledger/ledger';
import type { EventStore } from '@partner-ledger/store';
import { createHeap } from './heap';
import { createPayableTracker } from './payable';
import { createRandom } from './random';
import type { Random } from './random';

/** What `simulate` builds: the size of the program, the seed and the span of time. */
export interface SimulationOptions {
  /** Partners in the program, across the five types. At least 5 (one of each type). */
  readonly partners: number;
  /**
   * The new events the ledger holds at the end, setup included: exactly this many, unless the setup (the
   * program, its plans and one event per partner) alone takes more.
   */
  readonly events: number;
  /** The same seed gives the same commands, the same events and the same reports. */
  readonly seed: string;
  /** The first day (UTC midnight, ISO). Default 2026-01-01. */
  readonly start?: string;
  /** How many days the activity spans. Default 90. */
  readonly days?: number;
  /** Called after each command with the events recorded so far. */
  readonly onProgress?: (eventsRecorded: number) => void;
  /**
   * The ledger's key store: visitor ids are then pseudonymized (give `store` as a sealing store too, to seal
   * partners' personal fields). Default: none, plaintext.
   */
  readonly keys?: KeyStore;
  /** Called when the ledger refuses a command (the simulation goes on). */
  readonly onRejected?: (command: CommandName, rejection: LedgerRejection) => void;
}

/** What a simulation recorded: events, commands by name and rejections by code. */
export interface SimulationSummary {
  readonly events: number;
  readonly commands: number;
  /** Commands per name. */
  readonly byCommand: Readonly<Record<string, number>>;
  /** Commands the ledger refused, by rejection code (the simulation never forces one). */
  readonly rejected: Readonly<Record<string, number>>;
  /** Commands that were already recorded (a re-run with the same seed): they appended nothing. */
  readonly alreadyRecorded: number;
  readonly from: string;
  readonly to: string;
}

/** What `run` returns instead of running a command once the ledger holds the events asked for. */
const FULL = { full: true } as const;
type RunResult = Outcome | LedgerRejection | typeof FULL;

const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const PROGRAM_CURRENCY: CurrencyCode = 'USD';
const CURRENCIES: readonly CurrencyCode[] = ['USD', 'EUR', 'GBP'];
/** Rates into USD around which the simulated daily rates move; cross rates follow from them. */
const BASE_USD_RATE: Readonly<Record<string, number>> = { USD: 1, EUR: 1.08, GBP: 1.27 };

interface SimPartner {
  readonly id: string;
  readonly type: PartnerType;
  readonly currency: CurrencyCode;
  readonly coupon: string | null;
  readonly ownAccount: string | null;
  planId: string;
  suspended: boolean;
  tier: number;
}

interface Subscription {
  /** The conversion that started it: renewals are named after it. */
  readonly origin: string;
  readonly customerId: string;
  readonly amount: string;
  readonly currency: CurrencyCode;
  renewals: number;
}

type Task =
  | {
      readonly kind: 'approveOrReject';
      readonly registrationId: string;
      readonly accountId: string;
      readonly expiresAt: number;
    }
  | {
      readonly kind: 'closeDeal';
      readonly registrationId: string;
      readonly accountId: string;
      readonly value: number;
      readonly expiresAt: number;
    }
  | { readonly kind: 'expire'; readonly registrationId: string; readonly accountId: string }
  | { readonly kind: 'renew'; readonly subscription: Subscription }
  | {
      readonly kind: 'reverse';
      readonly conversionId: string;
      readonly reversal: 'refund' | 'chargeback' | 'fraud';
      readonly amount: string | null;
    }
  | { readonly kind: 'hold'; readonly conversionId: string; readonly lineId: string }
  | { readonly kind: 'review'; readonly conversionId: string; readonly lineId: string }
  | { readonly kind: 'payouts' }
  | { readonly kind: 'payoutFailure'; readonly payoutId: string; readonly partnerId: string }
  | { readonly kind: 'reactivate'; readonly partnerId: string }
  | { readonly kind: 'monthEnd' }
  | { readonly kind: 'publishPlanV2' };

const PLAN_IDS = {
  affiliateCps: 'affiliate-cps',
  affiliateShare: 'affiliate-revshare',
  referral: 'referral-flat',
  reseller: 'reseller-tiered',
  technology: 'technology-share',
  agency: 'agency-tiered',
  europe: 'eu-affiliate',
} as const;

const noCaps = { perConversion: null, perPartnerPerPeriod: null };

/** Plans of every kind: flat (CPS), revenue share, tiered by revenue and by count, recurring, caps, two-tier, EUR. */
const plans = (effectiveFrom: string) => [
  {
    planId: PLAN_IDS.affiliateCps,
    version: 1,
    name: 'Affiliate cost per sale',
    currency: PROGRAM_CURRENCY,
    holdDays: 30,
    effectiveFrom,
    rules: [{ kind: 'flat', amount: '15.00' }],
    recurringMaxMonths: 0,
    caps: noCaps,
    twoTierOverrideRate: '0.1',
  },
  {
    planId: PLAN_IDS.affiliateShare,
    version: 1,
    name: 'Affiliate revenue share',
    currency: PROGRAM_CURRENCY,
    holdDays: 30,
    effectiveFrom,
    rules: [{ kind: 'revenueShare', rate: '0.2' }],
    recurringMaxMonths: 12,
    caps: { perConversion: '60.00', perPartnerPerPeriod: { amount: '1500.00', period: 'month' } },
    twoTierOverrideRate: '0.1',
  },
  {
    planId: PLAN_IDS.referral,
    version: 1,
    name: 'Customer referral',
    currency: PROGRAM_CURRENCY,
    holdDays: 14,
    effectiveFrom,
    rules: [{ kind: 'flat', amount: '20.00' }],
    recurringMaxMonths: 0,
    caps: noCaps,
    twoTierOverrideRate: null,
  },
  {
    planId: PLAN_IDS.reseller,
    version: 1,
    name: 'Reseller, tiered by quarterly revenue',
    currency: PROGRAM_CURRENCY,
    holdDays: 45,
    effectiveFrom,
    rules: [
      {
        kind: 'tieredRevenueShare',
        period: 'quarter',
        measure: 'revenue',
        tiers: [
          { name: 'silver', from: '0.00', rate: '0.1' },
          { name: 'gold', from: '50000.00', rate: '0.15' },
          { name: 'platinum', from: '200000.00', rate: '0.2' },
        ],
      },
    ],
    recurringMaxMonths: null,
    caps: noCaps,
    twoTierOverrideRate: null,
  },
  {
    planId: PLAN_IDS.technology,
    version: 1,
    name: 'Technology partner influence share',
    currency: PROGRAM_CURRENCY,
    holdDays: 60,
    effectiveFrom,
    rules: [{ kind: 'revenueShare', rate: '0.05' }],
    recurringMaxMonths: 0,
    caps: { perConversion: '2500.00', perPartnerPerPeriod: null },
    twoTierOverrideRate: null,
  },
  {
    planId: PLAN_IDS.agency,
    version: 1,
    name: 'Agency, tiered by monthly conversions',
    currency: PROGRAM_CURRENCY,
    holdDays: 30,
    effectiveFrom,
    rules: [
      {
        kind: 'tieredRevenueShare',
        period: 'month',
        measure: 'conversions',
        tiers: [
          { name: 'standard', from: '0', rate: '0.08' },
          { name: 'preferred', from: '5', rate: '0.12' },
        ],
      },
    ],
    recurringMaxMonths: 6,
    caps: noCaps,
    twoTierOverrideRate: null,
  },
  {
    planId: PLAN_IDS.europe,
    version: 1,
    name: 'EU affiliates (EUR)',
    currency: 'EUR' as CurrencyCode,
    holdDays: 30,
    effectiveFrom,
    rules: [{ kind: 'revenueShare', rate: '1/4' }],
    recurringMaxMonths: 6,
    caps: noCaps,
    twoTierOverrideRate: null,
  },
];

const TYPE_WEIGHTS: ReadonlyArray<readonly [PartnerType, number]> = [
  ['affiliate', 40],
  ['referral', 25],
  ['agency', 12],
  ['reseller', 12],
  ['technology', 11],
];

const FRAUD_REASONS = ['bot: datacenter IP range', 'click flood from one fingerprint', 'known proxy network'];
const TIERS = ['bronze', 'silver', 'gold'];

/** A list of items to draw from with fixed relative weights (a few very active partners, many quiet ones). */
const weightedPicker = <T>(items: readonly T[], random: Random): (() => T | undefined) => {
  const cumulative: number[] = [];
  let total = 0;
  items.forEach((_, rank) => {
    // Only +, * and / (correctly rounded in IEEE 754, so the same on every machine): no pow, no sin.
    total += 1 / (rank + 3);
    cumulative.push(total);
  });
  return () => {
    if (items.length === 0) return undefined;
    const r = random.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return items[lo]!;
  };
};

/**
 * Builds a realistic partner program through the real ledger API (every command decided by the ledger,
 * with its rules), with a seeded random generator, an injected clock and injected ids, so that the same seed
 * gives the same ledger. Memory stays bounded by the partners, the open hold periods and the scheduled work,
 * not by the number of events: it streams millions of events into a store.
 */
export const simulate = async (store: EventStore, options: SimulationOptions): Promise<SimulationSummary> => {
  if (options.partners < 5) throw new RangeError('a simulation needs at least 5 partners, one of each type');
  const random = createRandom(`partner-ledger/${options.seed}`);
  const startMs = Date.parse(options.start ?? '2026-01-01T00:00:00.000Z');
  const days = options.days ?? 90;
  const endMs = startMs + days * DAY;
  let nowMs = startMs;
  let idCounter = 0;
  const ledger: Ledger = createLedger({
    store,
    clock: () => new Date(nowMs),
    ids: () => `sim-${(idCounter += 1).toString(36)}`,
    actor: 'service:simulator',
    ...(options.keys === undefined ? {} : { prepareCommand: pseudonymizeVisitors(options.keys) }),
  });
  const tracker = createPayableTracker();
  const tasks = createHeap<Task>();
  const summary = {
    events: 0,
    commands: 0,
    byCommand: {} as Record<string, number>,
    rejected: {} as Record<string, number>,
    alreadyRecorded: 0,
  };

  // The ledger ends up holding exactly the events asked for (each command records at most one event):
  // once it does, the commands that an action or a scheduled task still has are not run. Unbounded
  // during the setup, which always runs whole.
  let limit = Number.POSITIVE_INFINITY;
  const run = async <N extends CommandName>(name: N, input: Parameters<Ledger[N]>[0]): Promise<RunResult> => {
    if (summary.events >= limit) return FULL;
    const result = await (
      ledger[name] as (i: typeof input) => () => Promise<E.Either<LedgerRejection, Outcome>>
    )(input)();
    summary.commands += 1;
    summary.byCommand[name] = (summary.byCommand[name] ?? 0) + 1;
    if (E.isLeft(result)) {
      summary.rejected[result.left.code] = (summary.rejected[result.left.code] ?? 0) + 1;
      options.onRejected?.(name, result.left);
      return result.left;
    }
    if (result.right.alreadyRecorded) summary.alreadyRecorded += 1;
    else summary.events += result.right.events.length;
    tracker.record(result.right.events);
    options.onProgress?.(summary.events);
    return result.right;
  };
  const isOutcome = (value: RunResult): value is Outcome => 'events' in value;

  // ------------------------------------------------------------------------------------------------
  // Setup: the program, its plans, the partners.

  const setupAt = iso(startMs);
  await run('configureProgram', {
    programId: `simulated-${options.seed}`,
    name: `Simulated partner program (seed ${options.seed})`,
    currency: PROGRAM_CURRENCY,
    attribution: {
      model: 'positionBased',
      clickWindowDays: 30,
      halfLifeDays: 7,
      precedence: ['dealRegistration', 'coupon', 'clicks'],
    },
    minimumPayout: '50.00',
    minClickToConversionSeconds: 30,
    occurredAt: setupAt,
  });
  for (const plan of plans(iso(startMs - 30 * DAY)))
    await run('publishPlan', { ...plan, occurredAt: setupAt } as Parameters<Ledger['publishPlan']>[0]);

  const partners: SimPartner[] = [];
  const byType = new Map<PartnerType, SimPartner[]>();
  const counts = { affiliate: 0, referral: 0, reseller: 0, technology: 0, agency: 0 };
  for (let i = 0; i < options.partners; i += 1) {
    // One of each type first, then by weight.
    const type: PartnerType =
      i < 5
        ? (['agency', 'affiliate', 'referral', 'reseller', 'technology'] as const)[i]!
        : random.weighted(TYPE_WEIGHTS);
    counts[type] += 1;
    const id = `${type}-${String(counts[type]).padStart(4, '0')}`;
    const european = type === 'affiliate' && random.chance(0.15);
    const planId =
      type === 'affiliate'
        ? european
          ? PLAN_IDS.europe
          : random.chance(0.5)
            ? PLAN_IDS.affiliateShare
            : PLAN_IDS.affiliateCps
        : type === 'referral'
          ? PLAN_IDS.referral
          : type === 'reseller'
            ? PLAN_IDS.reseller
            : type === 'technology'
              ? PLAN_IDS.technology
              : PLAN_IDS.agency;
    const agencies = byType.get('agency') ?? [];
    const parent =
      type === 'affiliate' && agencies.length > 0 && random.chance(0.25) ? random.pick(agencies).id : null;
    const partner: SimPartner = {
      id,
      type,
      currency: european ? 'EUR' : PROGRAM_CURRENCY,
      coupon:
        (type === 'affiliate' || type === 'referral') && random.chance(0.4)
          ? `SAVE-${id.toUpperCase()}`
          : null,
      ownAccount: type === 'reseller' || type === 'agency' ? `acct-own-${id}` : null,
      planId,
      suspended: false,
      tier: 0,
    };
    const joinedAt = iso(startMs + Math.floor(random.next() * Math.min(days, 20) * DAY * 0.1));
    nowMs = Math.max(nowMs, Date.parse(joinedAt));
    await run('joinPartner', {
      partnerId: id,
      name: `${type[0]!.toUpperCase()}${type.slice(1)} partner ${counts[type]}`,
      partnerType: type,
      planId,
      payoutCurrency: partner.currency,
      parentPartnerId: parent,
      couponCodes: partner.coupon === null ? [] : [partner.coupon],
      ownAccountIds: partner.ownAccount === null ? [] : [partner.ownAccount],
      occurredAt: joinedAt,
    });
    partners.push(partner);
    byType.set(type, [...(byType.get(type) ?? []), partner]);
  }
  const setupEvents = summary.events;
  const pickFrom = (types: readonly PartnerType[]) =>
    weightedPicker(
      partners.filter((p) => types.includes(p.type)),
      random,
    );
  const clickPartner = pickFrom(['affiliate', 'referral']);
  const couponPartner = weightedPicker(
    partners.filter((p) => p.coupon !== null),
    random,
  );
  const dealPartner = pickFrom(['reseller', 'agency']);
  const influencePartner = pickFrom(['technology', 'agency']);
  const anyPartner = weightedPicker(partners, random);

  // Recurring work: payouts on the 1st of each month, tier reviews at month end, a plan change mid-way.
  for (let month = new Date(startMs); month.getTime() < endMs;) {
    month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
    if (month.getTime() >= endMs) break;
    tasks.push(iso(month.getTime() + 6 * 3_600_000), { kind: 'payouts' });
    tasks.push(iso(month.getTime() - 3_600_000), { kind: 'monthEnd' });
  }
  tasks.push(iso(startMs + Math.floor(days / 2) * DAY), { kind: 'publishPlanV2' });

  // ------------------------------------------------------------------------------------------------
  // Activity.

  const fx = (currency: CurrencyCode, at: string) => {
    const day = Math.floor(Date.parse(at) / DAY);
    // A triangle wave of +-2% over 36 days, shifted per currency: exact arithmetic, the same everywhere.
    const wobble = (code: string) => {
      const phase = (day + code.charCodeAt(0)) % 36;
      return 1 + (0.02 * (phase < 18 ? phase - 9 : 27 - phase)) / 9;
    };
    const usd = (code: string) => BASE_USD_RATE[code]! * wobble(code);
    return CURRENCIES.filter((c) => c !== currency).map((to) => ({
      from: currency,
      to,
      rate: (usd(currency) / usd(to)).toFixed(6),
      source: 'simulated daily reference rate',
      date: `${at.slice(0, 10)}T00:00:00.000Z`,
    }));
  };
  const money = (min: number, max: number, currency: CurrencyCode): string =>
    formatAmount(fromMinorUnits(BigInt(random.int(min * 100, max * 100)), currency), currency);

  const recentVisitors: Array<{ visitorId: string; clickedAt: number }> = [];
  const RECENT = 20_000;
  let visitorCount = 0;
  let lastVisitor: { visitorId: string; clickedAt: number } | undefined;
  let counter = 0;
  const next = (prefix: string): string => `${prefix}-${(counter += 1).toString().padStart(7, '0')}`;
  const activeRegistration = new Map<string, string>();
  const accounts = Math.max(50, options.partners * 10);

  const afterConversion = (outcome: RunResult, conversionId: string, amount: string): void => {
    if (!isOutcome(outcome)) return;
    const attributed = outcome.events.find((e) => e.type === 'ConversionAttributed');
    if (attributed === undefined || attributed.type !== 'ConversionAttributed') return;
    for (const line of attributed.data.commissions)
      if (line.status === 'held')
        tasks.push(iso(nowMs + random.int(2, 12) * DAY), {
          kind: 'review',
          conversionId,
          lineId: line.lineId,
        });
    const roll = random.next();
    if (roll < 0.04)
      tasks.push(iso(nowMs + random.int(1, 40) * DAY), {
        kind: 'reverse',
        conversionId,
        reversal: 'refund',
        amount: random.chance(0.5)
          ? null
          : formatAmount(
              fromMinorUnits(toMinor(amount) / 2n, attributed.data.currency),
              attributed.data.currency,
            ),
      });
    else if (roll < 0.055)
      tasks.push(iso(nowMs + random.int(10, 60) * DAY), {
        kind: 'reverse',
        conversionId,
        reversal: 'chargeback',
        amount: null,
      });
    else if (roll < 0.06)
      tasks.push(iso(nowMs + random.int(1, 20) * DAY), {
        kind: 'reverse',
        conversionId,
        reversal: 'fraud',
        amount: null,
      });
    const pendingLine = attributed.data.commissions.find((l) => l.status === 'pending');
    if (pendingLine !== undefined && random.chance(0.01)) {
      tasks.push(iso(nowMs + 3_600_000), { kind: 'hold', conversionId, lineId: pendingLine.lineId });
    }
  };
  const toMinor = (amount: string): bigint => BigInt(amount.replace('.', ''));

  const conversionCurrency = (): CurrencyCode =>
    random.weighted([
      ['USD', 80],
      ['EUR', 15],
      ['GBP', 5],
    ] as const);

  const actions: ReadonlyArray<readonly [() => Promise<void>, number]> = [
    [
      async () => {
        const partner = clickPartner();
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
          occurredAt: iso(nowMs),
        });
        if (!reuse) {
          lastVisitor = { visitorId, clickedAt: nowMs };
          if (recentVisitors.length >= RECENT)
            recentVisitors[random.int(0, RECENT - 1)] = { visitorId, clickedAt: nowMs };
          else recentVisitors.push({ visitorId, clickedAt: nowMs });
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
        const at = fast ? Math.min(nowMs, visitor.clickedAt + random.int(5, 20) * 1000) : nowMs;
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
        const partner = couponPartner();
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
          fx: fx(currency, iso(nowMs)),
          occurredAt: iso(nowMs),
        });
        afterConversion(outcome, conversionId, amount);
      },
      1.5,
    ],
    [
      async () => {
        const partner = influencePartner();
        if (partner === undefined) return;
        await run('recordInfluenceTouch', {
          touchId: next('touch'),
          partnerId: partner.id,
          accountId: `acct-${random.int(1, accounts)}`,
          kind:
            partner.type === 'technology'
              ? 'integrationInstalled'
              : random.pick(['coSelling', 'introduction', 'servicesEngagement'] as const),
          note: null,
          occurredAt: iso(nowMs),
        });
      },
      4,
    ],
    [
      async () => {
        const partner = dealPartner();
        if (partner === undefined) return;
        if (partner.suspended) return;
        const own = partner.ownAccount !== null && random.chance(0.03);
        const accountId = own ? partner.ownAccount! : `acct-${random.int(1, accounts)}`;
        if (activeRegistration.has(accountId)) return;
        const registrationId = next('reg');
        const value = random.int(5_000, 80_000);
        const outcome = await run('registerDeal', {
          registrationId,
          partnerId: partner.id,
          accountId,
          expectedValue: `${value}.00`,
          currency: PROGRAM_CURRENCY,
          expiresAt: iso(nowMs + 60 * DAY),
          occurredAt: iso(nowMs),
        });
        if (!isOutcome(outcome)) return;
        activeRegistration.set(accountId, registrationId);
        tasks.push(iso(nowMs + random.int(1, 4) * DAY), {
          kind: 'approveOrReject',
          registrationId,
          accountId,
          expiresAt: nowMs + 60 * DAY,
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
        const accountId = `acct-${random.int(1, accounts)}`;
        const outcome = await run('recordConversion', {
          conversionId,
          customerId: `customer-${accountId}`,
          accountId,
          kind: 'invoice',
          amount,
          currency,
          fx: fx(currency, iso(nowMs)),
          occurredAt: iso(nowMs),
        });
        afterConversion(outcome, conversionId, amount);
      },
      1,
    ],
    [
      async () => {
        const partner = anyPartner();
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
          occurredAt: iso(nowMs),
        });
      },
      0.3,
    ],
    [
      async () => {
        const partner = anyPartner();
        if (partner === undefined) return;
        if (partner.suspended || random.chance(0.5)) return;
        partner.suspended = true;
        await run('changePartnerStatus', {
          partnerId: partner.id,
          status: 'suspended',
          reason: 'compliance review',
          occurredAt: iso(nowMs),
        });
        tasks.push(iso(nowMs + random.int(5, 25) * DAY), { kind: 'reactivate', partnerId: partner.id });
      },
      0.1,
    ],
    [
      async () => {
        const partner = clickPartner();
        if (partner === undefined) return;
        if (partner.type !== 'affiliate' || partner.currency !== PROGRAM_CURRENCY) return;
        const planId =
          partner.planId === PLAN_IDS.affiliateCps ? PLAN_IDS.affiliateShare : PLAN_IDS.affiliateCps;
        partner.planId = planId;
        await run('changePartnerPlan', { partnerId: partner.id, planId, occurredAt: iso(nowMs) });
      },
      0.1,
    ],
  ];

  const runTask = async (at: string, task: Task): Promise<void> => {
    switch (task.kind) {
      case 'approveOrReject':
        if (random.chance(0.85)) {
          const outcome = await run('approveDealRegistration', {
            registrationId: task.registrationId,
            accountId: task.accountId,
            occurredAt: at,
          });
          if (!isOutcome(outcome)) return;
          if (random.chance(0.55))
            tasks.push(iso(Date.parse(at) + random.int(5, 50) * DAY), {
              kind: 'closeDeal',
              registrationId: task.registrationId,
              accountId: task.accountId,
              value: random.int(5_000, 80_000),
              expiresAt: task.expiresAt,
            });
          else
            tasks.push(iso(task.expiresAt + DAY), {
              kind: 'expire',
              registrationId: task.registrationId,
              accountId: task.accountId,
            });
        } else {
          await run('rejectDealRegistration', {
            registrationId: task.registrationId,
            accountId: task.accountId,
            reason: random.pick([
              'existing customer',
              'duplicate of a direct opportunity',
              'outside territory',
            ]),
            occurredAt: at,
          });
          activeRegistration.delete(task.accountId);
        }
        return;
      case 'closeDeal': {
        let expiresAt = task.expiresAt;
        if (random.chance(0.2)) {
          // The deal slipped: the partner asks for more time before it closes.
          expiresAt += 30 * DAY;
          await run('extendDealRegistration', {
            registrationId: task.registrationId,
            accountId: task.accountId,
            expiresAt: iso(expiresAt),
            occurredAt: at,
          });
        }
        tasks.push(iso(expiresAt + DAY), {
          kind: 'expire',
          registrationId: task.registrationId,
          accountId: task.accountId,
        });
        const amount = `${task.value}.00`;
        const conversionId = next('won');
        const outcome = await run('recordConversion', {
          conversionId,
          customerId: `customer-${task.accountId}`,
          accountId: task.accountId,
          kind: 'closedWon',
          amount,
          currency: PROGRAM_CURRENCY,
          fx: fx(PROGRAM_CURRENCY, at),
          occurredAt: at,
        });
        afterConversion(outcome, conversionId, amount);
        if (isOutcome(outcome) && random.chance(0.5))
          tasks.push(iso(Date.parse(at) + 30 * DAY), {
            kind: 'renew',
            subscription: {
              origin: conversionId,
              customerId: `customer-${task.accountId}`,
              amount: `${Math.round(task.value / 12)}.00`,
              currency: PROGRAM_CURRENCY,
              renewals: 0,
            },
          });
        return;
      }
      case 'expire':
        await run('expireDealRegistration', {
          registrationId: task.registrationId,
          accountId: task.accountId,
          occurredAt: at,
        });
        activeRegistration.delete(task.accountId);
        return;
      case 'renew': {
        const s = task.subscription;
        s.renewals += 1;
        const conversionId = `${s.origin}-renewal-${s.renewals}`;
        const outcome = await run('recordConversion', {
          conversionId,
          customerId: s.customerId,
          kind: 'renewal',
          amount: s.amount,
          currency: s.currency,
          fx: fx(s.currency, at),
          occurredAt: at,
        });
        afterConversion(outcome, conversionId, s.amount);
        // Churn: about one customer in ten leaves each month.
        if (random.chance(0.9))
          tasks.push(iso(Date.parse(at) + 30 * DAY), { kind: 'renew', subscription: s });
        return;
      }
      case 'reverse':
        await run('reverseConversion', {
          reversalId: next('reversal'),
          conversionId: task.conversionId,
          kind: task.reversal,
          ...(task.amount === null ? {} : { amount: task.amount }),
          reason:
            task.reversal === 'refund'
              ? 'customer asked for a refund'
              : task.reversal === 'chargeback'
                ? 'card chargeback'
                : 'stolen card: order flagged as fraud',
          occurredAt: at,
        });
        return;
      case 'hold': {
        const held = await run('holdCommission', {
          conversionId: task.conversionId,
          lineId: task.lineId,
          reason: 'manual review: unusual order pattern',
          occurredAt: at,
        });
        if (isOutcome(held))
          tasks.push(iso(Date.parse(at) + random.int(2, 10) * DAY), {
            kind: 'review',
            conversionId: task.conversionId,
            lineId: task.lineId,
          });
        return;
      }
      case 'review':
        if (random.chance(0.7))
          await run('releaseCommission', {
            conversionId: task.conversionId,
            lineId: task.lineId,
            note: 'reviewed: legitimate',
            occurredAt: at,
          });
        else
          await run('rejectCommission', {
            conversionId: task.conversionId,
            lineId: task.lineId,
            reason: 'reviewed: self-referral or click fraud',
            occurredAt: at,
          });
        return;
      case 'payouts': {
        tracker.matureUpTo(at);
        const month = at.slice(0, 7);
        for (const { partnerId, currency, minor } of tracker.balances()) {
          if (minor < 5_000n) continue; // the program's minimum payout, 50.00
          const payoutId = `payout-${partnerId}-${currency}-${month}`;
          const outcome = await run('issuePayout', {
            payoutId,
            partnerId,
            amount: formatAmount(fromMinorUnits(minor, currency), currency),
            currency,
            method: random.pick(['bankTransfer', 'paypal', 'wise', 'stripe'] as const),
            externalReference: `batch-${month}`,
            occurredAt: at,
          });
          if (isOutcome(outcome) && random.chance(0.03))
            tasks.push(iso(Date.parse(at) + random.int(2, 5) * DAY), {
              kind: 'payoutFailure',
              payoutId,
              partnerId,
            });
        }
        return;
      }
      case 'payoutFailure':
        await run('recordPayoutFailure', {
          payoutId: task.payoutId,
          partnerId: task.partnerId,
          reason: random.pick(['bank account closed', 'invalid IBAN', 'PayPal account limited']),
          occurredAt: at,
        });
        return;
      case 'reactivate': {
        const partner = partners.find((p) => p.id === task.partnerId);
        if (partner === undefined || !partner.suspended) return;
        partner.suspended = false;
        await run('changePartnerStatus', {
          partnerId: partner.id,
          status: 'active',
          reason: 'review passed',
          occurredAt: at,
        });
        return;
      }
      case 'monthEnd': {
        // The most active partners move up a tier (a label: plans decide rates).
        for (let i = 0; i < Math.min(3, partners.length); i += 1) {
          const partner = anyPartner();
          if (partner === undefined) return;
          if (partner.tier >= TIERS.length - 1) continue;
          partner.tier += 1;
          await run('changePartnerTier', {
            partnerId: partner.id,
            tier: TIERS[partner.tier]!,
            reason: `monthly review ${at.slice(0, 7)}`,
            occurredAt: at,
          });
        }
        return;
      }
      case 'publishPlanV2': {
        // A better rate from now on; what was earned under version 1 is never re-rated.
        const [, share] = plans(iso(startMs - 30 * DAY));
        await run('publishPlan', {
          ...share,
          version: 2,
          effectiveFrom: at,
          rules: [{ kind: 'revenueShare', rate: '0.25' }],
          occurredAt: at,
        } as Parameters<Ledger['publishPlan']>[0]);
        return;
      }
    }
  };

  const target = Math.max(options.events, setupEvents + 1);
  const activityEvents = target - setupEvents;
  limit = target;
  while (summary.events < target) {
    const progress = (summary.events - setupEvents) / activityEvents;
    nowMs = Math.max(nowMs, startMs + Math.floor(progress * days * DAY));
    const now = iso(nowMs);
    for (let key = tasks.peekKey(); key !== undefined && key <= now; key = tasks.peekKey()) {
      const { key: at, value } = tasks.pop()!;
      await runTask(at, value);
    }
    const [action] = random.weighted(actions.map(([act, weight]) => [[act], weight] as const));
    await action();
  }
  return { ...summary, from: iso(startMs), to: iso(nowMs) };
};
