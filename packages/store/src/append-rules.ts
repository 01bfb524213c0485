import { Id, Timestamp, canonicalJson, computeEventHash, sameEventBody } from '@partner-ledger/events';
import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import { AppendConditionFailedError, DuplicateEventIdError, WrongExpectedRevisionError } from './errors';
import type { ActualRevision, AppendOptions, AsKnownAt, ExpectedRevision } from './port';

// The rules every store applies to an append, in one place, so that the in-memory store and the adapters
// (file, EventStoreDB) decide identically: what input is acceptable, when an expected revision holds, what a
// retry is, and how events are chained.

const isNonNegativeInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Rejects input that no store can accept: an empty batch, a stream or event that breaks the envelope's
 * rules, an expected revision that is not one of the four forms. These are bugs in the caller, hence
 * TypeError/RangeError rather than a StoreError.
 */
export const assertAppendable = (
  stream: string,
  events: readonly NewEvent[],
  expectedRevision: ExpectedRevision,
): void => {
  if (!Id.is(stream)) throw new TypeError(`invalid stream name ${JSON.stringify(stream)}`);
  if (
    expectedRevision !== 'any' &&
    expectedRevision !== 'noStream' &&
    expectedRevision !== 'streamExists' &&
    !isNonNegativeInteger(expectedRevision)
  ) {
    throw new RangeError(
      `expected revision must be 'any', 'noStream', 'streamExists' or a revision >= 0, got ${JSON.stringify(expectedRevision)}`,
    );
  }
  if (!Array.isArray(events) || events.length === 0) {
    throw new RangeError(`an append to ${JSON.stringify(stream)} needs at least one event`);
  }
  // One event (the usual append) cannot repeat an id: no set to build.
  const ids = events.length > 1 ? new Set<string>() : undefined;
  events.forEach((event, index) => {
    const where = `event ${index} of the append to ${JSON.stringify(stream)}`;
    const problem =
      (!Id.is(event.id) && 'id') ||
      (!Id.is(event.type) && 'type') ||
      (!isNonNegativeInteger(event.schemaVersion) && 'schemaVersion') ||
      (!Timestamp.is(event.occurredAt) && 'occurredAt') ||
      (!Timestamp.is(event.recordedAt) && 'recordedAt') ||
      (!Id.is(event.actor) && 'actor') ||
      (!Id.is(event.correlationId) && 'correlationId') ||
      (event.causationId !== null && !Id.is(event.causationId) && 'causationId') ||
      (event.data === undefined && 'data');
    if (problem) throw new TypeError(`${where}: invalid ${problem} ${JSON.stringify(event[problem])}`);
    if (ids === undefined) return;
    if (ids.has(event.id)) {
      throw new DuplicateEventIdError(event.id, stream, 'the id appears twice in the same append');
    }
    ids.add(event.id);
  });
};

const isTag = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/**
 * Rejects tags or a condition that are not of the port's form: tags are non-empty strings, `after` is an
 * integer >= -1. Bugs in the caller (TypeError, RangeError), like assertAppendable's.
 */
export const assertTagsAndCondition = (stream: string, options: AppendOptions): void => {
  const { tags, condition } = options;
  const where = `the append to ${JSON.stringify(stream)}`;
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every(isTag)))
    throw new TypeError(`${where}: tags must be an array of non-empty strings, got ${JSON.stringify(tags)}`);
  if (condition === undefined) return;
  if (!Array.isArray(condition.failIfTagged) || !condition.failIfTagged.every(isTag))
    throw new TypeError(
      `${where}: condition.failIfTagged must be an array of non-empty strings, got ${JSON.stringify(condition.failIfTagged)}`,
    );
  if (!Number.isSafeInteger(condition.after) || condition.after < -1)
    throw new RangeError(
      `${where}: condition.after must be an integer >= -1 (an event's position, or -1), got ${JSON.stringify(condition.after)}`,
    );
};

/**
 * The last position at which each tag was stored, as a store that checks conditions keeps it in memory.
 * Tags are not persisted: for a tag not seen since the store opened, the last position is `floor` (the head
 * at open), which is conservative: a condition whose `after` is below it fails once, the caller catches up
 * and retries. Memory is bounded: two generations of at most `limit / 2` tags each; when the young one is
 * full the old one is dropped and the floor rises to the highest position it held (again conservative).
 */
export interface TagPositions {
  /** Throws AppendConditionFailedError if a tag of the condition was stored after `after`. */
  check(
    stream: string,
    condition: { readonly failIfTagged: readonly string[]; readonly after: number },
  ): void;
  /** Records that events tagged with `tags` were stored up to `position` (positions only grow). */
  record(tags: readonly string[], position: number): void;
  /** The position a condition compares with for `tag`. */
  lastPosition(tag: string): number;
}

const DEFAULT_TAG_LIMIT = 200_000;

/**
 * The last position of every tag a store has seen, bounded to `limit` tags (two generations): a tag it does
 * not know counts as stored at `floor` (the head when the store opened), so a condition is never passed by
 * forgetting.
 */
export const createTagPositions = (floor: number, limit = DEFAULT_TAG_LIMIT): TagPositions => {
  let young = new Map<string, number>();
  let old = new Map<string, number>();
  let oldHighest = floor;
  let youngHighest = floor;
  const lastPosition = (tag: string): number => young.get(tag) ?? old.get(tag) ?? floor;
  return {
    lastPosition,
    check: (stream, condition) => {
      for (const tag of condition.failIfTagged) {
        const last = lastPosition(tag);
        if (last > condition.after) throw new AppendConditionFailedError(stream, tag, last, condition.after);
      }
    },
    record: (tags, position) => {
      for (const tag of tags) young.set(tag, position);
      if (position > youngHighest) youngHighest = position;
      if (young.size >= limit / 2) {
        floor = Math.max(floor, oldHighest);
        old = young;
        oldHighest = youngHighest;
        young = new Map();
      }
    },
  };
};

