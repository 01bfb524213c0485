import type {
  JSONEventData,
  JSONType,
  Position,
  RecordedEvent as ClientRecordedEvent,
} from '@eventstore/db-client';
import type { RecordedEvent } from '@partner-ledger/events';
import { StoreCorruptionError } from '@partner-ledger/store';
import { serverEventIdFor } from './event-id';
import { toPortPosition } from './positions';

// How a ledger event is laid out on the server. The server's own fields carry what it owns or checks:
// stream, revision, position, event type, and the event id (a UUID derived from the ledger id). The data
// is the event's data, as JSON. Everything else of the envelope lives in the event's metadata, under one
// key, so that nothing of the ledger mixes with other metadata:
//
//   { "$correlationId": "...", "$causationId": "...",          <- the server's conventions, for its
//     "partnerLedger": { "format": 1, "id": "...",                 system projections; not read back
//       "schemaVersion": 1, "occurredAt": "...", "recordedAt": "...", "actor": "...",
//       "correlationId": "...", "causationId": null, "prevHash": null, "hash": "..." } }
//
// The hash links therefore live in metadata, and `verify` recomputes them exactly as on the other stores.

/** The metadata key under which the ledger keeps its envelope. */
export const LEDGER_METADATA_KEY = 'partnerLedger';
const FORMAT = 1;

export interface LedgerEnvelope {
  readonly format: typeof FORMAT;
  readonly id: string;
  readonly schemaVersion: number;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly actor: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly prevHash: string | null;
  readonly hash: string;
  /**
   * The append's tags (AppendOptions.tags), when it had any: what the adapter's check of a later append
   * condition looks for. Not part of the event or its hash.
   */
  readonly tags?: readonly string[];
}

/** What the adapter asks the server to store for a chained ledger event. */
export const toEventData = (
  event: Omit<RecordedEvent, 'position'>,
  tags: readonly string[] = [],
): JSONEventData => {
  const envelope: LedgerEnvelope = {
    format: FORMAT,
    id: event.id,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    actor: event.actor,
    correlationId: event.correlationId,
    causationId: event.causationId,
    prevHash: event.prevHash,
    hash: event.hash,
    ...(tags.length === 0 ? {} : { tags: [...tags] }),
  };
  return {
    id: serverEventIdFor(event.id),
    contentType: 'application/json',
    type: event.type,
    // The client serialises with JSON.stringify and parses back with JSON.parse: any JSON value survives,
    // although its typing only names objects, arrays and strings.
    data: event.data as JSONType,
    metadata: {
      $correlationId: event.correlationId,
      ...(event.causationId === null ? {} : { $causationId: event.causationId }),
      [LEDGER_METADATA_KEY]: envelope,
    },
  };
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/** The tags a server event was appended with (none for events of other writers or without tags). */
export const tagsOfRecord = (record: ClientRecordedEvent): readonly string[] => {
  const envelope = isRecord(record.metadata) ? record.metadata[LEDGER_METADATA_KEY] : undefined;
  const tags = isRecord(envelope) ? envelope.tags : undefined;
  return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [];
};

/** Whether a server event carries the ledger's envelope (it was written by this adapter). */
export const hasLedgerEnvelope = (record: ClientRecordedEvent): boolean =>
  isRecord(record.metadata) && LEDGER_METADATA_KEY in record.metadata;

const isString = (value: unknown): value is string => typeof value === 'string';
const isNullableString = (value: unknown): value is string | null => value === null || isString(value);

/** The envelope fields that are missing or of the wrong kind (empty when the envelope is sound). */
const envelopeProblems = (envelope: Record<string, unknown>): string[] => {
  const checks: [keyof LedgerEnvelope, (value: unknown) => boolean][] = [
    ['format', (value) => value === FORMAT],
    ['id', isString],
    ['schemaVersion', (value) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0],
    ['occurredAt', isString],
    ['recordedAt', isString],
    ['actor', isString],
    ['correlationId', isString],
    ['causationId', isNullableString],
    ['prevHash', isNullableString],
    ['hash', isString],
  ];
  return checks.filter(([key, check]) => !check(envelope[key])).map(([key]) => key);
};

const describe = (record: ClientRecordedEvent): string =>
  `event ${record.id} at revision ${record.revision} of stream ${JSON.stringify(record.streamId)}`;

/**
 * The ledger event that a server event holds. `position` is the event's position in $all: the server
 * reports it on every read of $all, and on stream reads from version 22.6 on. `stream` is the ledger's
 * name of the stream (without the store's namespace).
 */
export const fromServerEvent = (
  record: ClientRecordedEvent,
  position: Position | bigint | undefined,
  stream: string = record.streamId,
): RecordedEvent => {
  if (!record.isJson) {
    throw new StoreCorruptionError(`${describe(record)} is not JSON: it was not written by partner-ledger`);
  }
  const metadata = record.metadata;
  const envelope = isRecord(metadata) ? metadata[LEDGER_METADATA_KEY] : undefined;
  if (!isRecord(envelope)) {
    throw new StoreCorruptionError(
      `${describe(record)} has no ${LEDGER_METADATA_KEY} metadata: it was not written by partner-ledger`,
    );
  }
  const problems = envelopeProblems(envelope);
  if (problems.length > 0) {
    throw new StoreCorruptionError(
      `${describe(record)} has a damaged ${LEDGER_METADATA_KEY} metadata (${problems.join(', ')})`,
    );
  }
  if (position === undefined) {
    throw new StoreCorruptionError(
      `the server reported no position for ${describe(record)}: partner-ledger needs EventStoreDB 22.10 or later (or KurrentDB)`,
    );
  }
  const sound = envelope as unknown as LedgerEnvelope;
  if (serverEventIdFor(sound.id) !== record.id) {
    throw new StoreCorruptionError(
      `${describe(record)} says it is ledger event ${JSON.stringify(sound.id)}, whose server id would be ${serverEventIdFor(sound.id)}`,
    );
  }
  return {
    id: sound.id,
    type: record.type,
    schemaVersion: sound.schemaVersion,
    stream,
    revision: Number(record.revision),
    position:
      typeof position === 'bigint'
        ? toPortPosition({ commit: position, prepare: position })
        : toPortPosition(position),
    occurredAt: sound.occurredAt,
    recordedAt: sound.recordedAt,
    actor: sound.actor,
    correlationId: sound.correlationId,
    causationId: sound.causationId,
    data: record.data,
    prevHash: sound.prevHash,
    hash: sound.hash,
  };
};
