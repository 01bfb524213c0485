import fc from 'fast-check';
import { PARTNER_TYPES } from '@partner-ledger/events';
import type { EventStore } from '@partner-ledger/store';
import { createInMemoryStore } from '@partner-ledger/store';
import type { Action, SimulatedEvent } from './simulator';
import { createSimulator } from './simulator';

const index = fc.nat({ max: 50 });
const lag = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 72 }) });

/** One action of a partner program, weighted roughly like real traffic (clicks most, payouts rarely). */
export const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('join' as const),
      partnerType: fc.constantFrom(...PARTNER_TYPES),
      withParent: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('click' as const),
      partner: index,
      fraud: fc.boolean(),
      lagHours: lag,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('influence' as const),
      partner: index,
      account: fc.nat({ max: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('deal' as const), partner: index, account: fc.nat({ max: 5 }) }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('convert' as const),
      cents: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 500_000 })),
      euro: fc.boolean(),
      partners: fc.array(index, { maxLength: 3 }),
      influencer: fc.option(index, { nil: null }),
      renewal: fc.boolean(),
      held: fc.boolean(),
      lagHours: lag,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reverse' as const),
      conversion: index,
      full: fc.boolean(),
      lagHours: lag,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('hold' as const, 'release' as const, 'reject' as const),
      line: index,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('adjust' as const),
      partner: index,
      cents: fc.integer({ min: -5000, max: 5000 }),
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('payout' as const), partner: index }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('failPayout' as const), payout: index }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      hours: fc.integer({ min: 1, max: 24 * 10 }),
    }),
  },
);

/** A program's history: a few partners joined first, then any mix of actions. */
export const historyArbitrary = (maxActions = 80): fc.Arbitrary<Action[]> =>
  fc
    .tuple(
      fc.array(
        fc.record({
          kind: fc.constant('join' as const),
          partnerType: fc.constantFrom(...PARTNER_TYPES),
          withParent: fc.boolean(),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      fc.array(actionArbitrary, { minLength: 10, maxLength: maxActions, size: 'max' }),
    )
    .map(([joins, rest]) => [...joins, ...rest]);

/** Runs actions through a fresh simulator: the events, in append order. */
export const simulate = (actions: readonly Action[]): SimulatedEvent[] => {
  const simulator = createSimulator({ holdDays: 2 });
  for (const action of actions) simulator.run(action);
  return [...simulator.events];
};

/** A fresh in-memory store holding the events, appended one by one in order. */
export const storeWith = async (events: readonly SimulatedEvent[]): Promise<EventStore> => {
  const store = createInMemoryStore();
  for (const { stream, event } of events) await store.append(stream, [event]);
  return store;
};
