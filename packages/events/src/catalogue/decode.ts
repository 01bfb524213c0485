import * as E from 'fp-ts/Either';
import type * as t from 'io-ts';
import { findForbiddenKey } from '../codec/primitives';
import { formatProblems, toDecodeProblems } from '../codec/errors';
import type { DecodeProblem } from '../codec/errors';
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

export const isEventType = (value: unknown): value is EventType =>
  typeof value === 'string' && Object.prototype.hasOwnProperty.call(CATALOGUE, value);

/** Thrown where a decoding failure is a fault (corrupt storage), not bad input. */
export class EventDecodeError extends Error {
  constructor(readonly problems: readonly DecodeProblem[]) {
    super(formatProblems(problems));
    this.name = 'EventDecodeError';
  }
}

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
  const forbidden = findForbiddenKey(data);
  if (forbidden !== undefined) {
    return E.left([
      { path: `${prefix}.${forbidden}`, message: 'forbidden key (it could reach an object prototype)' },
    ]);
  }
  const definition = CATALOGUE[type];
  const upcast = upcasters.upcast(type, schemaVersion, data);
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
  const moneyProblems = (definition.money as (d: unknown) => ReturnType<typeof definition.money>)(
    decoded.right,
  )
    .map((field) => ({ field, parsed: parseAmount(field.amount, field.currency, { signed: true }) }))
    .flatMap(({ field, parsed }) =>
      E.isLeft(parsed)
        ? [{ path: `${prefix}.${field.path}`, message: describeAmountProblem(parsed.left) }]
        : [],
    );
  if (moneyProblems.length > 0) return E.left(moneyProblems);
  return E.right({ type, schemaVersion: definition.schemaVersion, data: decoded.right });
};

/** Decodes a stored event (envelope and data) from its JSON form. */
export const decodeEvent = (
  raw: unknown,
  upcasters: UpcasterRegistry = catalogueUpcasters,
): E.Either<DecodeProblem[], LedgerEvent> => {
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
