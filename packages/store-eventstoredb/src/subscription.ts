import { addAbortSignal } from 'node:stream';
import { AccessDeniedError, InvalidArgumentError, START, UnsupportedError } from '@eventstore/db-client';
import type { AllStreamRecordedEvent, Position } from '@eventstore/db-client';
import { StoreClosedError, StoreError } from '@partner-ledger/store';
import type { SubscribeOptions, SubscriptionMessage } from '@partner-ledger/store';
import { backoffDelay, sleep as timerSleep } from './backoff';
import type { ResubscribeOptions } from './backoff';
import type { EventStoreDbClient } from './client';
import { serverFilterFor } from './filters';
import type { LedgerSelection, StreamNaming } from './filters';
import { fromServerEvent } from './metadata';
import { toPortPosition } from './positions';
import { findHead, resolveStart } from './reading';
import type { Start } from './reading';

export interface SubscriptionContext {
  readonly client: EventStoreDbClient;
  readonly selection: LedgerSelection;
  readonly select: (record: AllStreamRecordedEvent) => boolean;
  readonly naming: StreamNaming;
  readonly pageSize: number;
  readonly resubscribe: ResubscribeOptions;
  /** Aborted when the store closes. */
  readonly closed: AbortSignal;
}

/**
 * Errors that another attempt cannot cure: permissions, a request the server refuses, a server too old,
 * and the adapter's own findings (corrupt data). Anything else (a dropped connection, a node that stopped
 * being leader, a deadline, the server closing the stream) is worth a new subscription.
 */
export const isPermanentFailure = (error: unknown): boolean =>
  error instanceof AccessDeniedError ||
  error instanceof InvalidArgumentError ||
  error instanceof UnsupportedError ||
  error instanceof StoreError ||
  error instanceof TypeError ||
  error instanceof RangeError;

/** A signal that aborts when any of the given ones does, and a way to stop listening to them. */
const anySignal = (
  signals: readonly (AbortSignal | undefined)[],
): { signal: AbortSignal; release: () => void } => {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  present.forEach((signal) => {
    if (signal.aborted) controller.abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
  return {
    signal: controller.signal,
    release: () => present.forEach((signal) => signal.removeEventListener('abort', abort)),
  };
};

/**
 * A catch-up subscription to the ledger's events in $all that survives dropped connections.
 *
 * - Start: the port's position is inclusive and may be one that no record starts at (a checkpoint + 1);
 *   the server's is exclusive and must start a record. resolveStart turns one into the other, and events
 *   below the requested position are skipped.
 * - Caught up: the ledger's head (its last event) is read before subscribing; `caughtUp` follows the
 *   delivery of that event (or comes first, when the head is below the start). This works on every
 *   server version: the client's own "caughtUp" event needs a server of 23.10 or later.
 * - Resubscription: after an error, or when the server ends the stream, a new subscription starts after
 *   the last record received (always a real record position), after an exponential backoff. Positions of
 *   delivered events only grow, and an event at or below the last delivered position is never delivered
 *   again: no gap, no duplicate.
 */
export async function* subscribeToLedger(
  context: SubscriptionContext,
  options: SubscribeOptions,
): AsyncGenerator<SubscriptionMessage> {
  const { client, selection, select, naming, pageSize, resubscribe, closed } = context;
  const fromPosition = options.fromPosition ?? 0;
  if (!Number.isSafeInteger(fromPosition) || fromPosition < 0) {
    throw new RangeError(`fromPosition must be an integer >= 0, got ${JSON.stringify(fromPosition)}`);
  }
  if (closed.aborted) throw new StoreClosedError();
  const { maxAttempts = Number.POSITIVE_INFINITY, onResubscribe, sleep = timerSleep } = resubscribe;
  const stop = anySignal([options.signal, closed]);
  const ended = (): boolean => {
    if (closed.aborted) throw new StoreClosedError();
    return stop.signal.aborted;
  };
  /** Waits before retry number `attempt`, after `error`; false when the subscription ended meanwhile. */
  const backOff = async (attempt: number, error: unknown): Promise<boolean> => {
    if (isPermanentFailure(error) || attempt > maxAttempts) throw error;
    const delayMs = backoffDelay(attempt, resubscribe);
    onResubscribe?.({ attempt, delayMs, error });
    await sleep(delayMs, stop.signal);
    return !ended();
  };
  try {
    // The head and the start are read before subscribing; a server that cannot be reached yet is retried
    // like a dropped subscription.
    let prepared: { headPosition: number; start: Start } | undefined;
    for (let attempt = 1; prepared === undefined; attempt += 1) {
      try {
        const { head } = await findHead(client, select, pageSize);
        const { start } = await resolveStart(client, fromPosition);
        prepared = { headPosition: head === undefined ? -1 : toPortPosition(head.position), start };
      } catch (error) {
        if (ended() || !(await backOff(attempt, error))) return;
      }
    }
    const { headPosition, start } = prepared;
    if (ended()) return;

    let caughtUp = false;
    let lastDelivered = -1;
    let from: Position | typeof START =
      start.kind === 'beginning' ? START : start.kind === 'at' ? start.record.position : start.position;

    /** The messages for one record: its event if it is the ledger's and new, then caughtUp if due. */
    const deliver = (record: AllStreamRecordedEvent): SubscriptionMessage[] => {
      const position = toPortPosition(record.position);
      if (position < fromPosition || position <= lastDelivered || !select(record)) return [];
      const event = fromServerEvent(record, record.position, naming.fromServer(record.streamId));
      lastDelivered = position;
      if (caughtUp || position < headPosition) return [{ kind: 'event', event }];
      caughtUp = true;
      return [
        { kind: 'event', event },
        { kind: 'caughtUp', position },
      ];
    };

    if (headPosition < fromPosition) {
      caughtUp = true;
      yield { kind: 'caughtUp', position: headPosition };
    }
    // The record at the start itself: the server's subscription starts after it.
    if (start.kind === 'at') yield* deliver(start.record);

    let attempt = 0;
    while (!ended()) {
      const subscription = client.subscribeToAll({
        fromPosition: from,
        filter: serverFilterFor(selection),
        resolveLinkTos: false,
      });
      let failure: unknown = new Error('the server ended the subscription');
      try {
        for await (const resolved of addAbortSignal(stop.signal, subscription)) {
          const record = resolved.event;
          if (record === undefined) continue;
          from = record.position;
          attempt = 0;
          yield* deliver(record);
        }
      } catch (error) {
        failure = error;
      } finally {
        await subscription.unsubscribe().catch(() => undefined);
        // Unsubscribing cancels the server's stream; the readable itself is destroyed by the loop above
        // whichever way it ends (end, error, abort, or the caller stopping), which also releases its
        // listener on the abort signal.
      }
      if (ended()) return;
      attempt += 1;
      if (!(await backOff(attempt, failure))) return;
    }
  } finally {
    stop.release();
  }
}
