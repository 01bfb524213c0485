import { NO_STREAM, StreamNotFoundError } from '@eventstore/db-client';
import type { ResolvedEvent } from '@eventstore/db-client';
import { DuplicateEventIdError, StoreCorruptionError } from '@partner-ledger/store';
import type { EventStoreDbClient } from './client';
import { LEDGER_ID_NAMESPACE, serverEventIdFor, uuidV5 } from './event-id';
import { iterateRead } from './reading';
import { isWrongExpectedVersion } from './revisions';

// EventStoreDB has no index by event id: an id used in another stream would go unnoticed, while the port
// (and the ledger, which derives ids from natural keys such as a click id or a payout id) counts on the
// store to refuse it. So, before an append writes a new id, the adapter claims it: it writes one small
// event, naming the ledger stream, to a stream of the id's own, with expected revision "no stream". The
// server lets only the first claim of an id in; a claim for another stream is refused, and the adapter
// reads who holds the id. The claim's own event id is derived from the id and the stream, so claiming
// again for the same stream (a retry) is accepted by the server's idempotency on event ids.
//
// A claim is written before the event, and not in the same transaction (there is none across streams):
// if the append then fails (a conflict, a crash), the id stays claimed by that stream. Appending it there
// later works; appending it to another stream is refused, as it would be had the event been stored.

/** The event type of an id claim. */
export const ID_CLAIM_EVENT_TYPE = 'partner-ledger.id-claim';
export const DEFAULT_ID_CLAIM_STREAM_PREFIX = 'partner-ledger-id-';
/** How many claims of one append are written at the same time. */
const CLAIMS_IN_FLIGHT = 32;

export interface IdClaims {
  /** Claims every id for `stream`; throws DuplicateEventIdError for an id that another stream holds. */
  claim(stream: string, ids: readonly string[]): Promise<void>;
}

export const createIdClaims = (client: EventStoreDbClient, streamPrefix: string): IdClaims => {
  const claimStreamOf = (id: string): string => `${streamPrefix}${serverEventIdFor(id)}`;

  /** The ledger stream that holds an id, from the first event of its claim stream. */
  const holderOf = async (id: string): Promise<string | undefined> => {
    const claimStream = claimStreamOf(id);
    try {
      for await (const resolved of iterateRead<ResolvedEvent>(
        client.readStream(claimStream, { maxCount: 1, requiresLeader: true }),
      )) {
        const data = resolved.event?.data as { id?: unknown; stream?: unknown } | undefined;
        if (data?.id !== id || typeof data.stream !== 'string') {
          throw new StoreCorruptionError(
            `the claim of id ${JSON.stringify(id)} in stream ${JSON.stringify(claimStream)} is damaged: ${JSON.stringify(data)}`,
          );
        }
        return data.stream;
      }
      return undefined;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
  };

  const claimOne = async (stream: string, id: string): Promise<void> => {
    let refused: boolean;
    try {
      const result = await client.appendToStream(
        claimStreamOf(id),
        {
          id: uuidV5(LEDGER_ID_NAMESPACE, JSON.stringify(['claim', id, stream])),
          contentType: 'application/json',
          type: ID_CLAIM_EVENT_TYPE,
          data: { id, stream },
          metadata: undefined,
        },
        { expectedRevision: NO_STREAM, requiresLeader: true },
      );
      refused = !result.success;
    } catch (error) {
      if (!isWrongExpectedVersion(error)) throw error;
      refused = true;
    }
    if (!refused) return;
    const holder = await holderOf(id);
    if (holder !== stream) {
      throw new DuplicateEventIdError(
        id,
        stream,
        `the id is already used in stream ${JSON.stringify(holder ?? '(unknown)')}`,
      );
    }
  };

  return {
    claim: async (stream, ids) => {
      // In parallel, a bounded number at a time: a batch of a thousand events makes a thousand claims.
      for (let start = 0; start < ids.length; start += CLAIMS_IN_FLIGHT) {
        const outcomes = await Promise.allSettled(
          ids.slice(start, start + CLAIMS_IN_FLIGHT).map((id) => claimOne(stream, id)),
        );
        const failed = outcomes.find(
          (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
        );
        if (failed !== undefined) throw failed.reason;
      }
    },
  };
};
