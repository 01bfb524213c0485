import type { LedgerEvent, LedgerEventOf, PartnerType } from '@partner-ledger/events';
import { PARTNER_TYPES } from '@partner-ledger/events';
import { convertMinor, formatMinor, parseRate, perUnit, ratio, toMinor } from '../money';
import { daysAfter, daysBefore, daysBetween, instantOf, periodOf } from '../period';
import type { Granularity } from '../period';
import type { JsonValue } from '../runtime/json';
import { sortedEntries, sortedResult } from '../runtime/json';
import type { Projection, ResultContext } from '../runtime/projection';
import type { ReferenceData } from '../runtime/reference';
import { reportingRateOf } from '../runtime/reference';

interface PartnerHealth {
  partnerType: string;
  joinedAt: string | null;
  lastActivityAt: string | null;
  clicks: number;
  fraudClicks: number;
  conversions: number;
  firstConversionAt: string | null;
  /** currency -> commission accrued minus reversed, minor units. */
  readonly commission: Map<string, bigint>;
  /**
   * Spells of activity, [first, last] activity of each, sorted: two activities are in one spell when no more
   * than the active window lies between them, so that the partner was active throughout. A spell ends in a
   * churn activeWindowDays after its last activity.
   */
  spells: Array<[string, string]>;
}

interface RevenueFigures {
  total: bigint;
  sourced: bigint;
  influenced: bigint;
  renewal: bigint;
}

/** The state of the ecosystem health projection (opaque: saved and loaded by checkpoints). */
export interface HealthState {
  readonly partners: Map<string, PartnerHealth>;
  /** `${period}\u0001${partnerType}` -> partners joined. */
  readonly newPartners: Map<string, number>;
  /** `${period}\u0001${currency}`; currency "" is the reporting currency. */
  readonly revenue: Map<string, RevenueFigures>;
  readonly technologyAccounts: Set<string>;
}

/**
 * Revenue figures of ecosystem health in one currency: total, sourced, influenced, renewals and the shares.
 */
export interface HealthRevenue {
  readonly total: string;
  readonly sourced: string;
  readonly influenced: string;
  /** Renewals of customers a partner brought in (renewals with a partner credit). */
  readonly renewal: string;
  readonly sourcedShare: string | null;
  readonly influencedShare: string | null;
}

/** Health revenue figures per currency, and in the reporting currency. */
export interface HealthRevenueBlock {
  readonly byCurrency: Readonly<Record<string, HealthRevenue>>;
  readonly reporting: HealthRevenue | null;
}

/** One partner's health: type, when it joined and was last active, touches, conversions and rates. */
export interface PartnerHealthResult {
  readonly partnerType: string;
  readonly joinedAt: string | null;
  readonly lastActivityAt: string | null;
  /** A touch (click, influence touch, deal registration) or a conversion in the window up to asOf. */
  readonly active: boolean;
  /** Clicks not flagged as fraud. */
  readonly clicks: number;
  readonly fraudClicks: number;
  /** Conversions that credited the partner with revenue. */
  readonly conversions: number;
  /** conversions / clicks (4 decimals); null without clicks. Coupon and deal conversions can make it exceed 1. */
  readonly clickToConversionRate: string | null;
  /** currency -> commission accrued minus reversed. */
  readonly commission: Readonly<Record<string, string>>;
  /** currency -> commission per click (EPC), 4 decimals; null without clicks. */
  readonly epc: Readonly<Record<string, string | null>>;
  readonly firstConversionAt: string | null;
  /** Whole days from joining to the first credited conversion. */
  readonly daysToFirstConversion: number | null;
}

/**
 * The result of `ecosystemHealth`: partners, active partners, revenue shares, integration depth, conversion
 * rates and time to first conversion.
 */
export interface EcosystemHealthResult {
  readonly asOf: string | null;
  readonly activeWindowDays: number;
  readonly granularity: Granularity;
  readonly reportingCurrency: string | null;
  readonly activePartners: { readonly total: number; readonly byType: Readonly<Record<string, number>> };
  readonly partnerCount: { readonly total: number; readonly byType: Readonly<Record<string, number>> };
  /** period -> partners that joined in it. */
  readonly newPartners: Readonly<
    Record<string, { readonly total: number; readonly byType: Readonly<Record<string, number>> }>
  >;
  readonly revenue: {
    readonly periods: Readonly<Record<string, HealthRevenueBlock>>;
    readonly total: HealthRevenueBlock;
  };
  /** Distinct accounts touched by technology partners (influence touches, or conversions they touched). */
  readonly accountsInfluencedByTechnologyPartners: number;
  readonly timeToFirstConversion: {
    readonly partnersConverted: number;
    readonly medianDays: number | null;
    readonly averageDays: string | null;
  };
  readonly partners: Readonly<Record<string, PartnerHealthResult>>;
  /**
   * period -> partners that churned in it: a partner churns at the first instant it stops being active
   * (activeWindowDays after its last activity with no other in between), counted when that instant is at or
   * before asOf. A partner that comes back and stops again churns again.
   */
  readonly churnedPartners: Readonly<
    Record<string, { readonly total: number; readonly byType: Readonly<Record<string, number>> }>
  >;
}

