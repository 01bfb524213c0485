import type { NewEvent, RecordedEvent } from '@partner-ledger/events';

/**
 * What an append expects of its stream, checked atomically with the write (optimistic concurrency):
 * - `any`: no check;
 * - `noStream`: the stream must not exist yet;
 * - `streamExists`: the stream must have at least one event;
 * - a number: the revision of the stream's last event must be exactly this.
 */
export type ExpectedRevision = 'any' | 'noStream' | 'streamExists' | number;

/** The revision a stream actually had when an append was refused: a number, or `noStream`. */
export type ActualRevision = number | 'noStream';

/**
 * What a decision read across streams, for the store to check atomically with its append (a dynamic
 * consistency boundary): "refuse this append if anything tagged with one of these tags was stored after the
 * position my reads were caught up to".
 */
export interface AppendCondition {
  /** Tags whose events the decision read (up to `after`). */
  readonly failIfTagged: readonly string[];
  /** The global position the decision's reads were caught up to (an event's position, or -1). */
  readonly after: number;
}

export interface AppendOptions {
  /** Default `any`. */
  readonly expectedRevision?: ExpectedRevision;
  /**
   * The tags of this append's events: what later conditions look for. Not part of the events or their
   * hashes.
   */
  readonly tags?: readonly string[];
  /**
   * Refuse the append (AppendConditionFailedError, code APPEND_CONDITION_FAILED) if any event stored with
   * one of failIfTagged has a position > after. An idempotent retry is recognised before the condition is
   * checked, as with the expected revision.
   */
  readonly condition?: AppendCondition;
}

export interface AppendResult {
  readonly stream: string;
  /** The events as stored, with revision, position and hashes. */
  readonly events: readonly RecordedEvent[];
  /** The revision of the stream's last event after the append: the expected revision for the next one. */
  readonly nextExpectedRevision: number;
  /** The global position of the last event appended. */
  readonly lastPosition: number;
  /** True when every event was already stored with the same body (an idempotent retry): nothing was written. */
  readonly alreadyStored: boolean;
}

/**
 * "As known at": read only what the ledger had recorded by then. Both bounds are inclusive; when both are
 * given, an event must satisfy both.
 */
export interface AsKnownAt {
  /** Only events at this global position or before (any integer: it need not be an event's position). */
  readonly position?: number;
  /** Only events with recordedAt at or before this timestamp. */
  readonly recordedAt?: string;
}

export interface ReadStreamOptions {
  /** Default `forwards`. */
  readonly direction?: 'forwards' | 'backwards';
  /** Start here (inclusive). Default: the first event (forwards) or the last one (backwards). */
  readonly fromRevision?: number;
  readonly maxCount?: number;
  readonly asKnownAt?: AsKnownAt;
}

export interface ReadAllOptions {
  /**
   * Start at this global position (inclusive): the events at it or after it. Default 0. To resume after an
   * event, pass its position + 1. Portable starts are 0, a position the store reported (an event's, the
   * head's) and such a position + 1: EventStoreDB refuses any other position inside its log (RangeError).
   */
  readonly fromPosition?: number;
  /** How many events a store fetches per page; memory stays bounded by it. Default chosen by the store. */
  readonly pageSize?: number;
  readonly asKnownAt?: AsKnownAt;
}

export type SubscriptionMessage =
  | { readonly kind: 'event'; readonly event: RecordedEvent }
  /**
   * Sent once, after the last event that existed when the subscription caught up; live events follow.
   * `position` is the store's head position at that moment (-1 for an empty store).
   */
  | { readonly kind: 'caughtUp'; readonly position: number };

export interface SubscribeOptions {
  /**
   * Start at this global position (inclusive). Default 0. The same starts as ReadAllOptions.fromPosition:
   * 0, an event's position, or an event's position + 1 (resuming after a checkpoint; the head + 1 waits
   * for the next event).
   */
  readonly fromPosition?: number;
  /** Ends the subscription: the iterator finishes cleanly. */
  readonly signal?: AbortSignal;
}

/**
 * The port through which the ledger, the projections and the CLI use a store. Every adapter implements it
 * and passes the shared contract suite (`@partner-ledger/store/contract`).
 *
 * Errors are exceptions of the classes in ./errors: a conflict or a duplicate id is a normal outcome that
 * callers handle (the ledger retries conflicts); an I/O fault is not.
 *
 * Global positions (RecordedEvent.position) strictly increase in global order on every store. The
 * in-memory and file stores also make them dense from 0 (0, 1, 2, ...); on EventStoreDB a position is the
 * server's commit position, with gaps and not from 0. Compare positions; never count with them, nor start
 * a read at a position computed from a count.
 */
export interface EventStore {
  /**
   * Appends events to a stream, atomically: all of them or none. The store assigns revisions, global
   * positions and hash links. Idempotent by event id: the same ids with the same bodies again change
   * nothing and return the first result; an id stored with a different body is a DuplicateEventIdError.
   * A retry is recognised before the expected revision is checked, so it succeeds after the stream moved on.
   * An empty batch or an expected revision of none of the four forms is a RangeError, an event that breaks
   * the envelope's rules a TypeError (bugs in the caller, not store errors).
   */
  append(stream: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** A stream's events; a stream that does not exist reads as empty. */
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  /**
   * All events in global order, fetched in pages: never the whole log in memory. Events appended while a
   * read is under way may be left out of it; subscribe to follow the log.
   */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /** Catches up from a position, signals `caughtUp`, then delivers new events as they are appended. */
  subscribe(options?: SubscribeOptions): AsyncIterable<SubscriptionMessage>;
  /**
   * The global position of the last event, or -1 when the store is empty. The event count minus one only
   * on stores with dense positions (in-memory, file); on EventStoreDB, the last event's commit position.
   */
  headPosition(): Promise<number>;
  /**
   * Releases files, locks and connections. Further calls fail with StoreClosedError, and so do waiting
   * subscriptions; closing again does nothing.
   */
  close(): Promise<void>;
}
