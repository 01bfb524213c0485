import { Immer } from 'immer';
import type { Draft } from 'immer';
import type * as E from 'fp-ts/Either';
import type { EventData, EventType, LedgerEvent } from '@partner-ledger/events';
import type { LedgerRejection } from './rejection';

/** An event a decision produces: its id is derived from the command's natural key (see naming.ts). */
export type PendingEvent = {
  [T in EventType]: {
    readonly id: string;
    readonly type: T;
    readonly data: EventData<T>;
    readonly occurredAt: string;
  };
}[EventType];

/**
 * What a decision comes to: events to append, or nothing because the command was already carried out
 * (the same natural key with the same content): `alreadyRecorded` holds the ids of the first result's events.
 */
export type Decision =
  | { readonly kind: 'append'; readonly events: readonly PendingEvent[] }
  | { readonly kind: 'alreadyRecorded'; readonly eventIds: readonly string[] };

export const append = (...events: PendingEvent[]): Decision => ({ kind: 'append', events });
export const alreadyRecorded = (...eventIds: string[]): Decision => ({ kind: 'alreadyRecorded', eventIds });

/**
 * An Emmett-style decider: a pure decision over a state folded from events. States are small (one stream,
 * or the few streams one decision reads) and immutable; `evolveDraft` mutates an immer draft so that a
 * whole fold costs one createDraft/finishDraft, not one copy per event.
 */
export interface Decider<Command, State> {
  readonly initialState: State;
  readonly decide: (command: Command, state: State) => E.Either<LedgerRejection, Decision>;
  /** Applies one event to a draft of the state; events that do not concern the state are ignored. */
  readonly evolveDraft: (draft: Draft<State>, event: LedgerEvent) => void;
  /**
   * The same as `evolveDraft`, without a draft: the new state (sharing what did not change), or `state`
   * itself for an event that does not concern it. Optional: folds use it when given. Worth it for a small
   * state folded often from few events, where finishing a draft costs more than the copy (immer walks
   * every object a fold added, looking for drafts in it). It must give what `evolveDraft` gives (tested).
   */
  readonly evolve?: (state: State, event: LedgerEvent) => State;
}

/** The pure `evolve(state, event) => state` of a decider. */
export const evolve = <State>(
  decider: Pick<Decider<unknown, State>, 'evolveDraft' | 'evolve'>,
  state: State,
  event: LedgerEvent,
): State => fold(decider, state, [event]);

// The ledger's own immer, without auto-freezing: finishing a draft then neither freezes nor walks the event
// data a fold adds (most of a fold's cost for a small batch). States stay immutable by construction: only
// folds make them, each on a draft of its own; deciders and the view read them. The global immer settings
// (which other code may rely on) are left alone.
const immer = new Immer({ autoFreeze: false });

/** Folds events into a state: with the decider's `evolve` when it has one, else with one draft for the batch. */
export const fold = <State>(
  decider: Pick<Decider<unknown, State>, 'evolveDraft' | 'evolve'>,
  state: State,
  events: Iterable<LedgerEvent>,
): State => {
  if (decider.evolve !== undefined) {
    let next = state;
    for (const event of events) next = decider.evolve(next, event);
    return next;
  }
  const draft = immer.createDraft(state as State & object) as Draft<State>;
  for (const event of events) decider.evolveDraft(draft, event);
  return immer.finishDraft(draft as Draft<State & object>) as State;
};
