import type { LedgerEvent, PartnerStatus, PartnerType } from '@partner-ledger/events';
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

type SavedConversion = [string, string | null, string | null, boolean, string[], boolean, string];

export const createReference = (
  reportingCurrencyOption: string | null,
  saved?: JsonValue,
): ReferenceState => {
  let reportingCurrency = reportingCurrencyOption;
  const partners = new Map<string, PartnerInfo>();
  const conversions = new Map<string, ConversionInfo>();

  if (saved !== undefined) {
    const s = saved as unknown as {
      reportingCurrency: string | null;
      partners: PartnerInfo[];
      conversions: Array<[string, SavedConversion]>;
    };
    reportingCurrency = s.reportingCurrency;
    for (const p of s.partners) partners.set(p.partnerId, { ...p });
    for (const [id, c] of s.conversions)
      conversions.set(id, {
        currency: c[0],
        reportingRate: c[1],
        sourcedBy: c[2],
        attributed: c[3],
        partners: c[4],
        renewal: c[5],
        remaining: BigInt(c[6]),
      });
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
        conversions.set(d.conversionId, {
          currency: d.currency,
          reportingRate: reportingRateOf(d.currency, d.fx, reportingCurrency),
          sourcedBy: d.credits.find((c) => c.role === 'sourced')?.partnerId ?? null,
          attributed: d.credits.length > 0,
          partners: [...involved].sort(),
          renewal: d.kind === 'renewal',
          remaining: toMinor(d.amount, d.currency),
        });
        return;
      }
      case 'ConversionReversed': {
        const conversion = conversions.get(event.data.conversionId);
        if (!conversion) return;
        const remaining = conversion.remaining - toMinor(event.data.amount, event.data.currency);
        // Fully reversed: nothing can refer to it any more, so it no longer takes memory.
        if (remaining <= 0n) conversions.delete(event.data.conversionId);
        else conversions.set(event.data.conversionId, { ...conversion, remaining });
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
    conversion: (id) => conversions.get(id),
    partners: () => sortedEntries(partners).map(([, p]) => p),
    apply,
    save: () =>
      ({
        reportingCurrency,
        partners: sortedEntries(partners).map(([, p]) => ({ ...p })),
        conversions: sortedEntries(conversions).map(([id, c]) => [
          id,
          [
            c.currency,
            c.reportingRate,
            c.sourcedBy,
            c.attributed,
            [...c.partners],
            c.renewal,
            c.remaining.toString(),
          ],
        ]),
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
