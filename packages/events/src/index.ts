/**
 * @packageDocumentation
 * The event catalogue of partner-ledger: codecs and types for every event, money and currencies, and the
 * canonical form and hash links that make the history tamper-evident. No I/O.
 */

// Envelope
export type { EventContext, NewEvent, RecordedEvent } from './envelope';
export { RecordedEventEnvelope } from './envelope';

// Catalogue
export {
  CATALOGUE,
  ClickTracked,
  CommissionHeld,
  CommissionPlanPublished,
  CommissionRejected,
  CommissionReleased,
  ConversionAttributed,
  ConversionReversed,
  DealRegistered,
  DealRegistrationApproved,
  DealRegistrationExpired,
  DealRegistrationExtended,
  DealRegistrationRejected,
  InfluenceTouchRecorded,
  ManualAdjustmentRecorded,
  PartnerContactDetailsChanged,
  PartnerJoined,
  PartnerPlanChanged,
  PayeeDetails,
  PersonalDataErased,
  PartnerStatusChanged,
  PartnerTierChanged,
  PayoutConfirmed,
  PayoutFailed,
  PayoutIssued,
  ProgramConfigured,
} from './catalogue/events';
export type { Catalogue, EventData, EventType, LedgerEventBody } from './catalogue/events';
export type { EventDefinition, MoneyField } from './catalogue/define';
export {
  ATTRIBUTION_MODELS,
  ATTRIBUTION_SOURCES,
  PARTNER_STATUSES,
  PARTNER_TYPES,
  PERIODS,
  AttributionPrecedence,
  AttributionSettings,
  AttributionSettingsInput,
  CommissionCaps,
  CommissionLine,
  CommissionRule,
  Credit,
  ForeignExchange,
  HoldDays,
  PlanVersionNumber,
  repeatedSource,
} from './catalogue/fields';
export type {
  AttributionModel,
  AttributionSource,
  PartnerStatus,
  PartnerType,
  Period,
} from './catalogue/fields';
export {
  EventDecodeError,
  decodeEvent,
  decodeEventData,
  decodeStoredEvent,
  isEventType,
  newEvent,
} from './catalogue/decode';
export type { LedgerEvent, LedgerEventOf, NewLedgerEvent } from './catalogue/decode';
export {
  catalogueUpcasters,
  clickTrackedV1ToV2,
  createUpcasterRegistry,
  partnerJoinedV1ToV2,
} from './catalogue/upcasters';
export type { Upcaster, UpcasterRegistry } from './catalogue/upcasters';

// Personal data: markers, sealing (crypto-shredding), pseudonyms, key stores
export {
  SEALED_PREFIX,
  fieldsOf,
  hasPersonalFields,
  isSealedValue,
  mapPersonal,
  personal,
  personalKindOf,
} from './privacy/personal';
export type { CodecField, PersonalKind } from './privacy/personal';
export {
  ERASED_MARKER,
  KEY_BYTES,
  PSEUDONYM_PREFIX,
  SEALED_MARKER,
  SealedValueError,
  openSealedValue,
  pseudonymOf,
  sealValue,
  sealedKeyId,
} from './privacy/seal';
export { KeyErasedError, cachingKeyStore, createInMemoryKeyStore } from './privacy/keys';
export type { InMemoryKeyStoreOptions, KeyLookup, KeyStore, KeyStoreContents } from './privacy/keys';
export {
  VISITOR_PSEUDONYM_KEY_ID,
  hasPersonalData,
  hasSealedFields,
  openEventData,
  partnerKeyId,
  sealEventData,
  sealedKeyIdsOf,
  sealingKeyIdOf,
} from './privacy/event-data';

// Codecs for building commands and other payloads with the same readable errors
export {
  Amount,
  Currency,
  Id,
  NonNegativeInteger,
  PositiveDecimal,
  Ratio,
  SignedAmount,
  Text,
  Timestamp,
  TimestampInput,
  findForbiddenKey,
  shapeOf,
  withShape,
  nullable,
  oneOf,
  ratioValue,
  struct,
  tagged,
  toTimestamp,
} from './codec/primitives';
export type { CodecShape, Props, StructOf } from './codec/primitives';
export { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, parseTimestamp } from './codec/timestamp';
export { formatProblems, toDecodeProblems } from './codec/errors';
export type { DecodeProblem } from './codec/errors';

// Money
export { LedgerDecimal, MONEY_ROUNDING } from './money/decimal';
export { currencyCodes, isCurrencyCode, minorUnitsOf } from './money/currency';
export type { CurrencyCode } from './money/currency';
export {
  MAX_AMOUNT,
  boundedText,
  describeAmountProblem,
  formatAmount,
  fromMinorUnits,
  parseAmount,
  parseDecimalString,
  roundToCurrency,
  toMinorUnits,
} from './money/amount';
export type { AmountProblem, DecimalString } from './money/amount';
export { splitExactly } from './money/split';
export type { SplitWeight } from './money/split';

// Audit
export {
  GENESIS_DIGEST,
  canonicalJson,
  computeEventHash,
  encodeHashedText,
  hashEvent,
  hashOfEncodedText,
  nextDigest,
  sameEventBody,
} from './audit/hash';
export type { HashedFields } from './audit/hash';
