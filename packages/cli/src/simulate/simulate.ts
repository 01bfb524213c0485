import * as E from 'fp-ts/Either';
import type { KeyStore, PartnerType } from '@partner-ledger/events';
import { createLedger, pseudonymizeVisitors } from '@partner-ledger/ledger';
import type { CommandName, Ledger, LedgerRejection, Outcome } from '@partner-ledger/ledger';
import type { EventStore } from '@partner-ledger/store';
import { createActions } from './actions';
import { createHeap } from './heap';
import { createPayableTracker } from './payable';
import { DAY, PLAN_IDS, PROGRAM_CURRENCY, TYPE_WEIGHTS, iso, plans, weightedPicker } from './program';
import { createRandom } from './random';
import { createAfterConversion, createTaskRunner } from './tasks';
import { FULL } from './world';
import type { RunResult, SimPartner, SimulationWorld, Task } from './world';

/** What `simulate` builds: the size of the program, the seed and the span of time. */
export interface SimulationOptions {
  /** Partners in the program, across the five types. At least 5 (one of each type). */
  readonly partners: number;
  /**
   * The new events the ledger holds at the end, setup included: exactly this many, unless the setup (the
   * program, its plans and one event per partner) alone takes more.
   */
  readonly events: number;
  /** The same seed gives the same commands, the same events and the same reports. */
  readonly seed: string;
  /** The first day (UTC midnight, ISO). Default 2026-01-01. */
  readonly start?: string;
  /** How many days the activity spans. Default 90. */
  readonly days?: number;
  /** Called after each command with the events recorded so far. */
  readonly onProgress?: (eventsRecorded: number) => void;
  /**
   * The ledger's key store: visitor ids are then pseudonymized (give `store` as a sealing store too, to seal
   * partners' personal fields). Default: none, plaintext.
   */
  readonly keys?: KeyStore;
  /** Called when the ledger refuses a command (the simulation goes on). */
  readonly onRejected?: (command: CommandName, rejection: LedgerRejection) => void;
}

/** What a simulation recorded: events, commands by name and rejections by code. */
export interface SimulationSummary {
  readonly events: number;
  readonly commands: number;
  /** Commands per name. */
  readonly byCommand: Readonly<Record<string, number>>;
  /** Commands the ledger refused, by rejection code (the simulation never forces one). */
  readonly rejected: Readonly<Record<string, number>>;
  /** Commands that were already recorded (a re-run with the same seed): they appended nothing. */
  readonly alreadyRecorded: number;
  readonly from: string;
  readonly to: string;
}

/**
 * Builds a realistic partner program through the real ledger API (every command decided by the ledger,
 * with its rules), with a seeded random generator, an injected clock and injected ids, so that the same seed
 * gives the same ledger. Memory stays bounded by the partners, the open hold periods and the scheduled work,
 * not by the number of events: it streams millions of events into a store.
 */
