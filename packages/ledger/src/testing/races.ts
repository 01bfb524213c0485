import * as E from 'fp-ts/Either';
import { LedgerDecimal, decodeStoredEvent } from '@partner-ledger/events';
import type { LedgerEvent, RecordedEvent } from '@partner-ledger/events';
import { verifyStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { fold } from '../decider';
import { balanceDecider, initialBalanceState, payableBalance } from '../deciders/balance';
import type { BalanceState } from '../deciders/balance';
import { createLedger } from '../ledger';
import type { Outcome } from '../ledger';
import type { LedgerRejection } from '../rejection';
import { createCrossStreamView } from '../view';
import {
  basicProgram,
  clickTracked,
  conversionAttributed,
  partnerJoined,
  planPublished,
  programConfigured,
} from './fixtures';
import type { AnyGivenEvent } from './spec';
import { SPEC_NOW, appendGiven } from './spec';

// Seeded races between two ledger instances on one store: each trial starts from a fresh store, appends a
// history, then runs two commands at once through two ledger instances (as two processes would: each has
// its own view, caches and money queue, so only the store keeps them apart). After each trial the history
// must hold every money invariant, the hash chains must verify, and a view caught up step by step must
// equal a fresh replay. A race that never overlaps proves nothing, so every trial records whether both
// decisions were taken before either append was stored, and whether a loser had to decide again.

export interface RaceOptions {
  /** Trials per race. Default: the CONCURRENCY_TRIALS environment variable, else 12. */
  readonly trials?: number;
  /** More checks after each trial (the CLI runs `verify`'s invariants): a problem's message, or null. */
  readonly verify?: (store: EventStore) => Promise<string | null>;
}

type Result = E.Either<LedgerRejection, Outcome>;
type Command = Record<string, unknown>;

interface Race {
  readonly name: string;
  readonly given: (random: (below: number) => number) => AnyGivenEvent[];
  /** Commands run one after the other before the race (through a third ledger). */
  readonly before?: readonly Command[];
  readonly commands: (random: (below: number) => number) => readonly [Command, Command];
  /** The rejections a loser may get: anything else fails the trial. */
  readonly allowed: readonly string[];
  /** A check of the race's own rule over the final history: a problem's message, or null. */
  readonly check?: (events: readonly LedgerEvent[], results: readonly Result[]) => string | null;
}

/** A small deterministic generator, so that a failing trial repeats exactly (its seed is printed). */
const seededRandom = (seed: number): ((below: number) => number) => {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state >>> 8) % below;
  };
};

const money = (cents: number): string => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** p1 has lines of 200.00 (o1) and 100.00 (o2, on a conversion of 500.00); a payout of 190.00 left 110.00. */
const twoLines = (o2Status: 'pending' | 'held' = 'pending'): AnyGivenEvent[] => [
  ...basicProgram('p1'),
  programConfigured({ minimumPayout: '10.00' }),
  conversionAttributed({
    conversionId: 'o1',
    partnerId: 'p1',
    amount: '1000.00',
    commission: '200.00',
    payableAt: '2026-02-01T00:00:00.000Z',
  }),
  conversionAttributed({
    conversionId: 'o2',
    partnerId: 'p1',
    amount: '500.00',
    commission: '100.00',
    payableAt: '2026-02-02T00:00:00.000Z',
    status: o2Status,
  }),
];
const prePayout: Command = {
  command: 'issuePayout',
  payoutId: 'pay-0',
  partnerId: 'p1',
  amount: '190.00',
  currency: 'USD',
  method: 'wise',
};
const payout = (payoutId: string, cents: number): Command => ({
  command: 'issuePayout',
  payoutId,
  partnerId: 'p1',
  amount: money(cents),
  currency: 'USD',
  method: 'wise',
});
const reversal = (reversalId: string, cents?: number): Command => ({
  command: 'reverseConversion',
  reversalId,
  conversionId: 'o2',
  kind: 'refund',
  ...(cents === undefined ? {} : { amount: money(cents) }),
});
const line = { conversionId: 'o2', lineId: 'o2/p1/0' };

/** Two conversions by p1's visitors, the same day: for the cap and tier races. */
const twoConversionsGiven = (plan: Parameters<typeof planPublished>[0]): AnyGivenEvent[] => [
  programConfigured(),
  planPublished(plan),
  partnerJoined('p1'),
  clickTracked('c1', 'p1', 'v1', '2026-03-14T00:00:00.000Z'),
  clickTracked('c2', 'p1', 'v2', '2026-03-14T00:00:00.000Z'),
];
const conversion = (n: number): Command => ({
  command: 'recordConversion',
  conversionId: `o${n}`,
  customerId: `cust-${n}`,
  visitorId: `v${n}`,
  kind: 'order',
  amount: '200.00',
  currency: 'USD',
  occurredAt: '2026-03-15T10:00:00.000Z',
});
const linesOf = (events: readonly LedgerEvent[]) =>
  events.flatMap((event) => (event.type === 'ConversionAttributed' ? event.data.commissions : []));

