import type { LedgerEvent } from '@partner-ledger/events';
import type { JsonValue, Projection, ReferenceData } from '@partner-ledger/projections';

/** Partners seen in an event of PARTNER_TYPE_EVENTS while not (yet) joined: sorted when saved. */
type UnjoinedState = Set<string>;

/** The events by which ecosystemHealth first counts a partner (PartnerJoined aside). */
const PARTNER_TYPE_EVENTS = [
  'ClickTracked',
  'InfluenceTouchRecorded',
  'DealRegistered',
  'ConversionAttributed',
  'ConversionReversed',
] as const;

/** The partners an event of PARTNER_TYPE_EVENTS names, as ecosystemHealth counts them. */
const partnersOf = (event: LedgerEvent): readonly string[] => {
  switch (event.type) {
    case 'ClickTracked':
    case 'InfluenceTouchRecorded':
    case 'DealRegistered':
      return [event.data.partnerId];
    case 'ConversionAttributed':
      return [
        ...event.data.credits.map((c) => c.partnerId),
        ...event.data.influencers.map((i) => i.partnerId),
        ...event.data.commissions.map((l) => l.partnerId),
      ];
    case 'ConversionReversed':
      return event.data.lines.map((l) => l.partnerId);
    default:
      return [];
  }
};

const FORMAT = 'partnerTypes@1';

/**
 * Each partner's type as the ecosystem health result gives it (`partners[id].partnerType`), for the partner
 * column of the balances report, without the rest of that result: the type it joined with, from the reference
 * data; "unknown" for a partner that never joined but appears in a click, influence touch, deal registration,
 * conversion or reversal; no entry for any other partner. Its state is only the partners seen before joining
 * (none in a ledger whose commands the ledger checked), so that a report resumed from a checkpoint loads and
 * reads it at no cost.
 */
export const partnerTypes = (): Projection<UnjoinedState, Record<string, string>> => ({
  name: 'partnerTypes',
  eventTypes: PARTNER_TYPE_EVENTS,
  initialState: () => new Set(),
  apply: (state: UnjoinedState, event: LedgerEvent, reference: ReferenceData) => {
    for (const partnerId of partnersOf(event))
      if (reference.partner(partnerId) === undefined) state.add(partnerId);
    return state;
  },
  result: (state, context) => {
    const types: Record<string, string> = {};
    for (const partnerId of state) types[partnerId] = 'unknown';
    for (const partner of context.reference.partners()) types[partner.partnerId] = partner.partnerType;
    return types;
  },
  save: (state) => ({ format: FORMAT, unjoined: [...state].sort() }),
  load: (json: JsonValue) => {
    const saved = json as { format?: unknown; unjoined?: unknown };
    if (
      saved === null ||
      typeof saved !== 'object' ||
      saved.format !== FORMAT ||
      !Array.isArray(saved.unjoined)
    )
      throw new Error(`The saved partner types are not of the format ${FORMAT}: replay from the start`);
    return new Set(saved.unjoined as string[]);
  },
});