export const simulate = async (store: EventStore, options: SimulationOptions): Promise<SimulationSummary> => {
  if (options.partners < 5) throw new RangeError('a simulation needs at least 5 partners, one of each type');
  const random = createRandom(`partner-ledger/${options.seed}`);
  const startMs = Date.parse(options.start ?? '2026-01-01T00:00:00.000Z');
  const days = options.days ?? 90;
  const endMs = startMs + days * DAY;
  let nowMs = startMs;
  let idCounter = 0;
  const ledger: Ledger = createLedger({
    store,
    clock: () => new Date(nowMs),
    ids: () => `sim-${(idCounter += 1).toString(36)}`,
    actor: 'service:simulator',
    ...(options.keys === undefined ? {} : { prepareCommand: pseudonymizeVisitors(options.keys) }),
  });
  const tracker = createPayableTracker();
  const tasks = createHeap<Task>();
  const summary = {
    events: 0,
    commands: 0,
    byCommand: {} as Record<string, number>,
    rejected: {} as Record<string, number>,
    alreadyRecorded: 0,
  };

  // The ledger ends up holding exactly the events asked for (each command records at most one event):
  // once it does, the commands that an action or a scheduled task still has are not run. Unbounded
  // during the setup, which always runs whole.
  let limit = Number.POSITIVE_INFINITY;
  const run = async <N extends CommandName>(name: N, input: Parameters<Ledger[N]>[0]): Promise<RunResult> => {
    if (summary.events >= limit) return FULL;
    const result = await (
      ledger[name] as (i: typeof input) => () => Promise<E.Either<LedgerRejection, Outcome>>
    )(input)();
    summary.commands += 1;
    summary.byCommand[name] = (summary.byCommand[name] ?? 0) + 1;
    if (E.isLeft(result)) {
      summary.rejected[result.left.code] = (summary.rejected[result.left.code] ?? 0) + 1;
      options.onRejected?.(name, result.left);
      return result.left;
    }
    if (result.right.alreadyRecorded) summary.alreadyRecorded += 1;
    else summary.events += result.right.events.length;
    tracker.record(result.right.events);
    options.onProgress?.(summary.events);
    return result.right;
  };

  // ------------------------------------------------------------------------------------------------
  // Setup: the program, its plans, the partners.

  const setupAt = iso(startMs);
  await run('configureProgram', {
    programId: `simulated-${options.seed}`,
    name: `Simulated partner program (seed ${options.seed})`,
    currency: PROGRAM_CURRENCY,
    attribution: {
      model: 'positionBased',
      clickWindowDays: 30,
      halfLifeDays: 7,
      precedence: ['dealRegistration', 'coupon', 'clicks'],
    },
    minimumPayout: '50.00',
    minClickToConversionSeconds: 30,
    occurredAt: setupAt,
  });
  for (const plan of plans(iso(startMs - 30 * DAY)))
    await run('publishPlan', { ...plan, occurredAt: setupAt } as Parameters<Ledger['publishPlan']>[0]);

  const partners: SimPartner[] = [];
  const byType = new Map<PartnerType, SimPartner[]>();
  const counts = { affiliate: 0, referral: 0, reseller: 0, technology: 0, agency: 0 };
  for (let i = 0; i < options.partners; i += 1) {
    // One of each type first, then by weight.
    const type: PartnerType =
      i < 5
        ? (['agency', 'affiliate', 'referral', 'reseller', 'technology'] as const)[i]!
        : random.weighted(TYPE_WEIGHTS);
    counts[type] += 1;
    const id = `${type}-${String(counts[type]).padStart(4, '0')}`;
    const european = type === 'affiliate' && random.chance(0.15);
    const planId =
      type === 'affiliate'
        ? european
          ? PLAN_IDS.europe
          : random.chance(0.5)
            ? PLAN_IDS.affiliateShare
            : PLAN_IDS.affiliateCps
        : type === 'referral'
          ? PLAN_IDS.referral
          : type === 'reseller'
            ? PLAN_IDS.reseller
            : type === 'technology'
              ? PLAN_IDS.technology
              : PLAN_IDS.agency;
    const agencies = byType.get('agency') ?? [];
    const parent =
      type === 'affiliate' && agencies.length > 0 && random.chance(0.25) ? random.pick(agencies).id : null;
    const partner: SimPartner = {
      id,
      type,
      currency: european ? 'EUR' : PROGRAM_CURRENCY,
      coupon:
        (type === 'affiliate' || type === 'referral') && random.chance(0.4)
          ? `SAVE-${id.toUpperCase()}`
          : null,
      ownAccount: type === 'reseller' || type === 'agency' ? `acct-own-${id}` : null,
      planId,
      suspended: false,
      tier: 0,
    };
    const joinedAt = iso(startMs + Math.floor(random.next() * Math.min(days, 20) * DAY * 0.1));
    nowMs = Math.max(nowMs, Date.parse(joinedAt));
    await run('joinPartner', {
      partnerId: id,
      name: `${type[0]!.toUpperCase()}${type.slice(1)} partner ${counts[type]}`,
      partnerType: type,
      planId,
      payoutCurrency: partner.currency,
      parentPartnerId: parent,
      couponCodes: partner.coupon === null ? [] : [partner.coupon],
      ownAccountIds: partner.ownAccount === null ? [] : [partner.ownAccount],
      occurredAt: joinedAt,
    });
    partners.push(partner);
    byType.set(type, [...(byType.get(type) ?? []), partner]);
  }
  const setupEvents = summary.events;
  const pickFrom = (types: readonly PartnerType[]) =>
    weightedPicker(
      partners.filter((p) => types.includes(p.type)),
      random,
    );
  const clickPartner = pickFrom(['affiliate', 'referral']);
  const couponPartner = weightedPicker(
    partners.filter((p) => p.coupon !== null),
    random,
  );
  const dealPartner = pickFrom(['reseller', 'agency']);
  const influencePartner = pickFrom(['technology', 'agency']);
  const anyPartner = weightedPicker(partners, random);

  // Recurring work: payouts on the 1st of each month, tier reviews at month end, a plan change mid-way.
  for (let month = new Date(startMs); month.getTime() < endMs;) {
    month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
    if (month.getTime() >= endMs) break;
    tasks.push(iso(month.getTime() + 6 * 3_600_000), { kind: 'payouts' });
    tasks.push(iso(month.getTime() - 3_600_000), { kind: 'monthEnd' });
  }
  tasks.push(iso(startMs + Math.floor(days / 2) * DAY), { kind: 'publishPlanV2' });

  // ------------------------------------------------------------------------------------------------
  // Activity: at every step the tasks that have fallen due (tasks.ts), then one action of the command mix
  // (actions.ts), both acting through the world.

  let counter = 0;
  const next = (prefix: string): string => `${prefix}-${(counter += 1).toString().padStart(7, '0')}`;
  const activeRegistration = new Map<string, string>();
  const accounts = Math.max(50, options.partners * 10);
  const world: SimulationWorld = {
    random,
    run,
    now: () => nowMs,
    startMs,
    tasks,
    next,
    tracker,
    partners,
    clickPartner,
    couponPartner,
    dealPartner,
    influencePartner,
    anyPartner,
    activeRegistration,
    accounts,
  };
  const afterConversion = createAfterConversion(world);
  const actions = createActions(world, afterConversion);
  const runTask = createTaskRunner(world, afterConversion);

  const target = Math.max(options.events, setupEvents + 1);
  const activityEvents = target - setupEvents;
  limit = target;
  while (summary.events < target) {
    const progress = (summary.events - setupEvents) / activityEvents;
    nowMs = Math.max(nowMs, startMs + Math.floor(progress * days * DAY));
    const now = iso(nowMs);
    for (let key = tasks.peekKey(); key !== undefined && key <= now; key = tasks.peekKey()) {
      const { key: at, value } = tasks.pop()!;
      await runTask(at, value);
    }
    const [action] = random.weighted(actions.map(([act, weight]) => [[act], weight] as const));
    await action();
  }
  return { ...summary, from: iso(startMs), to: iso(nowMs) };
};
