import type { EventType, LedgerEvent, PartnerStatus, PartnerType } from '@partner-ledger/events';
import { toMinor } from '../money';
import type { JsonValue } from './json';
import { sortedEntries } from './json';

/** A partner as the reference data knows it. */
export interface PartnerInfo {
  readonly partnerId: string;
  readonly partnerType: PartnerType;
  /** occurredAt of its PartnerJoined. */
  readonly joinedAt: string;
  readonly status: PartnerStatus;
  readonly parentPartnerId: string | null;
  readonly payoutCurrency: string;
}

/** What a reversal needs to know about the conversion it reverses, kept until it is fully reversed. */
export interface ConversionInfo {
  readonly currency: string;
  /** The rate recorded on the conversion into the reporting currency ("1" when it is the same); null: none. */
  readonly reportingRate: string | null;
  /** The partner with the sourced credit, if any. */
  readonly sourcedBy: string | null;
  /** Whether any partner had a revenue credit (an attributed conversion). */
  readonly attributed: boolean;
  /** Every partner that touched it (credited or influence only), sorted, without repeats. */
  readonly partners: readonly string[];
  readonly renewal: boolean;
  /** The amount not yet reversed, in minor units of `currency`. */
  readonly remaining: bigint;
}

/**
 * Facts every projection may need and none should have to rebuild: the partners, the reporting currency,
 * and the conversions a later reversal may refer to. The runner keeps it once per replay, and updates it
 * after the projections have seen each event, so that `apply` sees the reference data as it was just before
 * the event (a reversal finds its conversion; PartnerJoined's partner is only in the event).
 */
export interface ReferenceData {
  /** The reporting currency: the replay's option, or else the currency of the first ProgramConfigured. */
  readonly reportingCurrency: string | null;
  partner(partnerId: string): PartnerInfo | undefined;
  /** A conversion that is not fully reversed; undefined once fully reversed (or when unknown). */
  conversion(conversionId: string): ConversionInfo | undefined;
  /** Every partner, sorted by id. */
  partners(): PartnerInfo[];
}

export interface ReferenceState extends ReferenceData {
  apply(event: LedgerEvent): void;
  save(): JsonValue;
}

/** The event types the reference data is built from: always decoded. */
export const REFERENCE_EVENT_TYPES: readonly EventType[] = [
  'ProgramConfigured',
  'PartnerJoined',
  'PartnerStatusChanged',
  'ConversionAttributed',
  'ConversionReversed',
];

/**
 * A conversion packed into one flat string (fields separated by tabs, which identifiers cannot contain):
 * the reference data keeps one per conversion not fully reversed, and a string is a fraction of the memory
 * of an object with an array and a bigint. Unpacked only when a reversal asks for it.
 */
const pack = (c: ConversionInfo): string =>
  [
    c.currency,
    c.reportingRate ?? '',
    c.sourcedBy ?? '',
    `${c.attributed ? 1 : 0}${c.renewal ? 1 : 0}`,
    c.remaining.toString(),
    ...c.partners,
  ].join('\t');

const unpack = (packed: string): ConversionInfo => {
  const [currency, rate, sourcedBy, flags, remaining, ...partners] = packed.split('\t') as [
    string,
    string,
    string,
    string,
    string,
    ...string[],
  ];
  return {
    currency,
    reportingRate: rate === '' ? null : rate,
    sourcedBy: sourcedBy === '' ? null : sourcedBy,
    attributed: flags[0] === '1',
    renewal: flags[1] === '1',
    remaining: BigInt(remaining),
    partners,
  };
};

export const createReference = (
  reportingCurrencyOption: string | null,
  saved?: JsonValue,
): ReferenceState => {
  let reportingCurrency = reportingCurrencyOption;
  const partners = new Map<string, PartnerInfo>();
  const conversions = new Map<string, string>();

  if (saved !== undefined) {
    const s = saved as unknown as {
      reportingCurrency: string | null;
      partners: PartnerInfo[];
      conversions: Array<[string, string]>;
    };
    reportingCurrency = s.reportingCurrency;
    for (const p of s.partners) partners.set(p.partnerId, { ...p });
    for (const [id, packed] of s.conversions) conversions.set(id, packed);
  }

  const apply = (event: LedgerEvent): void => {
    switch (event.type) {
      case 'ProgramConfigured':
        if (reportingCurrency === null) reportingCurrency = event.data.currency;
        return;
      case 'PartnerJoined': {
        const d = event.data;
        if (partners.has(d.partnerId)) return;
        partners.set(d.partnerId, {
          partnerId: d.partnerId,
          partnerType: d.partnerType,
          joinedAt: event.occurredAt,
          status: 'active',
          parentPartnerId: d.parentPartnerId,
          payoutCurrency: d.payoutCurrency,
        });
        return;
      }
      case 'PartnerStatusChanged': {
        const partner = partners.get(event.data.partnerId);
        if (partner) partners.set(partner.partnerId, { ...partner, status: event.data.status });
        return;
      }
      case 'ConversionAttributed': {
        const d = event.data;
        const involved = new Set<string>();
        for (const c of d.credits) involved.add(c.partnerId);
        for (const i of d.influencers) involved.add(i.partnerId);
        conversions.set(
          d.conversionId,
          pack({
            currency: d.currency,
            reportingRate: reportingRateOf(d.currency, d.fx, reportingCurrency),
            sourcedBy: d.credits.find((c) => c.role === 'sourced')?.partnerId ?? null,
            attributed: d.credits.length > 0,
            partners: [...involved].sort(),
            renewal: d.kind === 'renewal',
            remaining: toMinor(d.amount, d.currency),
          }),
        );
        return;
      }
      case 'ConversionReversed': {
        const packed = conversions.get(event.data.conversionId);
        if (packed === undefined) return;
        const conversion = unpack(packed);
        const remaining = conversion.remaining - toMinor(event.data.amount, event.data.currency);
        // Fully reversed: nothing can refer to it any more, so it no longer takes memory.
        if (remaining <= 0n) conversions.delete(event.data.conversionId);
        else conversions.set(event.data.conversionId, pack({ ...conversion, remaining }));
        return;
      }
      default:
        return;
    }
  };

  return {
    get reportingCurrency() {
      return reportingCurrency;
    },
    partner: (id) => partners.get(id),
    conversion: (id) => {
      const packed = conversions.get(id);
      return packed === undefined ? undefined : unpack(packed);
    },
    partners: () => sortedEntries(partners).map(([, p]) => p),
    apply,
    save: () =>
      ({
        reportingCurrency,
        partners: sortedEntries(partners).map(([, p]) => ({ ...p })),
        conversions: sortedEntries(conversions),
      }) as unknown as JsonValue,
  };
};

/** The rate from a conversion's currency into the reporting currency, as recorded on the conversion. */
export const reportingRateOf = (
  currency: string,
  fx: ReadonlyArray<{ readonly from: string; readonly to: string; readonly rate: string }>,
  reportingCurrency: string | null,
): string | null => {
  if (reportingCurrency === null) return null;
  if (currency === reportingCurrency) return '1';
  return fx.find((rate) => rate.from === currency && rate.to === reportingCurrency)?.rate ?? null;
};
