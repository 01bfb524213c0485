import * as E from 'fp-ts/Either';
import type * as t from 'io-ts';
import { findForbiddenKey } from '../codec/primitives';
import { formatProblems, toDecodeProblems } from '../codec/errors';
import type { DecodeProblem } from '../codec/errors';
import type { MoneyField } from './define';
import { RecordedEventEnvelope } from '../envelope';
import type { NewEvent, RecordedEvent } from '../envelope';
import { describeAmountProblem, parseAmount } from '../money/amount';
import { CATALOGUE } from './events';
import type { EventData, EventType } from './events';
import { catalogueUpcasters } from './upcasters';
import type { UpcasterRegistry } from './upcasters';

/** A stored event whose data has been upcast and decoded: what the ledger and the projections consume. */
export type LedgerEvent = { [T in EventType]: RecordedEvent<T, EventData<T>> }[EventType];

/** A new event of the catalogue, ready to append. */
export type NewLedgerEvent = { [T in EventType]: NewEvent<T, EventData<T>> }[EventType];

/** The event of a given type, narrowed. */
export type LedgerEventOf<T extends EventType> = Extract<LedgerEvent, { type: T }>;

/** Whether a value is the type of an event of the catalogue. */
export const isEventType = (value: unknown): value is EventType =>
  typeof value === 'string' && Object.prototype.hasOwnProperty.call(CATALOGUE, value);

/** Thrown where a decoding failure is a fault (corrupt storage), not bad input. */
export class EventDecodeError extends Error {
  constructor(readonly problems: readonly DecodeProblem[]) {
    super(formatProblems(problems));
    this.name = 'EventDecodeError';
  }
}

/** Every amount of an event that does not fit its currency's minor units (or the bound), with its path. */
const moneyProblemsOf = (
  prefix: string,
  money: (data: unknown) => readonly MoneyField[],
  data: unknown,
): DecodeProblem[] => {
  const problems: DecodeProblem[] = [];
  for (const field of money(data)) {
    const parsed = parseAmount(field.amount, field.currency, { signed: true });
    if (E.isLeft(parsed))
      problems.push({ path: `${prefix}.${field.path}`, message: describeAmountProblem(parsed.left) });
  }
  return problems;
};

/**
 * Decodes an event's data: upcasts it to the current schema version, rejects forbidden keys, decodes it
 * with its type's codec, and checks every amount against its currency's minor units. All problems are
 * reported, each with the path of its field (`ConversionAttributed.data.credits[2].revenueCredit`).
 */
export const decodeEventData = (
  type: unknown,
  schemaVersion: number,
  data: unknown,
  upcasters: UpcasterRegistry = catalogueUpcasters,
): E.Either<DecodeProblem[], { type: EventType; schemaVersion: number; data: unknown }> => {
  if (!isEventType(type)) {
    return E.left([
      {
        path: 'type',
        message: `unknown event type ${JSON.stringify(type)}; known types: ${Object.keys(CATALOGUE).join(', ')}`,
      },
    ]);
  }
  const prefix = `${type}.data`;
  const definition = CATALOGUE[type];
  const money = definition.money as (data: unknown) => readonly MoneyField[];
  const upcast = upcasters.upcast(type, schemaVersion, data);
  // Fast path, taken by every valid event: the codecs' type guards accept exactly what they decode (struct
  // refuses unknown keys, and with them every forbidden key), allocate nothing, and keep the data as it is.
  // The full decode below runs only to explain a failure, field by field.
  if (upcast.schemaVersion === definition.schemaVersion && (definition.data as t.Mixed).is(upcast.data)) {
    const problems = moneyProblemsOf(prefix, money, upcast.data);
    if (problems.length > 0) return E.left(problems);
    return E.right({ type, schemaVersion: definition.schemaVersion, data: upcast.data });
  }
  const forbidden = findForbiddenKey(data);
  if (forbidden !== undefined) {
    return E.left([
      { path: `${prefix}.${forbidden}`, message: 'forbidden key (it could reach an object prototype)' },
    ]);
  }
  if (upcast.schemaVersion !== definition.schemaVersion) {
    return E.left([
      {
        path: `${type}.schemaVersion`,
        message: `expected schema version ${definition.schemaVersion} (or an older one with an upcaster), got ${schemaVersion}`,
      },
    ]);
  }
  const decoded = (definition.data as t.Mixed).decode(upcast.data);
  if (E.isLeft(decoded)) return E.left(toDecodeProblems(prefix, decoded.left));
  const moneyProblems = moneyProblemsOf(prefix, money, decoded.right);
  if (moneyProblems.length > 0) return E.left(moneyProblems);
  return E.right({ type, schemaVersion: definition.schemaVersion, data: decoded.right });
};