const RACES: readonly Race[] = [
  {
    name: 'payout vs full reversal',
    given: () => twoLines(),
    before: [prePayout],
    commands: (random) => [reversal('rev-1'), payout('pay-1', 2000 + random(9001))],
    allowed: ['PAYOUT_EXCEEDS_PAYABLE'],
  },
  {
    name: 'payout vs partial reversal',
    given: () => twoLines(),
    before: [prePayout],
    commands: (random) => [reversal('rev-1', 10000 + random(40001)), payout('pay-1', 2000 + random(9001))],
    allowed: ['PAYOUT_EXCEEDS_PAYABLE'],
  },
  {
    name: 'payout vs payout',
    given: () => twoLines(),
    before: [prePayout],
    commands: (random) => [payout('pay-1', 6000 + random(4001)), payout('pay-2', 6000 + random(4001))],
    allowed: ['PAYOUT_EXCEEDS_PAYABLE'],
  },
  {
    name: 'two reversals',
    given: () => twoLines(),
    commands: (random) => [
      reversal('rev-1', 20000 + random(20001)),
      reversal('rev-2', 20000 + random(20001)),
    ],
    allowed: ['REVERSAL_EXCEEDS_REMAINING', 'NOTHING_LEFT_TO_REVERSE'],
  },
  {
    name: 'hold vs payout',
    given: () => twoLines(),
    before: [prePayout],
    commands: (random) => [
      { command: 'holdCommission', ...line, reason: 'review' },
      payout('pay-1', 2000 + random(9001)),
    ],
    allowed: ['PAYOUT_EXCEEDS_PAYABLE', 'LINE_ALREADY_SETTLED'],
  },
  {
    name: 'release vs reject',
    given: () => twoLines('held'),
    commands: () => [
      { command: 'releaseCommission', ...line },
      { command: 'rejectCommission', ...line, reason: 'fraud' },
    ],
    allowed: ['LINE_NOT_HELD', 'LINE_ALREADY_REJECTED'],
  },
  {
    name: 'two conversions against a period cap',
    given: () =>
      twoConversionsGiven({
        caps: { perConversion: null, perPartnerPerPeriod: { amount: '50.00', period: 'month' } },
      }),
    commands: () => [conversion(1), conversion(2)],
    allowed: [],
    check: (events) => {
      const total = linesOf(events).reduce((sum, l) => sum.plus(l.amount), new LedgerDecimal(0));
      return total.eq('50.00') ? null : `p1 earned ${total.toFixed(2)} in March, the cap is 50.00`;
    },
  },
  {
    name: 'two conversions against a tier',
    given: () =>
      twoConversionsGiven({
        rules: [
          {
            kind: 'tieredRevenueShare',
            period: 'month',
            measure: 'conversions',
            tiers: [
              { name: 'base', from: '0', rate: '0.1' },
              { name: 'gold', from: '2', rate: '0.3' },
            ],
          },
        ],
      }),
    commands: () => [conversion(1), conversion(2)],
    allowed: [],
    check: (events) => {
      const tiers = linesOf(events).map((l) => l.tier);
      return JSON.stringify(tiers) === JSON.stringify(['base', 'gold'])
        ? null
        : `the first and second conversion of the month got tiers ${JSON.stringify(tiers)}`;
    },
  },
  {
    name: 'two partners claiming one coupon code',
    given: () => [programConfigured(), planPublished()],
    commands: () => {
      const join = (partnerId: string): Command => ({
        command: 'joinPartner',
        partnerId,
        name: `Partner ${partnerId}`,
        partnerType: 'affiliate',
        planId: 'standard',
        payoutCurrency: 'USD',
        couponCodes: ['SAVE10'],
      });
      return [join('p1'), join('p2')];
    },
    allowed: ['COUPON_TAKEN'],
    check: (events) => {
      const claims = events.filter(
        (e) => e.type === 'PartnerJoined' && e.data.couponCodes.includes('SAVE10'),
      );
      return claims.length === 1 ? null : `coupon SAVE10 was claimed by ${claims.length} partners`;
    },
  },
];

/**
 * Replays the history and checks that no decision contradicts what was recorded before it: no payout
 * above the partner's payable balance at its position, no hold on a line already paid, no conversion
 * reversed beyond its amount.
 */
