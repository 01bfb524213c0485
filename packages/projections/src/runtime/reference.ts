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

/** What a reversal needs to know about the conversion it reverses, as it stood just before the reversal. */
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
  /** The amount not yet reversed before this reversal, in minor units of `currency`. */
  readonly remaining: bigint;
}

/**
 * Facts every projection may need and none should have to rebuild: the partners, the reporting currency,
 * and, while a ConversionReversed is applied, the conversion it reverses. The runner keeps it once per
 * replay, and updates it after the projections have seen each event, so that `apply` sees the reference data
 * as it was just before the event (PartnerJoined's partner is only in the event).
 *
 * Conversions are not kept in memory (there is one per conversion ever recorded, so they would grow with
 * history): the runner reads the one a reversal needs from the reversal's stream, where the ledger records
 * both, just before the reversal is applied (`ProjectionSession.prepare`).
 */
export interface ReferenceData {
  /** The reporting currency: the replay's option, or else the currency of the first ProgramConfigured. */
  readonly reportingCurrency: string | null;
  /** What the history says of a partner so far (its type, ...); undefined for one that never joined. */
  partner(partnerId: string): PartnerInfo | undefined;
  /**
   * While a ConversionReversed is applied: the conversion it reverses, as it stood just before (undefined
   * when already fully reversed, or not in the reversal's stream up to it, or not effective). Undefined for
   * any other conversion, and while any other event is applied.
   */
  conversion(conversionId: string): ConversionInfo | undefined;
  /** Every partner, sorted by id. */
  partners(): PartnerInfo[];
}

/** The conversion a reversal reverses, read from its stream before the reversal is applied. */
export interface ReversedConversion {
  readonly conversionId: string;
  /** null: not prepared (the session has no store to read it from); asking for it is then an error. */
  readonly info: ConversionInfo | undefined | null;
}

export interface ReferenceState extends ReferenceData {
  apply(event: LedgerEvent, position: number): void;
  /** Set while a ConversionReversed is applied, null otherwise. */
  reversing(conversion: ReversedConversion | null): void;
  /**
   * Folds one event of a reversal's stream (ConversionAttributed or ConversionReversed, at `position`, in
   * stream order) into what the reference data knew of `conversionId` at that point: the same steps as a
   * replay that kept every conversion would take.
   */
  foldConversion(
    conversion: ConversionInfo | undefined,
    conversionId: string,
    event: LedgerEvent,
    position: number,
  ): ConversionInfo | undefined;
  save(): JsonValue;
}

/** The event types the reference data is built from: always decoded. */
export const REFERENCE_EVENT_TYPES: readonly EventType[] = [
  'ProgramConfigured',
  'PartnerJoined',
  'PartnerStatusChanged',
];

export const createReference = (
  reportingCurrencyOption: string | null,
  saved?: JsonValue,
): ReferenceState => {
  let reportingCurrency = reportingCurrencyOption;
  /** The position of the event that set the reporting currency: conversions before it had none. */
  let reportingCurrencyFrom = -1;
  const partners = new Map<string, PartnerInfo>();
  let current: ReversedConversion | null = null;

  if (saved !== undefined) {
    const s = saved as unknown as {
      reportingCurrency: string | null;
      reportingCurrencyFrom?: number;
      partners: PartnerInfo[];
    };
    reportingCurrency = s.reportingCurrency;
    reportingCurrencyFrom = s.reportingCurrencyFrom ?? -1;
    for (const p of s.partners) partners.set(p.partnerId, { ...p });
  }

  const apply = (event: LedgerEvent, position: number): void => {
    switch (event.type) {
      case 'ProgramConfigured':
        if (reportingCurrency === null) {
          reportingCurrency = event.data.currency;
          reportingCurrencyFrom = position;
        }
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
      default:
        return;
    }
  };

  const foldConversion = (
    conversion: ConversionInfo | undefined,
    conversionId: string,
    event: LedgerEvent,
    position: number,
  ): ConversionInfo | undefined => {
    if (event.type === 'ConversionAttributed') {
      const d = event.data;
      if (d.conversionId !== conversionId) return conversion;
      const involved = new Set<string>();
      for (const c of d.credits) involved.add(c.partnerId);
      for (const i of d.influencers) involved.add(i.partnerId);
      return {
        currency: d.currency,
        reportingRate: reportingRateOf(
          d.currency,
          d.fx,
          position > reportingCurrencyFrom ? reportingCurrency : null,
        ),
        sourcedBy: d.credits.find((c) => c.role === 'sourced')?.partnerId ?? null,
        attributed: d.credits.length > 0,
        partners: [...involved].sort(),
        renewal: d.kind === 'renewal',
        remaining: toMinor(d.amount, d.currency),
      };
    }
    if (event.type === 'ConversionReversed') {
      if (event.data.conversionId !== conversionId || conversion === undefined) return conversion;
      const remaining = conversion.remaining - toMinor(event.data.amount, event.data.currency);
      // Fully reversed: a later reversal finds nothing, as when conversions were kept until then.
      return remaining <= 0n ? undefined : { ...conversion, remaining };
    }
    return conversion;
  };

  return {
    get reportingCurrency() {
      return reportingCurrency;
    },
    partner: (id) => partners.get(id),
    conversion: (id) => {
      if (current === null || current.conversionId !== id) return undefined;
      if (current.info === null)
        throw new Error(
          'The conversion a reversal reverses is read from the store: replay() and followLive() do it; ' +
            'with createSession, pass a store and await prepare(event) before handle(event)',
        );
      return current.info;
    },
    partners: () => sortedEntries(partners).map(([, p]) => p),
    apply,
    reversing: (conversion) => {
      current = conversion;
    },
    foldConversion,
    save: () =>
      ({
        reportingCurrency,
        reportingCurrencyFrom,
        partners: sortedEntries(partners).map(([, p]) => ({ ...p })),
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
