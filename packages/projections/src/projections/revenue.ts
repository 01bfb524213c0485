import type { LedgerEvent, LedgerEventOf } from '@partner-ledger/events';
import { convertMinor, formatMinor, parseRate, ratio, splitByWeights, toMinor } from '../money';
import { periodOf } from '../period';
import type { Granularity } from '../period';
import type { JsonValue } from '../runtime/json';
import { sortedEntries, sortedResult } from '../runtime/json';
import type { Projection, ResultContext } from '../runtime/projection';
import type { ReferenceData } from '../runtime/reference';
import { reportingRateOf } from '../runtime/reference';

/**
 * Revenue figures of one scope (a partner, a partner type, the program) in one period and currency, as read
 * out of a book for a result or a checkpoint.
 */
interface Figures {
  /** Revenue of every conversion (program scope only): attributed or not. */
  total: bigint;
  attributed: bigint;
  sourced: bigint;
  influenced: bigint;
  /** Conversions counted in the scope (reversals do not uncount them). */
  conversions: number;
}

/**
 * Figure sets of one scope (the program, a partner type or a partner), as slots of its book: by
 * `${period}\u0001${currency}` in the native book, by period in the reporting one.
 */
type Scope = Map<string, number>;

/** The columns of a slot's amounts, in minor units. */
const TOTAL = 0;
const ATTRIBUTED = 1;
const SOURCED = 2;
const INFLUENCED = 3;
const COLUMNS = 4;
const MAX_MINOR = 2n ** 63n - 1n;
const MIN_MINOR = -(2n ** 63n);

/**
 * The figures in one kind of money (the conversions' own currencies, or the reporting currency), scope by
 * scope. Partners and types have a map each, looked up by the id as the event carries it and then by the
 * period key built once per movement: no key is composed per scope and event.
 *
 * The amounts themselves are not bigint objects in the state but 64-bit integers in one typed array per
 * book (four per slot), with the conversion counts beside them: a state of tens of thousands of figure
 * sets is then a few flat arrays the garbage collector never walks, where objects holding four bigints each
 * were copied and promoted by every young-generation collection they outlived (each addition made a new
 * bigint to keep). A sum beyond 64 bits (about 9.2e18 minor units) is kept exact in `overflow` instead.
 */
interface Book {
  readonly program: Scope;
  readonly types: Map<string, Scope>;
  readonly partners: Map<string, Scope>;
  /** Slot s holds total, attributed, sourced, influenced at 4s to 4s + 3. */
  amounts: BigInt64Array;
  conversions: Float64Array;
  /** Slots in use. */
  size: number;
  /** Amounts (by index in `amounts`) that do not fit 64 bits; null until one does not. */
  overflow: Map<number, bigint> | null;
}

/** The state of the partner revenue projection (opaque: saved and loaded by checkpoints). */
export interface RevenueState {
  readonly granularity: Granularity;
  /** The window of occurredAt counted (inclusive); null: unbounded on that side. */
  readonly from: string | null;
  readonly to: string | null;
  readonly native: Book;
  readonly reporting: Book;
  /** `${period}\u0001${currency}`: revenue with no recorded rate into the reporting currency. */
  readonly unconverted: Map<string, bigint>;
}

/** A revenue figure set as reported: decimal strings of one currency. */
export interface RevenueFigures {
  readonly attributed: string;
  readonly sourced: string;
  readonly influenced: string;
  readonly conversions: number;
  /** sourced / the program's total revenue of the same period and currency (4 decimals); null if none. */
  readonly sourcedShare: string | null;
}

export interface ProgramRevenueFigures extends RevenueFigures {
  /** All revenue, attributed to a partner or not. */
  readonly total: string;
  /** total - attributed: revenue of conversions that credited no partner (influence touches alone included). */
  readonly unattributed: string;
}

/** Revenue figures of one scope and period, per currency and in the reporting currency. */
export interface RevenueBlock<F> {
  /** Per conversion currency. */
  readonly byCurrency: Readonly<Record<string, F>>;
  /** In the reporting currency, through the rates recorded on the conversions; null if there is none. */
  readonly reporting: F | null;
}

