import * as E from 'fp-ts/Either';
import { CATALOGUE, decodeStoredEvent } from '@partner-ledger/events';
import type { EventData, EventType, LedgerEvent } from '@partner-ledger/events';
import { createInMemoryStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { createLedger } from '../ledger';
import type { Ledger, LedgerOptions, Outcome } from '../ledger';
import { eventIdFor, naturalEventId, streamOf } from '../naming';
import type { LedgerRejection, LedgerRejectionCode } from '../rejection';

/**
 * Given/when/then specifications of the ledger (Emmett style), run against a real store:
 *
 *   await spec.given([partnerJoined(...), click(...)]).when({ command: 'recordConversion', ... }).then([...])
 *   await spec.given([...]).when({ command: 'issuePayout', ... }).thenRejects('PAYOUT_EXCEEDS_PAYABLE')
 *
 * `given` appends events to the streams the ledger keeps them in; `when` runs one command through
 * `ledger.execute` (decoding included); `then` checks the events appended by it, and nothing else;
 * `thenRejects` checks the rejection and that nothing was appended.
 */

export const SPEC_NOW = '2026-03-15T12:00:00.000Z';
/** When given events happened, unless they say otherwise. */
export const SPEC_GIVEN_AT = '2026-03-01T00:00:00.000Z';

export interface GivenEvent<T extends EventType = EventType> {
  readonly type: T;
  readonly data: EventData<T>;
  readonly occurredAt?: string;
}

/** A given event of any type (the union, so that arrays of several types type-check). */
export type AnyGivenEvent = { [T in EventType]: GivenEvent<T> }[EventType];

export interface ExpectedEvent {
  readonly type: EventType;
  /** Matched with toMatchObject: give only the fields the spec is about. */
  readonly data?: unknown;
  readonly occurredAt?: string;
}

export interface SpecOptions {
  readonly now?: string;
  readonly store?: () => EventStore | Promise<EventStore>;
  readonly ledger?: Partial<Omit<LedgerOptions, 'store'>>;
}

export interface WhenResult {
  readonly ledger: Ledger;
  readonly store: EventStore;
  readonly result: E.Either<LedgerRejection, Outcome>;
  readonly appended: readonly LedgerEvent[];
}

const appendedSince = async (store: EventStore, position: number): Promise<LedgerEvent[]> => {
  const events: LedgerEvent[] = [];
  for await (const event of store.readAll({ fromPosition: position + 1 }))
    events.push(decodeStoredEvent(event));
  return events;
};

/** Appends given events where the ledger would have recorded them, with the ids it would have given them. */
export const appendGiven = async (store: EventStore, events: readonly AnyGivenEvent[]): Promise<void> => {
  for (const [index, event] of events.entries()) {
    const at = event.occurredAt ?? SPEC_GIVEN_AT;
    await store.append(streamOf(event), [
      {
        id: naturalEventId(event) ?? eventIdFor('given', index, event.type, JSON.stringify(event.data)),
        type: event.type,
        schemaVersion: CATALOGUE[event.type].schemaVersion,
        data: event.data,
        occurredAt: at,
        recordedAt: at,
        actor: 'spec:given',
        correlationId: 'spec',
        causationId: null,
      },
    ]);
  }
};

export const ledgerSpec = (options: SpecOptions = {}) => {
  const now = options.now ?? SPEC_NOW;
  let counter = 0;
  const build = async () => {
    const store = options.store ? await options.store() : createInMemoryStore();
    const ledger = createLedger({
      store,
      clock: () => new Date(now),
      ids: () => `spec-${(counter += 1)}`,
      ...options.ledger,
    });
    return { store, ledger };
  };

  return {
    given: (events: readonly AnyGivenEvent[] = []) => ({
      when: (command: Record<string, unknown>) => {
        const run = async (): Promise<WhenResult> => {
          const { store, ledger } = await build();
          await appendGiven(store, events);
          const head = await store.headPosition();
          const result = await ledger.execute(command)();
          return { ledger, store, result, appended: await appendedSince(store, head) };
        };
        return {
          run,
          /** The command is carried out and appends exactly these events (in order). */
          then: async (expected: readonly ExpectedEvent[]): Promise<WhenResult> => {
            const outcome = await run();
            if (E.isLeft(outcome.result))
              throw new Error(`expected events, got rejection ${JSON.stringify(outcome.result.left)}`);
            expect(
              outcome.appended.map((e) => ({ type: e.type, data: e.data, occurredAt: e.occurredAt })),
            ).toMatchObject(
              expected.map((e) => ({
                type: e.type,
                ...(e.data === undefined ? {} : { data: e.data }),
                ...(e.occurredAt === undefined ? {} : { occurredAt: e.occurredAt }),
              })),
            );
            expect(outcome.result.right.alreadyRecorded).toBe(false);
            return outcome;
          },
          /** The command was already carried out: it succeeds with the first result and appends nothing. */
          thenAlreadyRecorded: async (): Promise<WhenResult> => {
            const outcome = await run();
            if (E.isLeft(outcome.result))
              throw new Error(
                `expected the first result, got rejection ${JSON.stringify(outcome.result.left)}`,
              );
            expect(outcome.result.right.alreadyRecorded).toBe(true);
            expect(outcome.result.right.events.length).toBeGreaterThan(0);
            expect(outcome.appended).toEqual([]);
            return outcome;
          },
          /** The command is rejected with this code (and field or rule, if given), appending nothing. */
          thenRejects: async (
            code: LedgerRejectionCode,
            where: { readonly field?: string; readonly rule?: string; readonly message?: RegExp } = {},
          ): Promise<LedgerRejection> => {
            const outcome = await run();
            if (E.isRight(outcome.result))
              throw new Error(
                `expected rejection ${code}, got events ${JSON.stringify(outcome.appended.map((e) => e.type))}`,
              );
            const rejection = outcome.result.left;
            expect(rejection.code).toBe(code);
            if (where.field !== undefined) expect(rejection.field).toBe(where.field);
            if (where.rule !== undefined) expect(rejection.rule).toBe(where.rule);
            if (where.message !== undefined) expect(rejection.message).toMatch(where.message);
            expect(outcome.appended).toEqual([]);
            return rejection;
          },
        };
      },
    }),
  };
};
