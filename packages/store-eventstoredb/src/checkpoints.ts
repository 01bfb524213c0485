import { randomUUID } from 'node:crypto';
import { ANY, BACKWARDS, END, StreamNotFoundError } from '@eventstore/db-client';
import type { ResolvedEvent } from '@eventstore/db-client';
import { Id } from '@partner-ledger/events';
import { StoreCorruptionError } from '@partner-ledger/store';
import type { EventStoreDbClient } from './client';
import { iterateRead } from './reading';

/**
 * Where named subscriptions (a projection, an export job) keep the position of the last event they have
 * handled, so that they resume there after a restart. On EventStoreDB each name has a stream of its own;
 * the adapter keeps only its last few events (stream metadata `$maxCount`), and their event type is not
 * the ledger's, so that reads and subscriptions of the ledger skip them.
 */
export interface SubscriptionCheckpoints {
  /** The position saved under `name`, or undefined when nothing was saved yet. */
  load(name: string): Promise<number | undefined>;
  /** Saves `position` (the position of the last event handled) under `name`. */
  save(name: string, position: number): Promise<void>;
  /**
   * A checkpoint document saved under `name` by saveText: what a consumer keeps with its position (the
   * projections' checkpoint, with their states, serialised by the projections themselves).
   */
  loadText(name: string): Promise<string | undefined>;
  /**
   * Saves a checkpoint document under `name`, in one event: it must fit the server's largest append
   * (1 MiB by default), so keep large projection states elsewhere.
   */
  saveText(name: string, text: string): Promise<void>;
}

/** The event type of a checkpoint. */
export const CHECKPOINT_EVENT_TYPE = 'partner-ledger.checkpoint';
/** How many checkpoints of a name the server keeps (older ones are scavenged). */
export const CHECKPOINTS_KEPT = 10;
export const DEFAULT_CHECKPOINT_STREAM_PREFIX = 'partner-ledger-checkpoint-';

const checkName = (name: string): void => {
  if (!Id.is(name)) throw new TypeError(`invalid checkpoint name ${JSON.stringify(name)}`);
};

export const createCheckpoints = (
  client: EventStoreDbClient,
  streamPrefix: string,
  assertOpen: () => void,
): SubscriptionCheckpoints => {
  /** The data of the last checkpoint saved under `name`, or undefined. */
  const loadData = async (name: string): Promise<{ stream: string; data: unknown } | undefined> => {
    assertOpen();
    checkName(name);
    const stream = `${streamPrefix}${name}`;
    try {
      for await (const resolved of iterateRead<ResolvedEvent>(
        client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }),
      )) {
        return { stream, data: resolved.event?.data };
      }
      return undefined;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
  };

  const saveData = async (name: string, data: { position: number } | { text: string }): Promise<void> => {
    assertOpen();
    checkName(name);
    const stream = `${streamPrefix}${name}`;
    const result = await client.appendToStream(
      stream,
      {
        id: randomUUID(),
        contentType: 'application/json',
        type: CHECKPOINT_EVENT_TYPE,
        data,
        metadata: undefined,
      },
      { expectedRevision: ANY },
    );
    // The first checkpoint of a name also tells the server to keep only the last few.
    if (result.nextExpectedRevision === 0n) {
      await client.setStreamMetadata(stream, { maxCount: CHECKPOINTS_KEPT });
    }
  };

  const damaged = (stream: string, data: unknown, wanted: string): StoreCorruptionError =>
    new StoreCorruptionError(
      `the last checkpoint in stream ${JSON.stringify(stream)} holds no ${wanted}: ${JSON.stringify(data)}`,
    );

  return {
    load: async (name) => {
      const found = await loadData(name);
      if (found === undefined) return undefined;
      const position = (found.data as { position?: unknown } | undefined)?.position;
      if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) {
        throw damaged(found.stream, found.data, 'position');
      }
      return position;
    },
    save: async (name, position) => {
      if (!Number.isSafeInteger(position) || position < 0) {
        throw new RangeError(
          `a checkpoint position must be an integer >= 0, got ${JSON.stringify(position)}`,
        );
      }
      await saveData(name, { position });
    },
    loadText: async (name) => {
      const found = await loadData(name);
      if (found === undefined) return undefined;
      const text = (found.data as { text?: unknown } | undefined)?.text;
      if (typeof text !== 'string') throw damaged(found.stream, found.data, 'text');
      return text;
    },
    saveText: async (name, text) => {
      if (typeof text !== 'string') throw new TypeError('a checkpoint document is a string');
      await saveData(name, { text });
    },
  };
};
