import { BACKWARDS, END, FORWARDS, InvalidArgumentError, START, UnknownError } from '@eventstore/db-client';
import type {
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  Position,
  StreamingRead,
} from '@eventstore/db-client';
import type { EventStoreDbClient } from './client';
import { samePosition, toClientPosition } from './positions';

/**
 * Iterates a streaming read of the client, and cancels the server's stream when the caller stops early
 * (a `break`, an exception, a `return` of the generator): the client does not do it on its own.
 */
export async function* iterateRead<E>(read: StreamingRead<E>): AsyncGenerator<E> {
  let finished = false;
  try {
    for await (const item of read) yield item;
    finished = true;
  } finally {
    if (!finished) await read.cancel();
  }
}

/** The records of a read of $all (a record without an event is a link whose target is gone: skipped). */
async function* recordsOf(
  read: StreamingRead<AllStreamResolvedEvent>,
): AsyncGenerator<AllStreamRecordedEvent> {
  for await (const resolved of iterateRead(read)) {
    if (resolved.event !== undefined) yield resolved.event;
  }
}

/** The last record of $all, whatever it is (system events included), or undefined for an empty log. */
export const lastRecord = async (client: EventStoreDbClient): Promise<AllStreamRecordedEvent | undefined> => {
  for await (const record of recordsOf(
    client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }),
  )) {
    return record;
  }
  return undefined;
};

/**
 * Reads $all backwards from its end, in pages, and returns the position of the last record that `select`
 * accepts (the ledger's head), together with the last record of all. The scan stops at the first
 * selected record, so it is short unless the log ends with many events of other applications.
 */
export const findHead = async (
  client: EventStoreDbClient,
  select: (record: AllStreamRecordedEvent) => boolean,
  pageSize: number,
): Promise<{
  readonly head: AllStreamRecordedEvent | undefined;
  readonly last: AllStreamRecordedEvent | undefined;
}> => {
  let last: AllStreamRecordedEvent | undefined;
  let from: Position | typeof END = END;
  for (;;) {
    let received = 0;
    let previous: Position | undefined;
    for await (const record of recordsOf(
      client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: pageSize }),
    )) {
      received += 1;
      // Whether a backwards read includes its starting record or not, the record is never counted twice.
      if (from !== END && record.position.commit >= from.commit) continue;
      last ??= record;
      if (select(record)) return { head: record, last };
      previous = record.position;
    }
    if (received < pageSize || previous === undefined) return { head: undefined, last };
    from = previous;
  }
};

/** Whether an error of a probe read means "no record starts at this position". */
const isInvalidPosition = (error: unknown): boolean =>
  error instanceof UnknownError || error instanceof InvalidArgumentError;

/** The record that starts exactly at `position`, if there is one. */
const recordAt = async (
  client: EventStoreDbClient,
  position: number,
): Promise<AllStreamRecordedEvent | undefined> => {
  try {
    for await (const record of recordsOf(
      client.readAll({ direction: FORWARDS, fromPosition: toClientPosition(position), maxCount: 1 }),
    )) {
      return record.position.commit === BigInt(position) ? record : undefined;
    }
    return undefined;
  } catch (error) {
    // A position inside a record: the server answers with an error ("invalid position"), which is the
    // answer to the question.
    if (isInvalidPosition(error)) return undefined;
    throw error;
  }
};

/**
 * Where a read or subscription of $all starts, in the server's terms, for "from port position p,
 * inclusive". The server accepts only positions where a record starts (any other offset is an error, or
 * on old servers a silent stall), so the adapter never sends p itself unless it checked that a record
 * starts there:
 * - `beginning`: from the first record of the log;
 * - `at`: from this record, inclusive;
 * - `after`: from the record after this one.
 * Callers still skip records below p (a position beyond the end of the log is allowed: the events it
 * waits for are those appended later at p or beyond).
 */
export type Start =
  | { readonly kind: 'beginning' }
  | { readonly kind: 'at'; readonly record: AllStreamRecordedEvent }
  | { readonly kind: 'after'; readonly position: Position };

/** The start for a port position, and the last record of the log when it was resolved. */
export const resolveStart = async (
  client: EventStoreDbClient,
  fromPosition: number,
): Promise<{ readonly start: Start; readonly last: AllStreamRecordedEvent | undefined }> => {
  const last = await lastRecord(client);
  if (fromPosition === 0 || last === undefined) return { start: { kind: 'beginning' }, last };
  const requested = BigInt(fromPosition);
  // The usual cases need no probe: a reader that has everything (past the end), or that asks for the last
  // record itself.
  if (requested > last.position.commit) return { start: { kind: 'after', position: last.position }, last };
  if (requested === last.position.commit) return { start: { kind: 'at', record: last }, last };
  // Then what a checkpoint gives, the position after the last event handled, and an event's own position.
  // (Records are longer than one byte, so at most one of the two starts a record.)
  const before = await recordAt(client, fromPosition - 1);
  if (before !== undefined) return { start: { kind: 'after', position: before.position }, last };
  const exact = await recordAt(client, fromPosition);
  if (exact !== undefined) return { start: { kind: 'at', record: exact }, last };
  throw new RangeError(
    `position ${fromPosition} is not a position of this store: on EventStoreDB, read from 0, from an event's position, or from an event's position + 1`,
  );
};

/**
 * The records of $all from a start, forwards, fetched `pageSize` at a time: each page is a new read that
 * starts at the last record of the previous one, so memory stays bounded and no read stays open for long.
 */
export async function* readAllRecords(
  client: EventStoreDbClient,
  start: Start,
  pageSize: number,
): AsyncGenerator<AllStreamRecordedEvent> {
  let from: Position | typeof START =
    start.kind === 'beginning' ? START : start.kind === 'at' ? start.record.position : start.position;
  let skip: Position | undefined = start.kind === 'after' ? start.position : undefined;
  for (;;) {
    const maxCount = pageSize + (skip === undefined ? 0 : 1);
    let received = 0;
    let lastPosition: Position | undefined;
    for await (const record of recordsOf(
      client.readAll({ direction: FORWARDS, fromPosition: from, maxCount }),
    )) {
      received += 1;
      lastPosition = record.position;
      if (skip !== undefined && samePosition(record.position, skip)) continue;
      yield record;
    }
    if (received < maxCount || lastPosition === undefined) return;
    from = lastPosition;
    skip = lastPosition;
  }
}