/** The options of `ecosystemHealth`: granularity and the window that counts a partner as active. */
export interface EcosystemHealthOptions {
  /** Default `month`, for new partners and revenue. */
  readonly granularity?: Granularity;
  /** A partner is active with a touch or conversion in this many days up to asOf. Default 90. */
  readonly activeWindowDays?: number;
}

const SEP = '\u0001';

const partnerOf = (state: HealthState, partnerId: string, reference: ReferenceData): PartnerHealth => {
  let partner = state.partners.get(partnerId);
  if (partner === undefined) {
    const known = reference.partner(partnerId);
    partner = {
      partnerType: known?.partnerType ?? 'unknown',
      joinedAt: known?.joinedAt ?? null,
      lastActivityAt: null,
      clicks: 0,
      fraudClicks: 0,
      conversions: 0,
      firstConversionAt: null,
      commission: new Map(),
      spells: [],
    };
    state.partners.set(partnerId, partner);
  }
  return partner;
};

const touch = (partner: PartnerHealth, at: string, windowDays: number): void => {
  if (partner.lastActivityAt === null || at > partner.lastActivityAt) partner.lastActivityAt = at;
  addActivity(partner.spells, at, windowDays);
};

const DAY_MS = 86_400_000;

/** Whether two stored timestamps (`2026-03-01T12:00:00.000Z`, what the decoder accepts) share their date. */
const sameDay = (a: string, b: string): boolean => {
  if (a.length !== 24 || b.length !== 24) return false;
  for (let i = 0; i < 10; i += 1) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
};

/**
 * Adds an activity to sorted spells (events may arrive out of occurredAt order): it joins every spell it lies
 * within the window of, bridging two when it closes the gap between them.
 */
export const addActivity = (spells: Array<[string, string]>, at: string, windowDays: number): void => {
  // Most activity comes in occurredAt order: it lies in or after the latest spell.
  const latestSpell = spells[spells.length - 1];
  if (latestSpell !== undefined && at >= latestSpell[0]) {
    if (at <= latestSpell[1]) return;
    // Two stored timestamps of the same UTC day are less than a day apart: no instant to work out for most
    // clicks of an active partner.
    if (
      (windowDays >= 1 && sameDay(at, latestSpell[1])) ||
      instantOf(at) - instantOf(latestSpell[1]) <= windowDays * DAY_MS
    )
      latestSpell[1] = at;
    else spells.push([at, at]);
    return;
  }
  const earliest = daysBefore(at, windowDays);
  const latest = daysAfter(at, windowDays);
  let first = at;
  let last = at;
  let index = 0;
  let joined = 0;
  for (let i = 0; i < spells.length; i += 1) {
    const [start, end] = spells[i]!;
    if (end < earliest) index = i + 1;
    else if (start <= latest) {
      if (joined === 0) index = i;
      joined += 1;
      if (start < first) first = start;
      if (end > last) last = end;
    }
  }
  spells.splice(index, joined, [first, last]);
};

/** The instants (at or before asOf) at which the partner stopped being active. */
export const churnsOf = (
  spells: ReadonlyArray<readonly [string, string]>,
  windowDays: number,
  asOf: string | null,
): string[] =>
  asOf === null
    ? []
    : spells.map(([, last]) => daysAfter(last, windowDays)).filter((churnedAt) => churnedAt <= asOf);

const revenueAt = (state: HealthState, key: string): RevenueFigures => {
  let figures = state.revenue.get(key);
  if (figures === undefined) {
    figures = { total: 0n, sourced: 0n, influenced: 0n, renewal: 0n };
    state.revenue.set(key, figures);
  }
  return figures;
};

const addRevenue = (
  state: HealthState,
  occurredAt: string,
  granularity: Granularity,
  currency: string,
  rate: string | null,
  reportingCurrency: string | null,
  amount: bigint,
  flags: { sourced: boolean; influenced: boolean; renewal: boolean },
): void => {
  const period = periodOf(occurredAt, granularity);
  const add = (key: string, value: bigint): void => {
    const f = revenueAt(state, key);
    f.total += value;
    if (flags.sourced) f.sourced += value;
    if (flags.influenced) f.influenced += value;
    if (flags.renewal) f.renewal += value;
  };
  add(period + SEP + currency, amount);
  if (rate !== null && reportingCurrency !== null)
    add(period + SEP, convertMinor(amount, currency, reportingCurrency, parseRate(rate)));
};