const moneyProblem = (events: readonly LedgerEvent[]): string | null => {
  const balances = new Map<string, BalanceState>();
  const reversed = new Map<string, LedgerDecimal>();
  const amounts = new Map<string, string>();
  const balanceOf = (partnerId: string) => balances.get(partnerId) ?? initialBalanceState(partnerId);
  for (const event of events) {
    if (event.type === 'PayoutIssued') {
      const payable = payableBalance(balanceOf(event.data.partnerId), event.data.currency, event.occurredAt);
      if (payable.lt(event.data.amount))
        return `payout ${event.data.payoutId} of ${event.data.amount} at position ${event.position}: only ${payable.toFixed(2)} was payable`;
    }
    if (
      event.type === 'CommissionHeld' ||
      event.type === 'CommissionReleased' ||
      event.type === 'CommissionRejected'
    ) {
      const target = balanceOf(event.data.partnerId).lines[event.data.lineId];
      const what = `${event.type} of line ${event.data.lineId} at position ${event.position}`;
      if (target === undefined) return `${what}: no such line`;
      if (event.type === 'CommissionHeld' && !new LedgerDecimal(target.settled).isZero())
        return `${what}: it was already paid`;
      if (event.type === 'CommissionHeld' && target.status !== 'pending')
        return `${what}: it was ${target.status}`;
      if (event.type === 'CommissionReleased' && target.status !== 'held')
        return `${what}: it was ${target.status}`;
      if (event.type === 'CommissionRejected' && target.status === 'rejected')
        return `${what}: already rejected`;
    }
    if (event.type === 'ConversionAttributed') amounts.set(event.data.conversionId, event.data.amount);
    if (event.type === 'ConversionReversed') {
      const total = (reversed.get(event.data.conversionId) ?? new LedgerDecimal(0)).plus(event.data.amount);
      reversed.set(event.data.conversionId, total);
      if (total.gt(amounts.get(event.data.conversionId) ?? '0'))
        return `conversion ${event.data.conversionId} reversed by ${total.toFixed(2)} in all, more than its amount`;
    }
    const touched = new Set<string>();
    if (event.type === 'ConversionAttributed' || event.type === 'ConversionReversed') {
      const lines = event.type === 'ConversionAttributed' ? event.data.commissions : event.data.lines;
      for (const l of lines) touched.add(l.partnerId);
    } else if ('partnerId' in event.data && typeof event.data.partnerId === 'string') {
      touched.add(event.data.partnerId);
    }
    for (const partnerId of touched)
      balances.set(partnerId, fold(balanceDecider, balanceOf(partnerId), [event]));
  }
  return null;
};

const readHistory = async (store: EventStore): Promise<LedgerEvent[]> => {
  const events: LedgerEvent[] = [];
  for await (const event of store.readAll()) events.push(decodeStoredEvent(event));
  return events;
};

interface TraceEntry {
  readonly ledger: number;
  readonly kind: 'readDone' | 'appendStart' | 'appendEnd';
  readonly code?: string;
}

/**
 * Holds each ledger's first append until the other ledger has also decided (reached its first append) or
 * finished its command: the two decisions are then taken on the same history, which is the race the store
 * must settle. Trials without the gate let the commands run free.
 */
interface Gate {
  readonly waiting: Array<(() => void) | undefined>;
  readonly arrived: boolean[];
  readonly finished: boolean[];
}
const createGate = (): Gate => ({
  waiting: [undefined, undefined],
  arrived: [false, false],
  finished: [false, false],
});
const openFor = (gate: Gate, ledger: number): void => {
  const wake = gate.waiting[ledger];
  gate.waiting[ledger] = undefined;
  wake?.();
};
const passGate = (gate: Gate, ledger: number): Promise<void> => {
  if (gate.arrived[ledger]) return Promise.resolve();
  gate.arrived[ledger] = true;
  const other = 1 - ledger;
  openFor(gate, other);
  if (gate.arrived[other] || gate.finished[other]) return Promise.resolve();
  return new Promise((resolve) => {
    gate.waiting[ledger] = resolve;
  });
};
const finishAt = (gate: Gate, ledger: number): void => {
  gate.finished[ledger] = true;
  openFor(gate, 1 - ledger);
};

/** The store as one ledger instance sees it, recording when its reads finish and its appends start and end. */
const traced = (store: EventStore, ledger: number, trace: TraceEntry[], gate?: Gate): EventStore => {
  async function* finished(events: AsyncIterable<RecordedEvent>): AsyncGenerator<RecordedEvent> {
    for await (const event of events) yield event;
    trace.push({ ledger, kind: 'readDone' });
  }
  return {
    append: async (stream, events, options) => {
      if (gate !== undefined) await passGate(gate, ledger);
      trace.push({ ledger, kind: 'appendStart' });
      try {
        const result = await store.append(stream, events, options);
        trace.push({ ledger, kind: 'appendEnd' });
        return result;
      } catch (error) {
        trace.push({ ledger, kind: 'appendEnd', code: (error as { code?: string }).code ?? 'error' });
        throw error;
      }
    },
    readStream: (stream, options) => finished(store.readStream(stream, options)),
    readAll: (options) => finished(store.readAll(options)),
    subscribe: (options) => store.subscribe(options),
    headPosition: () => store.headPosition(),
    close: async () => undefined,
  };
};