/** Throws WrongExpectedRevisionError unless a stream at `actual` satisfies `expected`. */
export const checkExpectedRevision = (
  stream: string,
  expected: ExpectedRevision,
  actual: ActualRevision,
): void => {
  const holds =
    expected === 'any' ||
    (expected === 'noStream' && actual === 'noStream') ||
    (expected === 'streamExists' && actual !== 'noStream') ||
    expected === actual;
  if (!holds) throw new WrongExpectedRevisionError(stream, expected, actual);
};

/**
 * What an append is, given the events already stored under its ids (`stored[i]` for `events[i]`, undefined
 * when the id is new):
 * - `new`: no id is stored yet; write the batch;
 * - `retry`: every id is stored, in this stream, with the same body; write nothing, answer with `stored`.
 * Anything else (an id stored with another body, in another stream, or a batch that is partly stored)
 * throws DuplicateEventIdError.
 */
export const classifyAppend = (
  stream: string,
  events: readonly NewEvent[],
  stored: readonly (RecordedEvent | undefined)[],
): { readonly kind: 'new' } | { readonly kind: 'retry'; readonly stored: readonly RecordedEvent[] } => {
  let found = 0;
  events.forEach((event, index) => {
    const previous = stored[index];
    if (previous === undefined) return;
    found += 1;
    if (previous.stream !== stream) {
      throw new DuplicateEventIdError(
        event.id,
        stream,
        `the id is already stored in stream ${JSON.stringify(previous.stream)}`,
      );
    }
    if (!sameEventBody(previous, event)) {
      throw new DuplicateEventIdError(
        event.id,
        stream,
        `the id is already stored with a different body (revision ${previous.revision})`,
      );
    }
  });
  if (found === 0) return { kind: 'new' };
  if (found < events.length) {
    const storedId = events.find((_, index) => stored[index] !== undefined)?.id ?? '';
    throw new DuplicateEventIdError(
      storedId,
      stream,
      'the id is already stored but other events of this append are not: a retry must repeat its batch',
    );
  }
  return { kind: 'retry', stored: stored as readonly RecordedEvent[] };
};

/** A deep copy of a JSON value, frozen, so that neither the caller nor a reader can change stored data. */
export const frozenCopy = <T>(value: T): T => {
  if (value === null || typeof value !== 'object') return value;
  const copy: unknown = Array.isArray(value)
    ? value.map(frozenCopy)
    : Object.fromEntries(Object.entries(value).map(([key, child]) => [key, frozenCopy(child)]));
  return Object.freeze(copy) as T;
};

/**
 * The canonical JSON of an event's data (what its hash covers), or a TypeError that names the event when the
 * data has no JSON form (a bigint, a number that is not finite): such an append is refused whole.
 */
export const canonicalDataOf = (stream: string, index: number, event: NewEvent): string => {
  try {
    return canonicalJson(event.data);
  } catch (error) {
    throw new TypeError(
      `event ${index} of the append to ${JSON.stringify(stream)} (id ${JSON.stringify(event.id)}): its data cannot be stored as JSON: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
};

/**
 * Chains new events onto a stream whose last event is `previous` (undefined for a new stream): assigns
 * revisions and hash links. Positions are left to the store (on EventStoreDB the server assigns them).
 */
export const chainEvents = (
  stream: string,
  previous: { readonly revision: number; readonly hash: string } | undefined,
  events: readonly NewEvent[],
): Omit<RecordedEvent, 'position'>[] => {
  let revision = previous === undefined ? -1 : previous.revision;
  let prevHash = previous === undefined ? null : previous.hash;
  return events.map((event, index) => {
    revision += 1;
    const canonicalData = canonicalDataOf(stream, index, event);
    const unhashed = {
      id: event.id,
      type: event.type,
      schemaVersion: event.schemaVersion,
      stream,
      revision,
      occurredAt: event.occurredAt,
      recordedAt: event.recordedAt,
      actor: event.actor,
      correlationId: event.correlationId,
      causationId: event.causationId,
      data: frozenCopy(event.data),
      prevHash,
    };
    const hash = computeEventHash(unhashed, canonicalData);
    prevHash = hash;
    return { ...unhashed, hash };
  });
};

/**
 * The test for "as known at": whether an event was recorded by then. `position` and `recordedAt` are both
 * inclusive; recordedAt is compared as an instant, so any ISO 8601 form of the bound works.
 */
export const knownAtFilter = (
  asKnownAt: AsKnownAt | undefined,
): ((event: Pick<RecordedEvent, 'position' | 'recordedAt'>) => boolean) => {
  if (asKnownAt === undefined) return () => true;
  const { position, recordedAt } = asKnownAt;
  if (position !== undefined && !Number.isSafeInteger(position)) {
    throw new RangeError(`asKnownAt.position must be an integer, got ${JSON.stringify(position)}`);
  }
  const instant = recordedAt === undefined ? undefined : Date.parse(recordedAt);
  if (instant !== undefined && Number.isNaN(instant)) {
    throw new RangeError(
      `asKnownAt.recordedAt must be an ISO 8601 timestamp, got ${JSON.stringify(recordedAt)}`,
    );
  }
  return (event) =>
    (position === undefined || event.position <= position) &&
    (instant === undefined || Date.parse(event.recordedAt) <= instant);
};

/** Checks an optional count or position option: undefined, or an integer >= `min`. */
export const checkIntegerOption = (name: string, value: number | undefined, min: number): void => {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
};
