import type { EventType, LedgerEvent } from '@partner-ledger/events';
import type { JsonValue } from './json';
import type { ReferenceData } from './reference';

/** What a projection's result is computed for. */
export interface ResultContext {
  /**
   * The moment the result describes: the `effectiveAt` of the replay, or else the latest `occurredAt` among
   * the events applied (null when none was). Figures that depend on time (payable: payableAt <= asOf; active
   * partners: a touch in the 90 days up to asOf) use it, never the wall clock.
   */
  readonly asOf: string | null;
  /** The global position of the last event read (-1 when none). */
  readonly position: number;
  /** Partners, the program and open conversions, as of the last event applied. */
  readonly reference: ReferenceData;
}

/**
 * A projection: how events fold into a state, and how to read a result from it.
 *
 * `apply` may mutate the state it is given (it is private to one replay) and must return the state to use
 * next (the same object or a new one). It must depend on nothing but the state, the event and the reference
 * data (no clock, no randomness, no I/O), so that a replay of the same events gives the same state.
 *
 * `save` turns the state into JSON for a checkpoint; `load` rebuilds an equal state from it. A state saved
 * and loaded must then fold the remaining events to exactly the result an uninterrupted replay gives.
 */
export interface Projection<State, Result> {
  /** Names the projection in checkpoints and error messages. */
  readonly name: string;
  /**
   * The event types `apply` reacts to; it is not called for others. When no projection of a replay needs a
   * type (nor the reference data), events of that type are not even decoded. Omit it to see every event.
   */
  readonly eventTypes?: readonly EventType[];
  /** The state before any event. */
  initialState(): State;
  /** Folds one event into the state (a new state, or the same one changed in place). */
  apply(state: State, event: LedgerEvent, reference: ReferenceData): State;
  /** A plain JSON-able value: amounts as decimal strings, no Map, no bigint, no undefined. */
  result(state: State, context: ResultContext): Result;
  /** The state as JSON, for a checkpoint. */
  save(state: State): JsonValue;
  /** The state back from what `save` gave. */
  load(json: JsonValue): State;
}

/** Any projection, whatever its state and result. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProjection = Projection<any, any>;

/** Projections replayed together, by the name their results are returned under. */
export type ProjectionSet = Readonly<Record<string, AnyProjection>>;

/** The results of a projection set, by the same names. */
export type ResultsOf<P extends ProjectionSet> = {
  -readonly [
    K in keyof P // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ]: P[K] extends Projection<any, infer R> ? R : never;
};

/**
 * Builds a projection. `save` and `load` default to a deep copy through JSON, which is right when the state
 * is itself plain JSON (no Map, Set, bigint or Date).
 */
export const defineProjection = <State, Result>(definition: {
  readonly name: string;
  readonly eventTypes?: readonly EventType[];
  readonly initialState: () => State;
  readonly apply: (state: State, event: LedgerEvent, reference: ReferenceData) => State;
  readonly result: (state: State, context: ResultContext) => Result;
  readonly save?: (state: State) => JsonValue;
  readonly load?: (json: JsonValue) => State;
}): Projection<State, Result> => ({
  name: definition.name,
  ...(definition.eventTypes === undefined ? {} : { eventTypes: definition.eventTypes }),
  initialState: definition.initialState,
  apply: definition.apply,
  result: definition.result,
  save: definition.save ?? ((state) => JSON.parse(JSON.stringify(state)) as JsonValue),
  load: definition.load ?? ((json) => JSON.parse(JSON.stringify(json)) as State),
});