/**
 * Both decisions were taken before either append was stored: each ledger's last read before its first
 * append finished before the other's first append ended.
 */
const overlapped = (trace: readonly TraceEntry[]): boolean =>
  [0, 1].every((me) => {
    const other = 1 - me;
    const firstAppend = trace.findIndex((t) => t.ledger === me && t.kind === 'appendStart');
    const otherStored = trace.findIndex((t) => t.ledger === other && t.kind === 'appendEnd');
    if (firstAppend < 0 || otherStored < 0) return false;
    let lastRead = -1;
    for (let k = 0; k < firstAppend; k++)
      if (trace[k]!.ledger === me && trace[k]!.kind === 'readDone') lastRead = k;
    return lastRead >= 0 && lastRead < otherStored;
  });

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

export const describeRaces = (
  name: string,
  makeStore: () => EventStore | Promise<EventStore>,
  closeStore: (store: EventStore) => Promise<void>,
  options: RaceOptions,
): void => {
  const trials = options.trials ?? Number(process.env.CONCURRENCY_TRIALS ?? 12);
  describe(`money races between two ledger instances on ${name}`, () => {
    for (const [raceIndex, race] of RACES.entries()) {
      it(`${race.name}: ${trials} seeded trials, every history keeps the money invariants`, async () => {
        let overlaps = 0;
        let retried = 0;
        const outcomes = new Map<string, number>();
        for (let trial = 0; trial < trials; trial++) {
          const seed = raceIndex * 1_000_003 + trial;
          const random = seededRandom(seed);
          const store = await makeStore();
          try {
            await appendGiven(store, race.given(random));
            let n = 0;
            const make = (s: EventStore) =>
              createLedger({
                store: s,
                clock: () => new Date(SPEC_NOW),
                ids: () => `corr-${(n += 1)}`,
                retries: 20,
              });
            for (const command of race.before ?? []) {
              const done = await make(store).execute(command)();
              if (E.isLeft(done)) throw new Error(`setup of ${race.name}: ${done.left.message}`);
            }
            // A view that follows the races step by step, to compare with a fresh replay at the end.
            const stepwise = createCrossStreamView(store);
            await stepwise.catchUp();
            const trace: TraceEntry[] = [];
            // Three trials in four hold both decisions until both are taken; in the others the commands run
            // free, the seed choosing who starts first and by how many turns of the event loop.
            const gate = random(4) === 0 ? undefined : createGate();
            const ledgers = [make(traced(store, 0, trace, gate)), make(traced(store, 1, trace, gate))];
            const commands = race.commands(random);
            const delays = [random(4), random(4)];
            const results = await Promise.all(
              commands.map((command, i) =>
                turns(delays[i]!)
                  .then(() => ledgers[i]!.execute(command)())
                  .finally(() => gate && finishAt(gate, i)),
              ),
            );
            const where = `${race.name}, trial ${trial} (seed ${seed})`;
            for (const result of results)
              if (E.isLeft(result) && !race.allowed.includes(result.left.code))
                throw new Error(`${where}: ${result.left.code}: ${result.left.message}`);
            const key = results.map((r) => (E.isRight(r) ? 'ok' : r.left.code)).join('+');
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
            if (overlapped(trace)) overlaps += 1;
            if (trace.some((t) => t.kind === 'appendEnd' && t.code !== undefined)) retried += 1;

            const history = await readHistory(store);
            const problem =
              moneyProblem(history) ??
              race.check?.(history, results) ??
              (await options.verify?.(store)) ??
              null;
            expect({ where, problem }).toEqual({ where, problem: null });
            expect((await verifyStore(store)).ok).toBe(true);
            await stepwise.catchUp();
            const fresh = createCrossStreamView(store);
            await fresh.catchUp();
            expect(stepwise.balance('p1')).toEqual(fresh.balance('p1'));
          } finally {
            await closeStore(store);
          }
        }
        console.log(
          `${race.name} on ${name}: ${trials} trials, both decided before either append in ${overlaps}, a writer had to decide again in ${retried}; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`,
        );
        // A race that never overlapped proved nothing.
        expect(overlaps).toBeGreaterThan(0);
      }, 600_000);
    }
  });
};
