import { START, StreamNotFoundError } from '@eventstore/db-client';
import type { ReadStreamOptions as ClientReadStreamOptions, ResolvedEvent } from '@eventstore/db-client';
import type { RecordedEvent } from '@partner-ledger/events';
import { StoreCorruptionError } from '@partner-ledger/store';
import type { EventStoreDbClient } from './client';
import type { StreamNaming } from './filters';
import { fromServerEvent } from './metadata';
import { iterateRead } from './reading';

/** The events of a stream as the client reads them; a stream that does not exist has none. */
export async function* readServerStream(
  client: EventStoreDbClient,
  naming: StreamNaming,
  stream: string,
  options: ClientReadStreamOptions,
): AsyncGenerator<RecordedEvent> {
  try {
    for await (const resolved of iterateRead<ResolvedEvent>(
      client.readStream(naming.toServer(stream), options),
    )) {
      if (resolved.event === undefined) continue;
      yield fromServerEvent(resolved.event, resolved.event.position ?? resolved.commitPosition, stream);
    }
  } catch (error) {
    if (error instanceof StreamNotFoundError) return;
    throw error;
  }
}

/** What an append needs to know of its stream: its last event, and the revision of every ledger id in it. */
export interface StreamState {
  readonly last: Pick<RecordedEvent, 'revision' | 'hash' | 'position'> | undefined;
  readonly revisionsById: ReadonlyMap<string, number>;
}

interface MutableState {
  last: Pick<RecordedEvent, 'revision' | 'hash' | 'position'> | undefined;
  readonly revisionsById: Map<string, number>;
}

/**
 * What the adapter knows of the streams it appended to, kept between appends so that an append reads only
 * the events written since the last one (by this process or another), not the whole stream. The ids are
 * what makes appends idempotent: EventStoreDB has no index by event id, so the adapter keeps one per
 * stream. Bounded: the least recently used streams are forgotten (and read again when needed).
 */
export interface StreamIndexes {
  /**
   * Brings a stream's state up to date with the server (a read from the leader, of the events written
   * since the last refresh) and returns it, with the events read at `collectFrom` or later.
   */
  refresh(
    stream: string,
    collectFrom?: number,
  ): Promise<{ readonly state: StreamState; readonly collected: readonly RecordedEvent[] }>;
  forget(stream: string): void;
}

export const createStreamIndexes = (
  client: EventStoreDbClient,
  naming: StreamNaming,
  capacity: number,
): StreamIndexes => {
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`streamCacheSize must be an integer >= 1, got ${capacity}`);
  }
  // A Map iterates in insertion order: re-inserting on use makes its first key the least recently used.
  const states = new Map<string, MutableState>();

  const touch = (stream: string, state: MutableState): void => {
    states.delete(stream);
    states.set(stream, state);
    while (states.size > capacity) {
      const oldest = states.keys().next().value as string;
      states.delete(oldest);
    }
  };

  const add = (stream: string, state: MutableState, event: RecordedEvent): void => {
    // Two appends of this process to one stream refresh it at the same time: the second to read an event
    // finds it known already.
    if (state.last !== undefined && event.revision <= state.last.revision) {
      if (state.revisionsById.get(event.id) === event.revision) return;
      throw new StoreCorruptionError(
        `stream ${JSON.stringify(stream)} holds event ${JSON.stringify(event.id)} at revision ${event.revision}, where another event was read before: ledger streams must never be deleted or truncated`,
      );
    }
    const expected = state.last === undefined ? 0 : state.last.revision + 1;
    if (event.revision !== expected) {
      throw new StoreCorruptionError(
        `stream ${JSON.stringify(stream)} jumps from revision ${expected - 1} to ${event.revision}: ledger streams must never be deleted or truncated`,
      );
    }
    state.revisionsById.set(event.id, event.revision);
    state.last = { revision: event.revision, hash: event.hash, position: event.position };
  };

  return {
    refresh: async (stream, collectFrom = Number.POSITIVE_INFINITY) => {
      const state = states.get(stream) ?? { last: undefined, revisionsById: new Map<string, number>() };
      const fromRevision = state.last === undefined ? START : BigInt(state.last.revision + 1);
      const collected: RecordedEvent[] = [];
      try {
        for await (const event of readServerStream(client, naming, stream, {
          fromRevision,
          requiresLeader: true,
        })) {
          add(stream, state, event);
          if (event.revision >= collectFrom) collected.push(event);
        }
      } catch (error) {
        states.delete(stream);
        throw error;
      }
      touch(stream, state);
      return { state, collected };
    },
    forget: (stream) => {
      states.delete(stream);
    },
  };
};