/** The program's revenue figures of one period, with what could not be converted. */
export interface ProgramRevenueBlock extends RevenueBlock<ProgramRevenueFigures> {
  /** Revenue left out of `reporting` because its conversion recorded no rate into the reporting currency. */
  readonly unconverted: Readonly<Record<string, string>>;
}

/** Revenue figures per period, and for all periods together. */
export interface RevenueSeries<B> {
  readonly periods: Readonly<Record<string, B>>;
  /** All periods together. */
  readonly total: B;
}

/**
 * The result of `partnerRevenue`: attributed, sourced and influenced revenue of the program, each partner
 * type and each partner, per period.
 */
export interface PartnerRevenueResult {
  readonly granularity: Granularity;
  /** The window of occurredAt the figures cover (the `from` and `to` options); null: unbounded. */
  readonly from: string | null;
  readonly to: string | null;
  readonly reportingCurrency: string | null;
  readonly asOf: string | null;
  readonly program: RevenueSeries<ProgramRevenueBlock>;
  readonly partnerTypes: Readonly<Record<string, RevenueSeries<RevenueBlock<RevenueFigures>>>>;
  readonly partners: Readonly<
    Record<string, RevenueSeries<RevenueBlock<RevenueFigures>> & { readonly partnerType: string }>
  >;
}

/** The options of `partnerRevenue`: granularity, and the window of time counted. */
export interface PartnerRevenueOptions {
  /** How revenue is grouped in time (by occurredAt, UTC). Default `month`. */
  readonly granularity?: Granularity;
  /**
   * Only conversions and reversals with occurredAt >= from (an instant, inclusive). With `to`, this bounds
   * the state and the result to the periods asked for: without a window they grow with the history, a figure
   * set per partner, type and the program for every period and currency. Totals cover the window only.
   */
  readonly from?: string;
  /** Only conversions and reversals with occurredAt <= to (an instant, inclusive). */
  readonly to?: string;
}

const PROGRAM = 'G';
const SEP = '\u0001';
const UNKNOWN_TYPE = 'unknown';

const emptyFigures = (): Figures => ({
  total: 0n,
  attributed: 0n,
  sourced: 0n,
  influenced: 0n,
  conversions: 0,
});

const INITIAL_SLOTS = 64;

const emptyBook = (): Book => ({
  program: new Map(),
  types: new Map(),
  partners: new Map(),
  amounts: new BigInt64Array(INITIAL_SLOTS * COLUMNS),
  conversions: new Float64Array(INITIAL_SLOTS),
  size: 0,
  overflow: null,
});

/** The slot of `key` in `scope`, a new (zero) one if it has none. */
const slotAt = (book: Book, scope: Scope, key: string): number => {
  let slot = scope.get(key);
  if (slot === undefined) {
    if (book.size === book.conversions.length) {
      const amounts = new BigInt64Array(book.amounts.length * 2);
      amounts.set(book.amounts);
      const conversions = new Float64Array(book.conversions.length * 2);
      conversions.set(book.conversions);
      book.amounts = amounts;
      book.conversions = conversions;
    }
    slot = book.size;
    book.size += 1;
    scope.set(key, slot);
  }
  return slot;
};

const amountAt = (book: Book, at: number): bigint => book.overflow?.get(at) ?? book.amounts[at]!;

/** Adds to one amount of a slot. The bigints read and added are temporaries: none is kept. */
const addTo = (book: Book, slot: number, column: number, amount: bigint): void => {
  const at = slot * COLUMNS + column;
  const sum = amountAt(book, at) + amount;
  if (sum > MAX_MINOR || sum < MIN_MINOR) {
    (book.overflow ??= new Map()).set(at, sum);
    return;
  }
  book.overflow?.delete(at);
  book.amounts[at] = sum;
};

const countIn = (book: Book, slot: number, conversions: number): void => {
  book.conversions[slot] = book.conversions[slot]! + conversions;
};

