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
): SubscriptionCheckpoints => ({
  load: async (name) => {
    assertOpen();
    checkName(name);
    const stream = `${streamPrefix}${name}`;
    try {
      for await (const resolved of iterateRead<ResolvedEvent>(
        client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }),
      )) {
        const data = resolved.event?.data as { position?: unknown } | undefined;
        const position = data?.position;
        if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) {
          throw new StoreCorruptionError(
            `the last checkpoint in stream ${JSON.stringify(stream)} holds no position: ${JSON.stringify(data)}`,
          );
        }
        return position;
      }
      return undefined;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
  },
  save: async (name, position) => {
    assertOpen();
    checkName(name);
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new RangeError(`a checkpoint position must be an integer >= 0, got ${JSON.stringify(position)}`);
    }
    const stream = `${streamPrefix}${name}`;
    const result = await client.appendToStream(
      stream,
      {
        id: randomUUID(),
        contentType: 'application/json',
        type: CHECKPOINT_EVENT_TYPE,
        data: { position },
        metadata: undefined,
      },
      { expectedRevision: ANY },
    );
    // The first checkpoint of a name also tells the server to keep only the last few.
    if (result.nextExpectedRevision === 0n) {
      await client.setStreamMetadata(stream, { maxCount: CHECKPOINTS_KEPT });
    }
  },
});
