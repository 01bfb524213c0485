import type * as t from 'io-ts';
import type { CurrencyCode } from '../money/currency';

/** An amount inside an event's data, with the currency whose minor units it must respect. */
export interface MoneyField {
  /** Path inside `data`, e.g. `credits[2].revenueCredit`. */
  readonly path: string;
  readonly amount: string;
  readonly currency: CurrencyCode;
}

/** An event of the catalogue: its type, its schema version, the codec of its data and where its money is. */
export interface EventDefinition<Type extends string, Codec extends t.Mixed> {
  readonly type: Type;
  /** The version new events are written with; older versions are upcast on read. */
  readonly schemaVersion: number;
  readonly data: Codec;
  /** Every amount of the event and its currency, checked for the currency's minor units after decoding. */
  readonly money: (data: t.TypeOf<Codec>) => readonly MoneyField[];
}

export const defineEvent = <Type extends string, Codec extends t.Mixed>(
  definition: EventDefinition<Type, Codec>,
): EventDefinition<Type, Codec> => definition;

const NO_MONEY: readonly MoneyField[] = Object.freeze([]);

/** For events with no amount: one shared empty list, not a new array for every event decoded. */
export const noMoney = (): readonly MoneyField[] => NO_MONEY;

/** Money fields of a list, with their index in the path. */
export const eachMoney = <T>(
  items: readonly T[],
  prefix: string,
  fields: (item: T) => ReadonlyArray<readonly [string, string, CurrencyCode]>,
): MoneyField[] =>
  items.flatMap((item, index) =>
    fields(item).map(([field, amount, currency]) => ({
      path: `${prefix}[${index}].${field}`,
      amount,
      currency,
    })),
  );