const figuresOf = (book: Book, slot: number): Figures => {
  const at = slot * COLUMNS;
  return {
    total: amountAt(book, at + TOTAL),
    attributed: amountAt(book, at + ATTRIBUTED),
    sourced: amountAt(book, at + SOURCED),
    influenced: amountAt(book, at + INFLUENCED),
    conversions: book.conversions[slot]!,
  };
};

const scopeOf = (scopes: Map<string, Scope>, id: string): Scope => {
  let scope = scopes.get(id);
  if (scope === undefined) {
    scope = new Map();
    scopes.set(id, scope);
  }
  return scope;
};

/** One conversion or reversal, reduced to what revenue needs. sign = 1 for a conversion, -1 for a reversal. */
interface Movement {
  readonly amount: bigint;
  readonly credits: ReadonlyArray<readonly [string, bigint]>;
  readonly attributed: boolean;
  readonly sourcedBy: string | null;
  readonly partners: readonly string[];
  readonly counts: 0 | 1;
}

const record = (book: Book, key: string, movement: Movement, reference: ReferenceData): void => {
  const { amount, counts, credits } = movement;
  const program = slotAt(book, book.program, key);
  addTo(book, program, TOTAL, amount);
  countIn(book, program, counts);
  if (movement.attributed) addTo(book, program, ATTRIBUTED, amount);
  if (movement.sourcedBy !== null) addTo(book, program, SOURCED, amount);
  if (movement.partners.length > 0) addTo(book, program, INFLUENCED, amount);
  const typeOf = (partnerId: string): string => reference.partner(partnerId)?.partnerType ?? UNKNOWN_TYPE;
  // A conversion counts once for each partner it credits, and once for each type among them. A conversion
  // has a few credits: arrays searched from the start cost less than a Set per movement.
  const countedTypes: string[] = [];
  for (let i = 0; i < credits.length; i += 1) {
    const [partnerId, credit] = credits[i]!;
    const type = typeOf(partnerId);
    const partner = slotAt(book, scopeOf(book.partners, partnerId), key);
    const partnerType = slotAt(book, scopeOf(book.types, type), key);
    addTo(book, partner, ATTRIBUTED, credit);
    addTo(book, partnerType, ATTRIBUTED, credit);
    if (counts > 0 && !creditedBefore(credits, i, partnerId)) {
      countIn(book, partner, 1);
      if (!countedTypes.includes(type)) {
        countedTypes.push(type);
        countIn(book, partnerType, 1);
      }
    }
  }
  if (movement.sourcedBy !== null) {
    addTo(book, slotAt(book, scopeOf(book.partners, movement.sourcedBy), key), SOURCED, amount);
    addTo(book, slotAt(book, scopeOf(book.types, typeOf(movement.sourcedBy)), key), SOURCED, amount);
  }
  const influencedTypes: string[] = [];
  for (const partnerId of movement.partners) {
    addTo(book, slotAt(book, scopeOf(book.partners, partnerId), key), INFLUENCED, amount);
    const type = typeOf(partnerId);
    if (!influencedTypes.includes(type)) influencedTypes.push(type);
  }
  for (const type of influencedTypes)
    addTo(book, slotAt(book, scopeOf(book.types, type), key), INFLUENCED, amount);
};

const creditedBefore = (
  credits: ReadonlyArray<readonly [string, bigint]>,
  index: number,
  partnerId: string,
): boolean => {
  for (let j = 0; j < index; j += 1) if (credits[j]![0] === partnerId) return true;
  return false;
};

const applyMovement = (
  state: RevenueState,
  occurredAt: string,
  currency: string,
  rate: string | null,
  movement: Movement,
  reference: ReferenceData,
): void => {
  const period = periodOf(occurredAt, state.granularity);
  record(state.native, period + SEP + currency, movement, reference);
  const reportingCurrency = reference.reportingCurrency;
  if (rate === null || reportingCurrency === null) {
    const key = period + SEP + currency;
    state.unconverted.set(key, (state.unconverted.get(key) ?? 0n) + movement.amount);
    return;
  }
  const parsed = parseRate(rate);
  const converted = convertMinor(movement.amount, currency, reportingCurrency, parsed);
  const credits = splitByWeights(
    converted,
    movement.credits.map(([, credit]) => (credit < 0n ? -credit : credit)),
  );
  record(
    state.reporting,
    period,
    { ...movement, amount: converted, credits: movement.credits.map(([id], i) => [id, credits[i]!]) },
    reference,
  );
};

