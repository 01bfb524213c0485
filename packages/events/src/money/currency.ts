/**
 * ISO 4217 currency codes and their minor units (the number of decimals an amount may carry).
 * Codes not listed in {@link MINOR_UNIT_EXCEPTIONS} have two minor units.
 */
const ISO_4217_CODES = (
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
  'CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL ' +
  'GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD ' +
  'KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO ' +
  'NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD ' +
  'SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV ' +
  'WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG'
).split(' ');

/** Currencies whose minor unit is not 2 (ISO 4217 list one, "minor unit" column). */
const MINOR_UNIT_EXCEPTIONS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

const MINOR_UNITS: ReadonlyMap<string, number> = new Map(
  ISO_4217_CODES.map((code) => [code, MINOR_UNIT_EXCEPTIONS[code] ?? 2]),
);

/** An ISO 4217 alphabetic code that partner-ledger knows the minor units of. */
export type CurrencyCode = string;

/** Whether a value is an ISO 4217 currency code that the ledger knows. */
export const isCurrencyCode = (value: unknown): value is CurrencyCode =>
  typeof value === 'string' && MINOR_UNITS.has(value);

/** The number of decimals an amount in `currency` may have (JPY 0, USD 2, BHD 3). */
export const minorUnitsOf = (currency: CurrencyCode): number => {
  const units = MINOR_UNITS.get(currency);
  if (units === undefined) throw new Error(`Unknown currency ${JSON.stringify(currency)}`);
  return units;
};

/** Every ISO 4217 currency code the ledger knows. */
export const currencyCodes = (): readonly CurrencyCode[] => ISO_4217_CODES as CurrencyCode[];