const onConversion = (
  state: HealthState,
  event: LedgerEventOf<'ConversionAttributed'>,
  reference: ReferenceData,
  granularity: Granularity,
  windowDays: number,
): void => {
  const d = event.data;
  const at = event.occurredAt;
  const credited = new Set(d.credits.map((c) => c.partnerId));
  let technology = false;
  for (const partnerId of credited) {
    const partner = partnerOf(state, partnerId, reference);
    partner.conversions += 1;
    if (partner.firstConversionAt === null || at < partner.firstConversionAt) partner.firstConversionAt = at;
    touch(partner, at, windowDays);
    technology ||= partner.partnerType === 'technology';
  }
  for (const influencer of d.influencers) {
    const partner = partnerOf(state, influencer.partnerId, reference);
    touch(partner, at, windowDays);
    technology ||= partner.partnerType === 'technology';
  }
  if (technology) state.technologyAccounts.add(d.accountId ?? d.customerId);
  for (const line of d.commissions) {
    const commission = partnerOf(state, line.partnerId, reference).commission;
    commission.set(
      line.currency,
      (commission.get(line.currency) ?? 0n) + toMinor(line.amount, line.currency),
    );
  }
  const attributed = d.credits.length > 0;
  addRevenue(
    state,
    at,
    granularity,
    d.currency,
    reportingRateOf(d.currency, d.fx, reference.reportingCurrency),
    reference.reportingCurrency,
    toMinor(d.amount, d.currency),
    {
      sourced: d.credits.some((c) => c.role === 'sourced'),
      influenced: attributed || d.influencers.length > 0,
      renewal: attributed && d.kind === 'renewal',
    },
  );
};

const onReversal = (
  state: HealthState,
  event: LedgerEventOf<'ConversionReversed'>,
  reference: ReferenceData,
  granularity: Granularity,
): void => {
  const d = event.data;
  for (const line of d.lines) {
    const commission = partnerOf(state, line.partnerId, reference).commission;
    commission.set(
      line.currency,
      (commission.get(line.currency) ?? 0n) - toMinor(line.amount, line.currency),
    );
  }
  const conversion = reference.conversion(d.conversionId);
  addRevenue(
    state,
    event.occurredAt,
    granularity,
    d.currency,
    conversion?.reportingRate ?? null,
    reference.reportingCurrency,
    -toMinor(d.amount, d.currency),
    {
      sourced: (conversion?.sourcedBy ?? null) !== null,
      influenced: (conversion?.partners.length ?? d.credits.length) > 0,
      renewal: (conversion?.renewal ?? false) && (conversion?.attributed ?? false),
    },
  );
};

const apply =
  (granularity: Granularity, windowDays: number) =>
  (state: HealthState, event: LedgerEvent, reference: ReferenceData): HealthState => {
    switch (event.type) {
      case 'ClickTracked': {
        const partner = partnerOf(state, event.data.partnerId, reference);
        if (event.data.fraudReason !== null) partner.fraudClicks += 1;
        else {
          partner.clicks += 1;
          touch(partner, event.occurredAt, windowDays);
        }
        return state;
      }
      case 'PartnerJoined': {
        const d = event.data;
        if (state.partners.get(d.partnerId)?.joinedAt) return state;
        // One shape for every partner object (partnerOf builds them too), so that hot reads stay fast.
        const partner = partnerOf(state, d.partnerId, reference);
        partner.partnerType = d.partnerType;
        partner.joinedAt = event.occurredAt;
        const key = periodOf(event.occurredAt, granularity) + SEP + d.partnerType;
        state.newPartners.set(key, (state.newPartners.get(key) ?? 0) + 1);
        return state;
      }
      case 'InfluenceTouchRecorded': {
        const partner = partnerOf(state, event.data.partnerId, reference);
        touch(partner, event.occurredAt, windowDays);
        if (partner.partnerType === 'technology') state.technologyAccounts.add(event.data.accountId);
        return state;
      }
      case 'DealRegistered':
        touch(partnerOf(state, event.data.partnerId, reference), event.occurredAt, windowDays);
        return state;
      case 'ConversionAttributed':
        onConversion(state, event, reference, granularity, windowDays);
        return state;
      case 'ConversionReversed':
        onReversal(state, event, reference, granularity);
        return state;
      default:
        return state;
    }
  };

