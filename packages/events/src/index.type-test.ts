/**
 * Type tests of the public API, in the manner of Castore: each line fails to compile if a public type
 * drifts. Checked by `tsc -b` (the build), never run.
 */
import type {
  computeEventHash,
  EventData,
  EventType,
  LedgerEvent,
  LedgerEventOf,
  NewLedgerEvent,
  RecordedEvent,
  hashEvent,
} from './index';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assert = <T extends true>(): T => true as T;

// The catalogue names every event the domain needs.
assert<
  Equals<
    EventType,
    | 'ProgramConfigured'
    | 'PartnerJoined'
    | 'PartnerContactDetailsChanged'
    | 'PersonalDataErased'
    | 'PartnerPlanChanged'
    | 'PartnerTierChanged'
    | 'PartnerStatusChanged'
    | 'CommissionPlanPublished'
    | 'ClickTracked'
    | 'InfluenceTouchRecorded'
    | 'DealRegistered'
    | 'DealRegistrationApproved'
    | 'DealRegistrationRejected'
    | 'DealRegistrationExtended'
    | 'DealRegistrationExpired'
    | 'ConversionAttributed'
    | 'ConversionReversed'
    | 'CommissionHeld'
    | 'CommissionReleased'
    | 'CommissionRejected'
    | 'ManualAdjustmentRecorded'
    | 'PayoutIssued'
    | 'PayoutConfirmed'
    | 'PayoutFailed'
  >
>();

// Money is a string in every event, never a number.
assert<Equals<EventData<'PayoutIssued'>['amount'] extends number ? true : false, false>>();
assert<
  Equals<
    EventData<'ConversionAttributed'>['credits'][number]['revenueCredit'] extends string ? true : false,
    true
  >
>();

// Narrowing a decoded event by its type gives that event's data.
declare const event: LedgerEvent;
if (event.type === 'PayoutIssued') {
  assert<Equals<typeof event.data, EventData<'PayoutIssued'>>>();
}
assert<Equals<LedgerEventOf<'ClickTracked'>['data'], EventData<'ClickTracked'>>>();

// A decoded event is a recorded event; a new event has no store-assigned fields.
assert<LedgerEvent extends RecordedEvent ? true : false>();
assert<Equals<'position' extends keyof NewLedgerEvent ? true : false, false>>();
assert<Equals<'hash' extends keyof RecordedEvent ? true : false, true>>();

// The hash covers everything but the hash itself and the store-assigned position; hashEvent also hands back
// the text it hashed (a store may write it as its record).
assert<Equals<Parameters<typeof computeEventHash>[0], Omit<RecordedEvent, 'hash' | 'position'>>>();
assert<Equals<ReturnType<typeof hashEvent>, { readonly hash: string; readonly canonicalText: string }>>();
