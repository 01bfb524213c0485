import { Readable } from 'node:stream';
import {
  ANY,
  BACKWARDS,
  END,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type {
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  AppendExpectedRevision,
  AppendResult,
  EventData,
  Filter,
  JSONType,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  ResolvedEvent,
  StreamingRead,
  SubscribeToAllOptions,
} from '@eventstore/db-client';
import type { EventStoreDbClient } from '../client';

// A scripted stand-in for @eventstore/db-client, for the adapter's mapping tests. It keeps records in
// memory and answers the adapter's calls in the client's own types, with the client's own error classes,
// following the server's documented rules (expected revisions, positions that must start a record,
// inclusive reads and exclusive subscriptions, filters). It is NOT a server: it proves that the adapter
// maps what it sends and receives correctly, not that a real EventStoreDB agrees. Tests that use it say so.

type Method = keyof EventStoreDbClient;

export interface ScriptedCall {
  readonly method: Method;
  readonly stream?: string;
  readonly options?: unknown;
  readonly events?: readonly EventData[];
}

export interface ScriptedClient extends EventStoreDbClient {
  /** Every call the adapter made, in order. */
  readonly calls: ScriptedCall[];
  /** Every record of the scripted log, in $all order. */
  readonly records: readonly AllStreamRecordedEvent[];
  /** Writes a record as another writer would (the server's system events, another application). */
  writeRaw(stream: string, type: string, data: JSONType, metadata?: unknown): AllStreamRecordedEvent;
  /** The next call of `method` fails with `error` (for reads and subscriptions: when the caller iterates). */
  failNext(method: Method, error: Error): void;
  /** Writes an event exactly as given (its id too), bypassing every check: another writer. */
  writeEvent(stream: string, event: EventData): AllStreamRecordedEvent;
  /**
   * Queues `action` to run just before an append to a ledger stream is applied (one action per append; the
   * adapter's own streams, `partner-ledger-*`, do not count): a concurrent writer.
   */
  beforeNextAppend(action: () => void): void;
  /** Ends every open subscription with `error`, as a dropped connection does. */
  dropSubscriptions(error: Error): void;
  /** Ends every open subscription without an error, as a server that closes the stream does. */
  endSubscriptions(): void;
  /** Every subscription the adapter opened, open or not, as readables (to check that none is left behind). */
  allSubscriptions(): readonly Readable[];
  /** How many subscriptions are open. */
  openSubscriptions(): number;
  /** Replaces a record's data in place (an attacker with access to the server's files). */
  tamperData(position: bigint, data: JSONType): void;
  readonly disposed: boolean;
}

const FIRST_POSITION = 1024n;

/** A readable of items that fails with `error` after them, if given. */
class ScriptedRead<E> extends Readable {
  cancelled = false;
  constructor(items: readonly E[], error?: Error) {
    let index = 0;
    super({
      objectMode: true,
      read: () => {
        if (index < items.length) {
          this.push(items[index]);
          index += 1;
        } else if (error !== undefined) {
          this.destroy(error);
        } else {
          this.push(null);
        }
      },
    });
  }
  async cancel(): Promise<void> {
    this.cancelled = true;
    this.destroy();
  }
}

class ScriptedSubscription extends Readable {
  unsubscribed = false;
  constructor(private readonly onUnsubscribe: (subscription: ScriptedSubscription) => void) {
    super({ objectMode: true, read: () => undefined });
  }
  /** Like the client's: the server's stream is cancelled, but the readable itself neither ends nor closes. */
  async unsubscribe(): Promise<void> {
    this.unsubscribed = true;
    this.onUnsubscribe(this);
  }
}

const matches = (filter: Filter | undefined, record: AllStreamRecordedEvent): boolean => {
  if (filter === undefined) return true;
  const subject = filter.filterOn === 'eventType' ? record.type : record.streamId;
  return 'regex' in filter
    ? new RegExp(filter.regex).test(subject)
    : filter.prefixes.some((p) => subject.startsWith(p));
};

export const createScriptedClient = (): ScriptedClient => {
  const records: AllStreamRecordedEvent[] = [];
  const calls: ScriptedCall[] = [];
  const failures = new Map<Method, Error[]>();
  const subscriptions = new Set<{ readable: ScriptedSubscription; filter: Filter | undefined }>();
  const created: ScriptedSubscription[] = [];
  const beforeAppend: (() => void)[] = [];
  let nextPosition = FIRST_POSITION;
  let disposed = false;

  const takeFailure = (method: Method): Error | undefined => failures.get(method)?.shift();

  const streamRecords = (stream: string): AllStreamRecordedEvent[] =>
    records.filter((r) => r.streamId === stream);

  const write = (
    stream: string,
    type: string,
    data: unknown,
    metadata: unknown,
    id: string,
  ): AllStreamRecordedEvent => {
    const position: Position = { commit: nextPosition, prepare: nextPosition };
    // Positions are byte offsets on a server: sparse, and growing by the size of each record.
    nextPosition += 100n + BigInt(JSON.stringify({ data, metadata }).length);
    const record = {
      streamId: stream,
      id,
      isJson: true,
      revision: BigInt(streamRecords(stream).length),
      type,
      created: new Date(0),
      data: JSON.parse(JSON.stringify(data)) as JSONType,
      metadata: metadata === undefined ? undefined : (JSON.parse(JSON.stringify(metadata)) as JSONType),
      position,
    } as AllStreamRecordedEvent;
    records.push(record);
    subscriptions.forEach(({ readable, filter }) => {
      if (matches(filter, record)) readable.push({ event: record } satisfies AllStreamResolvedEvent);
    });
    return record;
  };

  let rawIds = 0;
  const rawId = (): string => `00000000-0000-4000-8000-${(rawIds += 1).toString(16).padStart(12, '0')}`;

  const indexAt = (position: Position): number => {
    const index = records.findIndex(
      (r) => r.position.commit === position.commit && r.position.prepare === position.prepare,
    );
    if (index < 0) throw new UnknownError(undefined, 'Trying to read from an invalid position.');
    return index;
  };

  const currentRevision = (stream: string): bigint | typeof NO_STREAM => {
    const count = streamRecords(stream).length;
    return count === 0 ? NO_STREAM : BigInt(count - 1);
  };

  const holds = (expected: AppendExpectedRevision, current: bigint | typeof NO_STREAM): boolean =>
    expected === ANY ||
    (expected === NO_STREAM && current === NO_STREAM) ||
    (expected === STREAM_EXISTS && current !== NO_STREAM) ||
    expected === current;

  const appendToStream: EventStoreDbClient['appendToStream'] = async (streamName, event, options = {}) => {
    const events = (Array.isArray(event) ? event : [event]) as EventData[];
    calls.push({ method: 'appendToStream', stream: streamName, options, events });
    const failure = takeFailure('appendToStream');
    if (failure !== undefined) throw failure;
    if (!streamName.startsWith('partner-ledger-')) beforeAppend.shift()?.();
    const expected = options.expectedRevision ?? ANY;
    const current = currentRevision(streamName);
    if (!holds(expected, current)) {
      // The server's idempotency: the same event ids already written right after the expected revision
      // make the write a success that writes nothing (for any expected revision but "any").
      const first =
        expected === NO_STREAM ? 0 : typeof expected === 'bigint' ? Number(expected) + 1 : undefined;
      const existing =
        first === undefined ? [] : streamRecords(streamName).slice(first, first + events.length);
      const last = existing[existing.length - 1];
      if (
        last !== undefined &&
        existing.length === events.length &&
        existing.every((r, i) => r.id === events[i]?.id)
      ) {
        return { success: true, nextExpectedRevision: last.revision, position: last.position };
      }
      throw new WrongExpectedVersionError(undefined, { streamName, expected, current });
    }
    const written = events.map((e) => write(streamName, e.type, e.data, e.metadata, e.id));
    const last = written[written.length - 1] as AllStreamRecordedEvent;
    return {
      success: true,
      nextExpectedRevision: last.revision,
      position: last.position,
    } satisfies AppendResult;
  };

  const readStream = (streamName: string, options: ReadStreamOptions = {}): StreamingRead<ResolvedEvent> => {
    calls.push({ method: 'readStream', stream: streamName, options });
    const failure = takeFailure('readStream');
    // A failed call (a dropped connection) fails before it delivers anything.
    if (failure !== undefined) return new ScriptedRead<ResolvedEvent>([], failure);
    const all = streamRecords(streamName);
    if (all.length === 0) {
      return new ScriptedRead<ResolvedEvent>([], new StreamNotFoundError(undefined, streamName));
    }
    const {
      direction = 'forwards',
      fromRevision = direction === BACKWARDS ? END : START,
      maxCount = Number.MAX_SAFE_INTEGER,
    } = options;
    const count = Number(maxCount);
    let selected: AllStreamRecordedEvent[];
    if (direction === BACKWARDS) {
      const from =
        fromRevision === END
          ? all.length - 1
          : fromRevision === START
            ? 0
            : Math.min(Number(fromRevision), all.length - 1);
      selected = all
        .slice(0, from + 1)
        .reverse()
        .slice(0, count);
    } else {
      const from = fromRevision === START ? 0 : fromRevision === END ? all.length : Number(fromRevision);
      selected = all.slice(from, from + count);
    }
    return new ScriptedRead<ResolvedEvent>(selected.map((event) => ({ event }) as ResolvedEvent));
  };

  const readAll: EventStoreDbClient['readAll'] = (options: ReadAllOptions = {}) => {
    calls.push({ method: 'readAll', options });
    const failure = takeFailure('readAll');
    if (failure !== undefined) return new ScriptedRead<AllStreamResolvedEvent>([], failure);
    const {
      direction = 'forwards',
      fromPosition = direction === BACKWARDS ? END : START,
      maxCount = Number.MAX_SAFE_INTEGER,
    } = options;
    const count = Number(maxCount);
    try {
      let selected: AllStreamRecordedEvent[];
      if (direction === BACKWARDS) {
        // Backwards from a position: the records before it.
        const end =
          fromPosition === END ? records.length : fromPosition === START ? 0 : indexAt(fromPosition);
        selected = records.slice(0, end).reverse().slice(0, count);
      } else {
        // Forwards from a position: that record and those after it.
        const start =
          fromPosition === START ? 0 : fromPosition === END ? records.length : indexAt(fromPosition);
        selected = records.slice(start, start + count);
      }
      return new ScriptedRead<AllStreamResolvedEvent>(selected.map((event) => ({ event })));
    } catch (error) {
      return new ScriptedRead<AllStreamResolvedEvent>([], error as Error);
    }
  };

  const subscribeToAll: EventStoreDbClient['subscribeToAll'] = (options: SubscribeToAllOptions = {}) => {
    calls.push({ method: 'subscribeToAll', options });
    const failure = takeFailure('subscribeToAll');
    const entry = {
      readable: new ScriptedSubscription(() => subscriptions.delete(entry)),
      filter: options.filter,
    };
    const { fromPosition = START } = options;
    const readable = entry.readable;
    created.push(readable);
    if (failure !== undefined) {
      process.nextTick(() => readable.destroy(failure));
      return readable;
    }
    try {
      // A subscription starts after its position (from START: with the first record).
      const first =
        fromPosition === START ? 0 : fromPosition === END ? records.length : indexAt(fromPosition) + 1;
      records.slice(first).forEach((record) => {
        if (matches(entry.filter, record)) readable.push({ event: record } satisfies AllStreamResolvedEvent);
      });
      subscriptions.add(entry);
    } catch (error) {
      process.nextTick(() => readable.destroy(error as Error));
    }
    return readable;
  };

  const client: ScriptedClient = {
    calls,
    records,
    appendToStream,
    readStream: readStream as EventStoreDbClient['readStream'],
    readAll,
    subscribeToAll,
    setStreamMetadata: async (streamName, metadata) => {
      calls.push({ method: 'setStreamMetadata', stream: streamName, options: metadata });
      const record = write(`$$${streamName}`, '$metadata', metadata as JSONType, undefined, rawId());
      return { success: true, nextExpectedRevision: record.revision, position: record.position };
    },
    dispose: async () => {
      calls.push({ method: 'dispose' });
      disposed = true;
    },
    writeRaw: (stream, type, data, metadata) => write(stream, type, data, metadata, rawId()),
    writeEvent: (stream, e) => write(stream, e.type, e.data, e.metadata, e.id),
    failNext: (method, error) => {
      failures.set(method, [...(failures.get(method) ?? []), error]);
    },
    beforeNextAppend: (action) => {
      beforeAppend.push(action);
    },
    endSubscriptions: () => {
      [...subscriptions].forEach(({ readable }) => readable.push(null));
      subscriptions.clear();
    },
    dropSubscriptions: (error) => {
      [...subscriptions].forEach(({ readable }) => readable.destroy(error));
      subscriptions.clear();
    },
    openSubscriptions: () => subscriptions.size,
    allSubscriptions: () => [...created],
    tamperData: (position, data) => {
      const index = indexAt({ commit: position, prepare: position });
      records[index] = { ...(records[index] as AllStreamRecordedEvent), data } as AllStreamRecordedEvent;
    },
    get disposed() {
      return disposed;
    },
  };
  // Every server starts with events of its own, before any of the ledger's.
  client.writeRaw('$stats-127.0.0.1:2113', '$statsCollected', { 'proc-cpu': 1 });
  client.writeRaw('$settings', '$settings', { $userStreamAcl: {} });
  return client;
};
