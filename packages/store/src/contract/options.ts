// What an adapter hands the contract suite: a fresh store per test, and what it can do beyond the port.
// Kept apart from the tests so that every topic file and the adapters' own set-ups share one definition.
import type { RecordedEvent } from '@partner-ledger/events';
import type { EventStore } from '../port';

/**
 * An attacker with write access to the storage. Each hook changes the stored history behind the store's
 * back (nothing it writes is checked) and returns the store through which the changed history is to be
 * read: the same store, or one reopened over the changed storage. Positions are global positions, always
 * ones the store reported for the events of the history before the change.
 */
export interface TamperHooks {
  /** Replaces the data of the event at `position`, leaving every other field (its hash too) as it was. */
  editEventData(position: number, data: unknown): Promise<EventStore>;
  /** Removes the event at `position`; the events after it are read one place earlier. */
  deleteEvent(position: number): Promise<EventStore>;
  /** Exchanges the events stored at two positions. */
  swapEvents(a: number, b: number): Promise<EventStore>;
  /**
   * Stores `event` (exactly as given) so that it is read at `position`, before the event that was there;
   * that event and the ones after it are read one position later.
   */
  insertEvent(position: number, event: RecordedEvent): Promise<EventStore>;
}

/** A fresh, empty store for one test, and what the suite needs around it. */
export interface ContractStore {
  readonly store: EventStore;
  /** Releases everything the test used: closes the store(s), even if already closed, and removes files. */
  readonly cleanup: () => Promise<void>;
  /** Durable stores: closes the store and opens the same storage again. Required when `canReopen`. */
  readonly reopen?: () => Promise<EventStore>;
  /** Required when `canTamper`. */
  readonly tamper?: TamperHooks;
}

export interface ContractOptions {
  /** The store keeps its history across a close and a reopen: run the reopen tests. Default false. */
  readonly canReopen?: boolean;
  /** The test can tamper with the storage: run the tamper-detection tests. Default false. */
  readonly canTamper?: boolean;
  /** Events in the large-stream test. Default 100,000. */
  readonly largeStreamEvents?: number;
  /** Events per append in the large-stream test. Default 1,000. */
  readonly largeStreamBatch?: number;
  /** How long a subscription may take to deliver a message before the test fails. Default 5,000 ms. */
  readonly deliveryTimeoutMs?: number;
  /**
   * What the store promises about global positions. Default `dense`.
   * - `dense`: 0, 1, 2, ... in global order, with no gap (the in-memory and file stores): the suite checks
   *   the numbers themselves, and also starts reads at positions well past the head.
   * - `increasing`: strictly increasing in global order, but with gaps and not from 0 (EventStoreDB's
   *   commit positions): the suite checks the order only, and starts reads and subscriptions only at 0 or
   *   at a position the store reported (an event's, the head's) or that position + 1. (As-of bounds may be
   *   any integer in both modes.)
   */
  readonly positions?: 'dense' | 'increasing';
}