const onConversion = (
  state: RevenueState,
  event: LedgerEventOf<'ConversionAttributed'>,
  reference: ReferenceData,
): void => {
  const d = event.data;
  const partners = new Set<string>();
  for (const c of d.credits) partners.add(c.partnerId);
  for (const i of d.influencers) partners.add(i.partnerId);
  applyMovement(
    state,
    event.occurredAt,
    d.currency,
    reportingRateOf(d.currency, d.fx, reference.reportingCurrency),
    {
      amount: toMinor(d.amount, d.currency),
      credits: d.credits.map((c) => [c.partnerId, toMinor(c.revenueCredit, d.currency)] as const),
      attributed: d.credits.length > 0,
      sourcedBy: d.credits.find((c) => c.role === 'sourced')?.partnerId ?? null,
      partners: [...partners].sort(),
      counts: 1,
    },
    reference,
  );
};

const onReversal = (
  state: RevenueState,
  event: LedgerEventOf<'ConversionReversed'>,
  reference: ReferenceData,
): void => {
  const d = event.data;
  const conversion = reference.conversion(d.conversionId);
  const credits = d.credits.map((c) => [c.partnerId, -toMinor(c.revenueCredit, d.currency)] as const);
  applyMovement(
    state,
    event.occurredAt,
    d.currency,
    conversion?.reportingRate ?? null,
    {
      amount: -toMinor(d.amount, d.currency),
      credits,
      attributed: conversion?.attributed ?? credits.length > 0,
      sourcedBy: conversion?.sourcedBy ?? null,
      partners: conversion?.partners ?? credits.map(([id]) => id),
      counts: 0,
    },
    reference,
  );
};

const apply = (state: RevenueState, event: LedgerEvent, reference: ReferenceData): RevenueState => {
  // Outside the window: not counted, and no figure set is created for it.
  if (
    (state.from !== null && event.occurredAt < state.from) ||
    (state.to !== null && event.occurredAt > state.to)
  )
    return state;
  if (event.type === 'ConversionAttributed') onConversion(state, event, reference);
  else if (event.type === 'ConversionReversed') onReversal(state, event, reference);
  return state;
};

const formatFigures = (f: Figures, currency: string, programTotal: bigint): RevenueFigures => ({
  attributed: formatMinor(f.attributed, currency),
  sourced: formatMinor(f.sourced, currency),
  influenced: formatMinor(f.influenced, currency),
  conversions: f.conversions,
  sourcedShare: ratio(f.sourced, programTotal),
});

const add = (into: Figures, f: Figures): void => {
  into.total += f.total;
  into.attributed += f.attributed;
  into.sourced += f.sourced;
  into.influenced += f.influenced;
  into.conversions += f.conversions;
};

/** Groups figures by scope, then period, then currency ("" = the reporting currency). */
type Grouped = Map<string, Map<string, Map<string, Figures>>>;

