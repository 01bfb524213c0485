import type { ActualRevision, ExpectedRevision } from './port';

/** Base class of the errors a store reports; `code` tells them apart without instanceof. */
export abstract class StoreError extends Error {
  abstract readonly code: string;
}

/** Another writer got there first: the stream is not at the revision the append expected. */
export class WrongExpectedRevisionError extends StoreError {
  readonly code = 'WRONG_EXPECTED_REVISION';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: ActualRevision,
  ) {
    super(
      `Stream ${JSON.stringify(stream)}: expected revision ${String(expected)}, but it is at ${String(actual)}`,
    );
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * An append's condition failed: an event tagged with `tag` was stored at `position`, after the position the
 * decision had read up to. The caller reads again and decides again.
 */
export class AppendConditionFailedError extends StoreError {
  readonly code = 'APPEND_CONDITION_FAILED';
  constructor(
    readonly stream: string,
    readonly tag: string,
    readonly position: number,
    readonly after: number,
  ) {
    super(
      `Append to ${JSON.stringify(stream)}: an event tagged ${JSON.stringify(tag)} was stored at position ${position}, after position ${after} that the decision read up to`,
    );
    this.name = 'AppendConditionFailedError';
  }
}

/** An event id is already stored with a different body (or in another stream). */
export class DuplicateEventIdError extends StoreError {
  readonly code = 'DUPLICATE_EVENT_ID';
  constructor(
    readonly eventId: string,
    readonly stream: string,
    readonly reason: string,
  ) {
    super(`Event ${JSON.stringify(eventId)} in stream ${JSON.stringify(stream)}: ${reason}`);
    this.name = 'DuplicateEventIdError';
  }
}

export class StoreClosedError extends StoreError {
  readonly code = 'STORE_CLOSED';
  constructor() {
    super('The store is closed');
    this.name = 'StoreClosedError';
  }
}

/**
 * The stored data does not check out: a bad checksum, a missing file, an index that disagrees. `position`
 * is the global position of the record at fault when the store knows it, so that verify can name it and
 * count only the events before it.
 */
export class StoreCorruptionError extends StoreError {
  readonly code = 'STORE_CORRUPT';
  constructor(
    message: string,
    readonly file?: string,
    readonly offset?: number,
    readonly position?: number,
  ) {
    super(message);
    this.name = 'StoreCorruptionError';
  }
}