const byTypeZero = (): Record<string, number> => Object.fromEntries(PARTNER_TYPES.map((t) => [t, 0]));

const result =
  (granularity: Granularity, activeWindowDays: number) =>
  (state: HealthState, context: ResultContext): EcosystemHealthResult => {
    const asOf = context.asOf;
    const reportingCurrency = context.reference.reportingCurrency;
    const since = asOf === null ? null : daysBefore(asOf, activeWindowDays);
    const active = { total: 0, byType: byTypeZero() };
    const count = { total: 0, byType: byTypeZero() };
    const partners: Record<string, PartnerHealthResult> = {};
    const daysToFirst: number[] = [];
    const churned: Record<string, { total: number; byType: Record<string, number> }> = {};
    for (const [partnerId, p] of sortedEntries(state.partners)) {
      const isActive =
        since !== null &&
        asOf !== null &&
        p.lastActivityAt !== null &&
        p.lastActivityAt > since &&
        p.lastActivityAt <= asOf;
      count.total += 1;
      count.byType[p.partnerType] = (count.byType[p.partnerType] ?? 0) + 1;
      if (isActive) {
        active.total += 1;
        active.byType[p.partnerType] = (active.byType[p.partnerType] ?? 0) + 1;
      }
      const days =
        p.joinedAt !== null && p.firstConversionAt !== null
          ? Math.max(0, daysBetween(p.joinedAt, p.firstConversionAt))
          : null;
      if (days !== null) daysToFirst.push(days);
      for (const churnedAt of churnsOf(p.spells, activeWindowDays, asOf)) {
        const entry = (churned[periodOf(churnedAt, granularity)] ??= { total: 0, byType: byTypeZero() });
        entry.total += 1;
        entry.byType[p.partnerType] = (entry.byType[p.partnerType] ?? 0) + 1;
      }
      const commission = sortedEntries(p.commission);
      // The keys in sorted order, as the result prints them: the result is not copied to sort them.
      partners[partnerId] = {
        active: isActive,
        clickToConversionRate: p.clicks === 0 ? null : ratio(BigInt(p.conversions), BigInt(p.clicks)),
        clicks: p.clicks,
        commission: Object.fromEntries(commission.map(([c, v]) => [c, formatMinor(v, c)])),
        conversions: p.conversions,
        daysToFirstConversion: days,
        epc: Object.fromEntries(commission.map(([c, v]) => [c, perUnit(v, p.clicks, c)])),
        firstConversionAt: p.firstConversionAt,
        fraudClicks: p.fraudClicks,
        joinedAt: p.joinedAt,
        lastActivityAt: p.lastActivityAt,
        partnerType: p.partnerType,
      };
    }
    const newPartners: Record<string, { total: number; byType: Record<string, number> }> = {};
    for (const [key, n] of sortedEntries(state.newPartners)) {
      const [period, type] = key.split(SEP) as [string, PartnerType];
      const entry = (newPartners[period] ??= { total: 0, byType: byTypeZero() });
      entry.total += n;
      entry.byType[type] = (entry.byType[type] ?? 0) + n;
    }
    const format = (f: RevenueFigures, currency: string): HealthRevenue => ({
      total: formatMinor(f.total, currency),
      sourced: formatMinor(f.sourced, currency),
      influenced: formatMinor(f.influenced, currency),
      renewal: formatMinor(f.renewal, currency),
      sourcedShare: ratio(f.sourced, f.total),
      influencedShare: ratio(f.influenced, f.total),
    });
    const periods = new Map<string, Map<string, RevenueFigures>>();
    const totals = new Map<string, RevenueFigures>();
    for (const [key, f] of state.revenue) {
      const [period, currency] = key.split(SEP) as [string, string];
      let currencies = periods.get(period);
      if (currencies === undefined) periods.set(period, (currencies = new Map()));
      currencies.set(currency, f);
      let total = totals.get(currency);
      if (total === undefined)
        totals.set(currency, (total = { total: 0n, sourced: 0n, influenced: 0n, renewal: 0n }));
      total.total += f.total;
      total.sourced += f.sourced;
      total.influenced += f.influenced;
      total.renewal += f.renewal;
    }
    const block = (currencies: Map<string, RevenueFigures>): HealthRevenueBlock => {
      const byCurrency: Record<string, HealthRevenue> = {};
      let reporting: HealthRevenue | null = null;
      for (const [currency, f] of sortedEntries(currencies)) {
        if (currency === '') {
          if (reportingCurrency !== null) reporting = format(f, reportingCurrency);
        } else byCurrency[currency] = format(f, currency);
      }
      return { byCurrency, reporting };
    };
    const sortedDays = [...daysToFirst].sort((a, b) => a - b);
    const median =
      sortedDays.length === 0
        ? null
        : sortedDays.length % 2 === 1
          ? sortedDays[(sortedDays.length - 1) / 2]!
          : (sortedDays[sortedDays.length / 2 - 1]! + sortedDays[sortedDays.length / 2]!) / 2;
    return sortedResult({
      asOf,
      activeWindowDays,
      granularity,
      reportingCurrency,
      activePartners: active,
      partnerCount: count,
      newPartners,
      churnedPartners: Object.fromEntries(sortedEntries(new Map(Object.entries(churned)))),
      revenue: {
        periods: Object.fromEntries(sortedEntries(periods).map(([period, c]) => [period, block(c)])),
        total: block(totals),
      },
      accountsInfluencedByTechnologyPartners: state.technologyAccounts.size,
      timeToFirstConversion: {
        partnersConverted: sortedDays.length,
        medianDays: median,
        averageDays: ratio(BigInt(sortedDays.reduce((a, b) => a + b, 0)), BigInt(sortedDays.length), 2),
      },
      partners,
    });
  };