const result = (state: RevenueState, context: ResultContext): PartnerRevenueResult => {
  const reportingCurrency = context.reference.reportingCurrency;
  const grouped: Grouped = new Map();
  const put = (scope: string, period: string, currency: string, f: Figures): void => {
    let periods = grouped.get(scope);
    if (periods === undefined) grouped.set(scope, (periods = new Map()));
    let currencies = periods.get(period);
    if (currencies === undefined) periods.set(period, (currencies = new Map()));
    currencies.set(currency, f);
  };
  const group = (scope: string, native: Scope | undefined, reporting: Scope | undefined): void => {
    if (native !== undefined)
      for (const [key, slot] of native) {
        const [period, currency] = key.split(SEP) as [string, string];
        put(scope, period, currency, figuresOf(state.native, slot));
      }
    if (reporting !== undefined)
      for (const [period, slot] of reporting) put(scope, period, '', figuresOf(state.reporting, slot));
  };
  group(PROGRAM, state.native.program, state.reporting.program);
  for (const [type, scope] of state.native.types) group('T' + type, scope, state.reporting.types.get(type));
  for (const [type, scope] of state.reporting.types)
    if (!state.native.types.has(type)) group('T' + type, undefined, scope);
  for (const [id, scope] of state.native.partners) group('P' + id, scope, state.reporting.partners.get(id));
  for (const [id, scope] of state.reporting.partners)
    if (!state.native.partners.has(id)) group('P' + id, undefined, scope);
  const programTotals = grouped.get(PROGRAM) ?? new Map<string, Map<string, Figures>>();
  const programTotalOf = (period: string | null, currency: string): bigint => {
    if (period !== null) return programTotals.get(period)?.get(currency)?.total ?? 0n;
    let sum = 0n;
    for (const currencies of programTotals.values()) sum += currencies.get(currency)?.total ?? 0n;
    return sum;
  };
  const unconvertedOf = (period: string | null): Record<string, string> => {
    const sums = new Map<string, bigint>();
    for (const [key, amount] of state.unconverted) {
      const [p, currency] = key.split(SEP) as [string, string];
      if (period === null || p === period) sums.set(currency, (sums.get(currency) ?? 0n) + amount);
    }
    return Object.fromEntries(sortedEntries(sums).map(([c, a]) => [c, formatMinor(a, c)]));
  };
  const block = (period: string | null, currencies: Map<string, Figures>, program: boolean) => {
    const byCurrency: Record<string, RevenueFigures | ProgramRevenueFigures> = {};
    let reporting: RevenueFigures | ProgramRevenueFigures | null = null;
    for (const [currency, f] of sortedEntries(currencies)) {
      const shown = currency === '' ? reportingCurrency : currency;
      if (shown === null) continue;
      const figures = formatFigures(f, shown, programTotalOf(period, currency));
      const withTotal = program
        ? {
            ...figures,
            total: formatMinor(f.total, shown),
            unattributed: formatMinor(f.total - f.attributed, shown),
          }
        : figures;
      if (currency === '') reporting = withTotal;
      else byCurrency[currency] = withTotal;
    }
    return program
      ? { byCurrency, reporting, unconverted: unconvertedOf(period) }
      : { byCurrency, reporting };
  };
  const series = (scope: string, program: boolean) => {
    const periods = grouped.get(scope) ?? new Map<string, Map<string, Figures>>();
    const totals = new Map<string, Figures>();
    const out: Record<string, unknown> = {};
    for (const [period, currencies] of sortedEntries(periods)) {
      out[period] = block(period, currencies, program);
      for (const [currency, f] of currencies) {
        let total = totals.get(currency);
        if (total === undefined) totals.set(currency, (total = emptyFigures()));
        add(total, f);
      }
    }
    return { periods: out, total: block(null, totals, program) };
  };
  const partnerTypes: Record<string, unknown> = {};
  const partners: Record<string, unknown> = {};
  for (const scope of [...grouped.keys()].sort()) {
    if (scope.startsWith('T')) partnerTypes[scope.slice(1)] = series(scope, false);
    else if (scope.startsWith('P')) {
      const partnerId = scope.slice(1);
      partners[partnerId] = {
        partnerType: context.reference.partner(partnerId)?.partnerType ?? UNKNOWN_TYPE,
        ...series(scope, false),
      };
    }
  }
  return sortedResult({
    granularity: state.granularity,
    from: state.from,
    to: state.to,
    reportingCurrency,
    asOf: context.asOf,
    program: series(PROGRAM, true),
    partnerTypes,
    partners,
  }) as PartnerRevenueResult;
};

