import * as E from 'fp-ts/Either';
import { CATALOGUE } from '@partner-ledger/events';
import type { LedgerEvent } from '@partner-ledger/events';
import { fold } from '../decider';
import type { Decider, Decision } from '../decider';
import { eventIdFor, naturalEventId, streamOf } from '../naming';
import type { LedgerRejection, LedgerRejectionCode } from '../rejection';
import type { AnyGivenEvent, ExpectedEvent } from './spec';
import { SPEC_GIVEN_AT } from './spec';

/**
 * Given/when/then for one Decider, pure: no store, no clock. Given events are folded into the decider's
 * state (each gets the stream, revision and id the ledger would give it), `when` decides one command (already
 * resolved and enriched, as the ledger hands it over), `then` checks the events decided.
 *
 *   deciderSpec(balanceDecider, initialBalanceState('p1')).given([...]).when(command).then([...])
 */
export const deciderSpec = <Command, State>(
  decider: Decider<Command, State>,
  initialState = decider.initialState,
) => ({
  given: (events: readonly AnyGivenEvent[]) => {
    const revisions = new Map<string, number>();
    const recorded = events.map((event, position): LedgerEvent => {
      const stream = streamOf(event);
      const revision = (revisions.get(stream) ?? -1) + 1;
      revisions.set(stream, revision);
      const at = event.occurredAt ?? SPEC_GIVEN_AT;
      return {
        id: naturalEventId(event) ?? eventIdFor('given', position),
        type: event.type,
        schemaVersion: CATALOGUE[event.type].schemaVersion,
        data: event.data,
        stream,
        revision,
        position,
        occurredAt: at,
        recordedAt: at,
        actor: 'spec:given',
        correlationId: 'spec',
        causationId: null,
        prevHash: null,
        hash: '0'.repeat(64),
      } as LedgerEvent;
    });
    const state = fold(decider, initialState, recorded);
    return {
      state,
      when: (command: Command) => {
        const decided: E.Either<LedgerRejection, Decision> = decider.decide(command, state);
        return {
          decided,
          then: (expected: readonly ExpectedEvent[]): void => {
            if (E.isLeft(decided))
              throw new Error(`expected events, got rejection ${JSON.stringify(decided.left)}`);
            if (decided.right.kind !== 'append')
              throw new Error('expected events, got a repeat (already recorded)');
            expect(
              decided.right.events.map((e) => ({ type: e.type, data: e.data, occurredAt: e.occurredAt })),
            ).toMatchObject(
              expected.map((e) => ({
                type: e.type,
                ...(e.data === undefined ? {} : { data: e.data }),
                ...(e.occurredAt === undefined ? {} : { occurredAt: e.occurredAt }),
              })),
            );
          },
          thenAlreadyRecorded: (): void => {
            expect(decided).toMatchObject({ right: { kind: 'alreadyRecorded' } });
          },
          thenRejects: (
            code: LedgerRejectionCode,
            where: { readonly field?: string; readonly rule?: string } = {},
          ): void => {
            expect(decided).toMatchObject({ left: { code, ...where } });
          },
        };
      },
    };
  },
});

/**
 * For a decider with a plain `evolve`: folds `events` in batches of `batch` with it and with its
 * `evolveDraft` alone, and expects the same state after every batch (what Decider.evolve promises).
 */
export const expectSameFoldsWithoutDraft = <State>(
  decider: Pick<Decider<never, State>, 'initialState' | 'evolveDraft' | 'evolve'>,
  events: readonly LedgerEvent[],
  batch: number,
): void => {
  const withDraft = { evolveDraft: decider.evolveDraft };
  let plain = decider.initialState;
  let drafted = decider.initialState;
  for (let i = 0; i < events.length; i += batch) {
    plain = fold(decider, plain, events.slice(i, i + batch));
    drafted = fold(withDraft, drafted, events.slice(i, i + batch));
    expect(plain).toEqual(drafted);
  }
};

/** The envelope of a stored event at `revision` of `stream` (position = revision), for fold tests. */
export const storedEnvelope = (stream: string, revision: number, id = `event-${revision}`) => ({
  id,
  schemaVersion: 1,
  stream,
  revision,
  position: revision,
  occurredAt: `2026-01-01T00:00:${String(revision % 60).padStart(2, '0')}.000Z`,
  recordedAt: '2026-01-01T00:01:00.000Z',
  actor: 'test',
  correlationId: 'c',
  causationId: null,
  prevHash: null,
  hash: '0'.repeat(64),
});