/**
 * The catalogue by type, in a Map: the type of an event read is a fresh string each time, which a Map finds
 * by hash, where a property lookup on CATALOGUE first looks the string up among the engine's interned ones.
 */
const DEFINITIONS = new Map<string, (typeof CATALOGUE)[EventType]>(
  Object.entries(CATALOGUE) as Array<[EventType, (typeof CATALOGUE)[EventType]]>,
);

/** Whether every amount of the data fits its currency: `moneyProblemsOf` without building a problem. */
const moneyFits = (money: (data: unknown) => readonly MoneyField[], data: unknown): boolean => {
  const fields = money(data);
  for (let i = 0; i < fields.length; i += 1) {
    const field = fields[i]!;
    if (E.isLeft(parseAmount(field.amount, field.currency, { signed: true }))) return false;
  }
  return true;
};

/**
 * The event itself when it is valid and already at the current schema version, or undefined to decode it the
 * long way (an old version to upcast, or a problem to explain). The same checks as the fast path of
 * `decodeEvent` through `decodeEventData`, with no Either, body or problem list built: every valid event
 * a replay reads takes this path, and what it allocates is collected once per event.
 */
const decodeCurrent = (raw: unknown, upcasters: UpcasterRegistry): LedgerEvent | undefined => {
  if (!RecordedEventEnvelope.is(raw)) return undefined;
  const event = raw as RecordedEvent;
  const type = event.type;
  const definition = DEFINITIONS.get(type);
  if (definition === undefined) return undefined;
  if (event.schemaVersion !== definition.schemaVersion) return undefined;
  // A step from the current version would take the event past the catalogue's (an error, explained the
  // long way). Without `reads`, `upcast` tells: it changes nothing when there is no step to take.
  if (upcasters.reads !== undefined) {
    if (upcasters.reads(type, event.schemaVersion)) return undefined;
  } else {
    const upcast = upcasters.upcast(type, event.schemaVersion, event.data);
    if (upcast.data !== event.data || upcast.schemaVersion !== event.schemaVersion) return undefined;
  }
  if (!(definition.data as t.Mixed).is(event.data)) return undefined;
  if (!moneyFits(definition.money as (data: unknown) => readonly MoneyField[], event.data)) return undefined;
  return event as LedgerEvent;
};

/** Decodes a stored event (envelope and data) from its JSON form. */
export const decodeEvent = (
  raw: unknown,
  upcasters: UpcasterRegistry = catalogueUpcasters,
): E.Either<DecodeProblem[], LedgerEvent> => {
  const current = decodeCurrent(raw, upcasters);
  if (current !== undefined) return E.right(current);
  if (RecordedEventEnvelope.is(raw)) {
    // Fast path (see decodeEventData): a valid envelope is kept as it is, with its data upcast if it was old.
    const event = raw as RecordedEvent;
    const body = decodeEventData(event.type, event.schemaVersion, event.data, upcasters);
    if (E.isLeft(body)) return body;
    return E.right((body.right.data === event.data ? event : { ...event, ...body.right }) as LedgerEvent);
  }
  const forbidden = findForbiddenKey(raw);
  if (forbidden !== undefined)
    return E.left([{ path: forbidden, message: 'forbidden key (it could reach an object prototype)' }]);
  const envelope = RecordedEventEnvelope.decode(raw);
  if (E.isLeft(envelope)) {
    const type = (raw as { type?: unknown } | null)?.type;
    return E.left(toDecodeProblems(typeof type === 'string' ? type : 'event', envelope.left));
  }
  return E.map(
    (body: { type: EventType; schemaVersion: number; data: unknown }) =>
      ({ ...envelope.right, ...body }) as LedgerEvent,
  )(decodeEventData(envelope.right.type, envelope.right.schemaVersion, envelope.right.data, upcasters));
};

/** Like decodeEvent, for events read back from a store, where a failure means corrupt storage. */
export const decodeStoredEvent = (
  event: RecordedEvent,
  upcasters: UpcasterRegistry = catalogueUpcasters,
): LedgerEvent => {
  const current = decodeCurrent(event, upcasters);
  if (current !== undefined) return current;
  const decoded = decodeEvent(event, upcasters);
  if (E.isLeft(decoded)) throw new EventDecodeError(decoded.left);
  return decoded.right;
};

/** Builds a new event of the catalogue with its current schema version. */
export const newEvent = <T extends EventType>(
  type: T,
  data: EventData<T>,
  meta: Omit<NewEvent, 'type' | 'data' | 'schemaVersion'>,
): NewEvent<T, EventData<T>> => ({ ...meta, type, schemaVersion: CATALOGUE[type].schemaVersion, data });