type SavedFigures = [string, string, string, string, number];
const savedFigures = (f: Figures): SavedFigures => [
  f.total.toString(),
  f.attributed.toString(),
  f.sourced.toString(),
  f.influenced.toString(),
  f.conversions,
];
/**
 * A book saved as `[key, figures]` pairs sorted by key, the key being `${scope}\u0001${rest}` with scope "G"
 * (program), "T<type>" or "P<partnerId>": the checkpoint format of the flat maps this state replaced, so that
 * checkpoints saved before still load.
 */
const saveBook = (book: Book): Array<[string, SavedFigures]> => {
  const entries: Array<[string, SavedFigures]> = [];
  const put = (scope: string, slots: Scope): void => {
    for (const [key, slot] of slots) entries.push([scope + SEP + key, savedFigures(figuresOf(book, slot))]);
  };
  put(PROGRAM, book.program);
  for (const [type, figures] of book.types) put('T' + type, figures);
  for (const [id, figures] of book.partners) put('P' + id, figures);
  return entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
};
const loadBook = (saved: Array<[string, SavedFigures]>): Book => {
  const book = emptyBook();
  for (const [key, f] of saved) {
    const cut = key.indexOf(SEP);
    const scope = key.slice(0, cut);
    const target =
      scope === PROGRAM
        ? book.program
        : scopeOf(scope.startsWith('T') ? book.types : book.partners, scope.slice(1));
    const slot = slotAt(book, target, key.slice(cut + 1));
    addTo(book, slot, TOTAL, BigInt(f[0]));
    addTo(book, slot, ATTRIBUTED, BigInt(f[1]));
    addTo(book, slot, SOURCED, BigInt(f[2]));
    addTo(book, slot, INFLUENCED, BigInt(f[3]));
    book.conversions[slot] = f[4];
  }
  return book;
};

/** An option's instant in the stored form, so that it compares with occurredAt as a string. */
const instantOption = (name: string, value: string | undefined): string | null => {
  if (value === undefined) return null;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new RangeError(`partnerRevenue: ${name} is not an instant: ${value}`);
  return new Date(time).toISOString();
};

/**
 * Partner revenue: attributed, sourced and influenced revenue per partner, per partner type and for the
 * program, by period, per currency and in the reporting currency. See docs/projections.md for each figure.
 */
export const partnerRevenue = (
  options: PartnerRevenueOptions = {},
): Projection<RevenueState, PartnerRevenueResult> => {
  const granularity = options.granularity ?? 'month';
  const from = instantOption('from', options.from);
  const to = instantOption('to', options.to);
  return {
    name: 'partnerRevenue',
    eventTypes: ['ConversionAttributed', 'ConversionReversed'],
    initialState: () => ({
      granularity,
      from,
      to,
      native: emptyBook(),
      reporting: emptyBook(),
      unconverted: new Map(),
    }),
    apply,
    result,
    save: (state) =>
      ({
        granularity: state.granularity,
        // Only when set: a state without a window saves as it did before windows existed.
        ...(state.from === null ? {} : { from: state.from }),
        ...(state.to === null ? {} : { to: state.to }),
        native: saveBook(state.native),
        reporting: saveBook(state.reporting),
        unconverted: sortedEntries(state.unconverted).map(([k, v]) => [k, v.toString()]),
      }) as unknown as JsonValue,
    load: (json) => {
      const s = json as unknown as {
        granularity: Granularity;
        from?: string;
        to?: string;
        native: Array<[string, SavedFigures]>;
        reporting: Array<[string, SavedFigures]>;
        unconverted: Array<[string, string]>;
      };
      if (s.granularity !== granularity)
        throw new Error(`The saved revenue state is by ${s.granularity}, not by ${granularity}`);
      if ((s.from ?? null) !== from || (s.to ?? null) !== to)
        throw new Error(
          `The saved revenue state covers ${s.from ?? 'the beginning'} to ${s.to ?? 'the end'}, not ${from ?? 'the beginning'} to ${to ?? 'the end'}`,
        );
      return {
        granularity,
        from,
        to,
        native: loadBook(s.native),
        reporting: loadBook(s.reporting),
        unconverted: new Map(s.unconverted.map(([k, v]) => [k, BigInt(v)])),
      };
    },
  };
};
