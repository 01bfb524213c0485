import type { LedgerEvent } from '@partner-ledger/events';
import { partnerRevenue } from '@partner-ledger/projections';
import type { ReferenceData } from '@partner-ledger/projections';

/**
 * One partner's share of one conversion or reversal, as the revenue report counts it, in one basis: the
 * conversion's own currency (`native`) or the reporting currency (`reporting`, through the rate recorded on
 * the conversion; no such row when it recorded none). Summed over the rows of a period, these are the
 * partner_revenue figures; with their effective and recorded times, those of the revenue report as of any
 * moment as known at any other. Append-only, like MovementFact.
 */
export interface RevenueMovementFact {
  readonly position: number;
  /** 1, 2, ...: its place among the revenue movements of its event. */
  readonly entry: number;
  readonly eventId: string;
  readonly kind: 'conversion' | 'reversal';
  readonly conversionId: string;
  readonly partnerId: string;
  readonly partnerType: string;
  readonly basis: 'native' | 'reporting';
  readonly currency: string;
  /** Decimal strings of the currency, negative for a reversal. */
  readonly attributed: string;
  readonly sourced: string;
  readonly influenced: string;
  /** 1 when a conversion credits the partner (counted once however many credits), else 0. */
  readonly conversions: number;
  readonly effectiveAt: string;
  readonly recordedAt: string;
}

const projection = partnerRevenue();

/**
 * The revenue movements of one event: the revenue projection itself folds the event alone (so that the rows
 * say what the report counts: credits split in the reporting currency, reversals classed by the conversion
 * they take back), and its per-partner figures become rows.
 */
export const revenueMovementsOf = (event: LedgerEvent, reference: ReferenceData): RevenueMovementFact[] => {
  if (event.type !== 'ConversionAttributed' && event.type !== 'ConversionReversed') return [];
  const state = projection.apply(projection.initialState(), event, reference);
  const result = projection.result(state, { asOf: event.occurredAt, position: event.position, reference });
  const rows: RevenueMovementFact[] = [];
  const push = (
    partnerId: string,
    partnerType: string,
    basis: 'native' | 'reporting',
    currency: string,
    f: { attributed: string; sourced: string; influenced: string; conversions: number },
  ): void => {
    rows.push({
      position: event.position,
      entry: rows.length + 1,
      eventId: event.id,
      kind: event.type === 'ConversionAttributed' ? 'conversion' : 'reversal',
      conversionId: event.data.conversionId,
      partnerId,
      partnerType,
      basis,
      currency,
      attributed: f.attributed,
      sourced: f.sourced,
      influenced: f.influenced,
      conversions: f.conversions,
      effectiveAt: event.occurredAt,
      recordedAt: event.recordedAt,
    });
  };
  for (const [partnerId, series] of Object.entries(result.partners).sort(([a], [b]) => (a < b ? -1 : 1)))
    for (const block of Object.values(series.periods)) {
      for (const [currency, f] of Object.entries(block.byCurrency))
        push(partnerId, series.partnerType, 'native', currency, f);
      if (block.reporting !== null && result.reportingCurrency !== null)
        push(partnerId, series.partnerType, 'reporting', result.reportingCurrency, block.reporting);
    }
  return rows;
};