type SavedPartner = [
  string,
  string,
  string | null,
  string | null,
  number,
  number,
  number,
  string | null,
  Array<[string, string]>,
  Array<[string, string]>?,
];

/**
 * Ecosystem health: active and new partners by type, partner-sourced and -influenced revenue, renewal
 * revenue of partner-brought customers, accounts influenced by technology partners, and per partner the
 * clicks, conversions, EPC, click-to-conversion rate and time from joining to first conversion.
 */
export const ecosystemHealth = (
  options: EcosystemHealthOptions = {},
): Projection<HealthState, EcosystemHealthResult> => {
  const granularity = options.granularity ?? 'month';
  const activeWindowDays = options.activeWindowDays ?? 90;
  return {
    name: 'ecosystemHealth',
    eventTypes: [
      'PartnerJoined',
      'ClickTracked',
      'InfluenceTouchRecorded',
      'DealRegistered',
      'ConversionAttributed',
      'ConversionReversed',
    ],
    initialState: () => ({
      partners: new Map(),
      newPartners: new Map(),
      revenue: new Map(),
      technologyAccounts: new Set(),
    }),
    apply: apply(granularity, activeWindowDays),
    result: result(granularity, activeWindowDays),
    save: (state) =>
      ({
        partners: sortedEntries(state.partners).map(([id, p]): SavedPartner => [
          id,
          p.partnerType,
          p.joinedAt,
          p.lastActivityAt,
          p.clicks,
          p.fraudClicks,
          p.conversions,
          p.firstConversionAt,
          sortedEntries(p.commission).map(([c, v]) => [c, v.toString()]),
          p.spells,
        ]),
        newPartners: sortedEntries(state.newPartners),
        revenue: sortedEntries(state.revenue).map(([k, f]) => [
          k,
          [f.total.toString(), f.sourced.toString(), f.influenced.toString(), f.renewal.toString()],
        ]),
        technologyAccounts: [...state.technologyAccounts].sort(),
      }) as unknown as JsonValue,
    load: (json) => {
      const s = json as unknown as {
        partners: SavedPartner[];
        newPartners: Array<[string, number]>;
        revenue: Array<[string, [string, string, string, string]]>;
        technologyAccounts: string[];
      };
      // A state saved before spells of activity were kept cannot tell past churns: refused, so that the
      // replay starts from the beginning instead.
      if (s.partners.some((p) => p[9] === undefined))
        throw new Error('The saved health state predates churned partners: replay from the start');
      return {
        partners: new Map(
          s.partners.map(
            ([
              id,
              partnerType,
              joinedAt,
              lastActivityAt,
              clicks,
              fraudClicks,
              conversions,
              first,
              c,
              spells,
            ]) => [
              id,
              {
                partnerType,
                joinedAt,
                lastActivityAt,
                clicks,
                fraudClicks,
                conversions,
                firstConversionAt: first,
                commission: new Map(c.map(([k, v]) => [k, BigInt(v)])),
                spells: spells!,
              },
            ],
          ),
        ),
        newPartners: new Map(s.newPartners),
        revenue: new Map(
          s.revenue.map(([k, f]) => [
            k,
            { total: BigInt(f[0]), sourced: BigInt(f[1]), influenced: BigInt(f[2]), renewal: BigInt(f[3]) },
          ]),
        ),
        technologyAccounts: new Set(s.technologyAccounts),
      };
    },
  };
};
