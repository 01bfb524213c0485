import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import { CATALOGUE, LedgerDecimal, decodeStoredEvent } from '@partner-ledger/events';
import type { LedgerEvent, NewEvent, RecordedEvent } from '@partner-ledger/events';
import type { AppendCondition, EventStore, ExpectedRevision } from '@partner-ledger/store';
import { decodeCommandOwned } from './commands';
import type { CommandInput, CommandName, LedgerCommand } from './commands';
import { fold } from './decider';
import type { Decider, Decision, PendingEvent } from './decider';
import { accountDecider } from './deciders/account';
import type { AccountState } from './deciders/account';
import { balanceDecider } from './deciders/balance';
import type { BalanceCommand, BalanceState } from './deciders/balance';
import type { Resolved } from './deciders/common';
import { conversionDecider, periodStatsKey } from './deciders/conversion';
import type { ConversionFacts, ConversionState } from './deciders/conversion';
import { partnerDecider, planAt, wasActiveAt } from './deciders/partner';
import type { PartnerState } from './deciders/partner';
import { planDecider, planVersionAt } from './deciders/plan';
import type { PlanState } from './deciders/plan';
import { programDecider } from './deciders/program';
import type { ProgramSettings } from './deciders/program';
import { visitorDecider } from './deciders/visitor';
import type { VisitorState } from './deciders/visitor';
import { streams } from './naming';
import { reject } from './rejection';
import type { LedgerRejection } from './rejection';
import type { PeriodStats, PlanVersion, RatedPartner, Touch } from './rules';
import type { IdGenerator, Ledger, Outcome } from './ledger-api';
import { timeOrderedIds } from './time-ordered-ids';
import { createCrossStreamView, viewReads } from './view';

export type { IdGenerator, Ledger, Outcome } from './ledger-api';

/**
 * What `createLedger` takes: the store (required), and the clock, id generator, program settings, retries,
 * actor and cache size (each with a default).
 */
export interface LedgerOptions {
  /** Where the events are recorded and read: any EventStore (file, in-memory, EventStoreDB, ...). */
  readonly store: EventStore;
  /**
   * The ledger's clock: recordedAt of every event, and occurredAt when a command does not say. Default:
   * the system clock. Inject one in tests and replays.
   */
  readonly clock?: () => Date;
  /**
   * Makes correlation ids for commands that bring none (event ids are derived from natural keys instead).
   * Default: time-ordered UUIDv7s ({@link timeOrderedIds}). Inject one for reproducible histories.
   */
  readonly ids?: IdGenerator;
  /** The program's settings while the store holds no ProgramConfigured (after one, the store's win). */
  readonly program?: ProgramSettings;
  /** How many times a decision is made again after another writer changed its stream. Default 5. */
  readonly retries?: number;
  /** The actor of events whose command names none. Default `service:partner-ledger`. */
  readonly actor?: string;
  /**
   * How many folded stream states the ledger keeps between decisions, so that a decision reads only what a
   * stream gained since (0: read every stream whole each time). Default 20,000.
   */
  readonly stateCacheSize?: number;
  /**
   * Runs on every decoded command before it is decided: `pseudonymizeVisitors` (./privacy) replaces visitor
   * ids by their pseudonyms here. Default: none.
   */
  readonly prepareCommand?: (command: LedgerCommand) => Promise<LedgerCommand | PreparedCommand>;
}

/**
 * What a `prepareCommand` returns when the command's preparation made something that only a recorded
 * command may keep: `pseudonymizeVisitors` makes the visitors' key of a new generation for the first click
 * after an erasure of every visitor, and a refused click must leave no key behind.
 */
export interface PreparedCommand {
  readonly command: LedgerCommand;
  /**
   * Called once the command is decided: `recorded` is false when it was refused (nothing of it is in the
   * store), true when its events were appended or recognised, and true too when deciding threw (an I/O
   * fault during the append may have left them stored: keep what they may need).
   */
  readonly settled: (recorded: boolean) => Promise<void>;
}

type Handler<N extends CommandName> = (input: CommandInput<N>) => TE.TaskEither<LedgerRejection, Outcome>;

/** The natural key of each command, named in IDEMPOTENCY_CONFLICT when the store finds its event id elsewhere. */
const KEY_FIELD: Partial<Record<CommandName, string>> = {
  joinPartner: 'partnerId',
  publishPlan: 'version',
  trackClick: 'clickId',
  recordInfluenceTouch: 'touchId',
  registerDeal: 'registrationId',
  recordConversion: 'conversionId',
  reverseConversion: 'reversalId',
  recordManualAdjustment: 'adjustmentId',
  issuePayout: 'payoutId',
  confirmPayout: 'payoutId',
  recordPayoutFailure: 'payoutId',
};

/** Commands whose decisions read balances or period figures: they wait for each other on shared keys. */
const MONEY_COMMANDS = new Set<CommandName>([
  'recordConversion',
  'reverseConversion',
  'holdCommission',
  'releaseCommission',
  'rejectCommission',
  'recordManualAdjustment',
  'issuePayout',
  'confirmPayout',
  'recordPayoutFailure',
]);

interface Planned {
  readonly stream: string;
  readonly expectedRevision: ExpectedRevision;
  readonly decision: Decision;
  /**
   * For decisions that read the cross-stream view: the tags of what they read and the view's position,
   * checked by the store atomically with the append (another writer's event on one of those tags, stored
   * after that position, refuses the append and the decision is taken again on caught-up state).
   */
  readonly condition?: AppendCondition;
}

/** The tag of a partner's money: every event that changes its balance, figures or lines carries it. */
const partnerTag = (partnerId: string): string => `partner:${partnerId}`;
const customerTag = (customerId: string): string => `customer:${customerId}`;
const couponTag = (code: string): string => `coupon:${code}`;

const NO_TAGS: readonly string[] = Object.freeze([]);

/**
 * The tags of the events a decision appends: what later conditions look for. A partner's tag for every
 * partner whose money an event touches (every line's partner, two-tier parents included, and every
 * credited partner, whose period figures count the conversion), the customer's for a conversion (its
 * first conversion and binding), a coupon's for the partner that claims it.
 */
const tagsOf = (events: readonly PendingEvent[]): readonly string[] => {
  // Most decisions (clicks, visits, deal registrations) append nothing tagged: no Set for them.
  // The events that carry tags are the ones the view reads (a condition names what the view saw).
  if (!events.some((event) => viewReads(event.type))) return NO_TAGS;
  const tags = new Set<string>();
  for (const event of events) {
    switch (event.type) {
      case 'ConversionAttributed':
        for (const line of event.data.commissions) tags.add(partnerTag(line.partnerId));
        for (const credit of event.data.credits) tags.add(partnerTag(credit.partnerId));
        tags.add(customerTag(event.data.customerId));
        break;
      case 'ConversionReversed':
        for (const line of event.data.lines) tags.add(partnerTag(line.partnerId));
        break;
      case 'CommissionHeld':
      case 'CommissionReleased':
      case 'CommissionRejected':
      case 'ManualAdjustmentRecorded':
      case 'PayoutIssued':
      case 'PayoutConfirmed':
      case 'PayoutFailed':
        tags.add(partnerTag(event.data.partnerId));
        break;
      case 'PartnerJoined':
        for (const code of event.data.couponCodes) tags.add(couponTag(code));
        break;
      default:
        break;
    }
  }
  return [...tags];
};

/** Key locks held by one money decision (see `lockKeys` in createLedger). */
interface KeyLocks {
  /** Whether another decision held one of the keys when they were asked for. */
  readonly waited: boolean;
  readonly covers: (keys: readonly string[]) => boolean;
  readonly release: () => void;
}

interface Loaded<S> {
  readonly state: S;
  readonly expectedRevision: ExpectedRevision;
}

/**
 * How one command's decision reads the stream it appends to (see `loadOwn` in createLedger): `fresh` when
 * the store must be asked (after a refused append, or to confirm a decision that appends nothing), and
 * whether the last plan took a remembered state without asking.
 */
interface OwnReads {
  fresh: boolean;
  remembered: boolean;
}

const DECODE_CACHE_SIZE = 20_000;
/** Stream states the ledger remembers (see `load`): the partners, plans and accounts of a large program. */
const STATE_CACHE_SIZE = 20_000;
/** How many partners the ledger notes as joined (see joinedRemembered). */
const JOINED_NOTES = 20_000;
/** How many streams' latest own appends the ledger keeps notes of (two generations of half each). */
export const OWN_APPEND_NOTES = 20_000;

const codeOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
    ? (error as { code: string }).code
    : undefined;

const programNotConfigured = (): LedgerRejection =>
  reject('PROGRAM_NOT_CONFIGURED', 'The program has no settings yet: run configureProgram first', {
    rule: 'programConfigured',
  });

/**
 * The ledger over any EventStore: one method per command (see {@link Ledger}). Only `store` is required:
 * the clock defaults to the system clock and correlation ids to time-ordered UUIDv7s.
 *
 * ```ts
 * const ledger = createLedger({ store: createInMemoryStore() });
 * const joined = await ledger.joinPartner({ partnerId: 'blog-1', name: 'Blog One', ... })();
 * ```
 */
export const createLedger = (options: LedgerOptions): Ledger => {
  const { store } = options;
  const clock = options.clock ?? ((): Date => new Date());
  const maxAttempts = 1 + (options.retries ?? 5);
  const ids = options.ids ?? timeOrderedIds();
  const nextId = typeof ids === 'function' ? ids : ids.next.bind(ids);
  const defaultActor = options.actor ?? 'service:partner-ledger';
  // Decision after decision reads the same small streams (the program, partners, plans): decoding a stored
  // event once, keyed by its hash (which covers everything it says), saves most of the decoding work.
  const decodedByHash = new Map<string, LedgerEvent>();
  const decode = (event: RecordedEvent): LedgerEvent => {
    let decoded = decodedByHash.get(event.hash);
    if (decoded === undefined) {
      decoded = decodeStoredEvent(event);
      if (decodedByHash.size >= DECODE_CACHE_SIZE) decodedByHash.clear();
      decodedByHash.set(event.hash, decoded);
    }
    return decoded;
  };
  // The events the ledger appended, kept for the view's catch-up that reads them back. Only those the view
  // reads: keeping every click alive until the cache is cleared made the garbage collector copy and mark
  // them for nothing (a click is read back only to skip it; a stream read again is folded from `pending`).
  const ownEvent = (event: RecordedEvent): LedgerEvent => {
    const own = event as LedgerEvent;
    if (!viewReads(event.type)) return own;
    if (decodedByHash.size >= DECODE_CACHE_SIZE) decodedByHash.clear();
    decodedByHash.set(event.hash, own);
    return own;
  };
  const view = createCrossStreamView(store, decode);

  // Money decisions of one ledger instance on the same keys (the stream they append to, the tags they read
  // and write) wait for each other, so that they do not refuse each other's appends and decide again; those
  // on other keys run side by side, and their appends share the store's writes. A speed measure only: the
  // store's expected revisions and append conditions protect the money, within and across processes.
  const keyTails = new Map<string, Promise<void>>();
  const lockKeys = async (keys: readonly string[]): Promise<KeyLocks> => {
    const releases: (() => void)[] = [];
    let waited = false;
    // Always in sorted order, holding no other key: no two decisions wait for each other.
    for (const key of [...new Set(keys)].sort()) {
      const previous = keyTails.get(key);
      let release!: () => void;
      const mine = new Promise<void>((resolve) => (release = resolve));
      const tail = previous === undefined ? mine : previous.then(() => mine);
      keyTails.set(key, tail);
      releases.push(() => {
        release();
        if (keyTails.get(key) === tail) keyTails.delete(key);
      });
      if (previous !== undefined) {
        waited = true;
        await previous;
      }
    }
    const held = new Set(keys);
    return {
      waited,
      covers: (wanted) => wanted.every((key) => held.has(key)),
      release: () => releases.forEach((release) => release()),
    };
  };

  const readEvents = async (stream: string): Promise<LedgerEvent[]> => {
    const events: LedgerEvent[] = [];
    for await (const event of store.readStream(stream)) events.push(decode(event));
    return events;
  };

  // Folded stream states, most recently used last. A decision reads the same streams again and again (the
  // program, plans, partners, accounts): from a remembered state at revision r it reads only the events
  // after r (usually none) instead of the whole stream, so the store remains the judge of what the stream
  // holds while a decision costs no more reads and folds than the stream has new events. States are
  // immutable (immer), so sharing them is safe; the cache is bounded, so memory does not grow with events.
  // Two generations rather than an exact LRU (a Map whose oldest key is deleted again and again gets slow to
  // iterate from its start): a state used again moves to the young one; when the young one is full, the old
  // one is dropped. At most `stateCacheSize` states are kept.
  // `pending`: events the ledger appended onto `state`, folded only when a decision reads the stream again
  // (most streams a command appends to, a new visitor's or conversion's, are not read again soon).
  // `seenAt`: a global position up to which the state holds every event of its stream (taken from the view
  // before the read that made it, or the position of the ledger's own append folded in): see loadSeen.
  type Remembered = {
    decider: unknown;
    state: unknown;
    revision: number;
    seenAt: number;
    pending?: readonly LedgerEvent[];
  };
  const stateCacheSize = options.stateCacheSize ?? STATE_CACHE_SIZE;
  let youngStates = new Map<string, Remembered>();
  let oldStates = new Map<string, Remembered>();
  const states = {
    get: (stream: string): Remembered | undefined => youngStates.get(stream) ?? oldStates.get(stream),
  };
  const remember = (stream: string, entry: Remembered): void => {
    oldStates.delete(stream);
    if (stateCacheSize <= 1) return;
    youngStates.set(stream, entry);
    if (youngStates.size >= stateCacheSize / 2) {
      oldStates = youngStates;
      youngStates = new Map();
    }
  };
  /**
   * After an append with the expected revision, the events the ledger itself just recorded are folded into
   * the remembered state they were decided on, so that the next decision on the stream need not read them
   * back. Only onto exactly that revision: anything else is left to the next read.
   */
  const rememberAppended = (
    stream: string,
    expectedRevision: number | 'noStream',
    events: readonly LedgerEvent[],
  ): void => {
    const cached = states.get(stream);
    const base = expectedRevision === 'noStream' ? -1 : expectedRevision;
    const last = events[events.length - 1];
    if (cached === undefined || last === undefined) return;
    if (
      cached.revision !== base ||
      events.some((event, i) => event.stream !== stream || event.revision !== base + 1 + i)
    ) {
      // Not folded in: forgotten, so that no decision takes the state as current (the view, which has this
      // append from `appended`, would not say that the stream moved on).
      oldStates.delete(stream);
      youngStates.delete(stream);
      return;
    }
    // The append went through on exactly this revision: up to its position, the stream holds what the
    // state holds and these events.
    remember(stream, {
      decider: cached.decider,
      state: cached.state,
      revision: last.revision,
      seenAt: Math.max(cached.seenAt, last.position),
      pending: cached.pending === undefined ? events : [...cached.pending, ...events],
    });
  };

  // The revision of the ledger's latest own append, by stream (see load). A read that was under way while the
  // ledger appended to its stream may lack that append; if the state the append was folded into is dropped
  // meanwhile (the cache is bounded), nothing else tells that read's result from a current one: the view does
  // not flag the ledger's own events. Two generations, as the states; appends are counted (`ownAppends`), and
  // `ownForgotten` rises to the count of the last note of a dropped generation: a read begun before it,
  // which may lack an append whose note is gone, is not remembered. Counted, not by the view's position,
  // which stands still while only clicks are recorded (no catch-up).
  let youngOwn = new Map<string, number>();
  let oldOwn = new Map<string, number>();
  let ownAppends = 0;
  let oldOwnLast = 0;
  let ownForgotten = 0;
  const noteOwnAppend = (stream: string, last: LedgerEvent): void => {
    ownAppends += 1;
    // The largest: two appends to one stream may be answered out of order.
    const noted = youngOwn.get(stream) ?? oldOwn.get(stream) ?? -1;
    youngOwn.set(stream, Math.max(last.revision, noted));
    if (youngOwn.size >= OWN_APPEND_NOTES / 2) {
      ownForgotten = oldOwnLast;
      oldOwn = youngOwn;
      oldOwnLast = ownAppends;
      youngOwn = new Map();
    }
  };
  /** Whether a read that returned `revision`, begun when `ownAppends` was `since`, may lack an own append. */
  const ownAppendMissed = (stream: string, revision: number, since: number): boolean => {
    const noted = youngOwn.get(stream) ?? oldOwn.get(stream);
    return noted === undefined ? ownForgotten > since : noted > revision;
  };

  const load = async <S>(
    decider: Pick<Decider<never, S>, 'evolveDraft' | 'evolve' | 'initialState'>,
    stream: string,
  ): Promise<Loaded<S>> => {
    const cached = states.get(stream);
    const known = cached !== undefined && cached.decider === decider ? cached : undefined;
    const from = known === undefined ? 0 : known.revision + 1;
    // Before the read: every event of the stream up to the view's position is in the store already.
    const seenAt = view.position();
    const since = ownAppends;
    const events: LedgerEvent[] = [];
    for await (const event of store.readStream(stream, { fromRevision: from })) events.push(decode(event));
    const base =
      known === undefined
        ? decider.initialState
        : known.pending === undefined
          ? (known.state as S)
          : fold(decider, known.state as S, known.pending);
    const state = events.length === 0 ? base : fold(decider, base, events);
    const revision = events.length === 0 ? from - 1 : events[events.length - 1]!.revision;
    // Remembered even when empty (revision -1): the decision's own append is then folded in (see below).
    // Never over a newer state remembered while this read was under way (a read that began later, or the
    // ledger's own append folded in): loadSeen would take the older one as current, and the ledger's own
    // events it lacks are ones the view does not flag.
    // Nor, where nothing is remembered, when the ledger appended to the stream what the read lacks (its own
    // append was folded into a state dropped since: see noteOwnAppend).
    const current = states.get(stream);
    if (
      current !== undefined && current.decider === decider
        ? current.revision <= revision
        : !ownAppendMissed(stream, revision, since)
    )
      remember(stream, { decider, state, revision, seenAt });
    return { state, expectedRevision: revision < 0 ? 'noStream' : revision };
  };

  /**
   * The stream a decision appends to, read the cheap way: a remembered state is taken as it is, without
   * asking the store what the stream gained since (most decisions on a remembered stream find nothing new,
   * and the read still costs an iterator, its promises and an await). Safe because that stream's revision
   * is checked by the store with the append: if another writer (another process, or a ledger instance
   * whose append this one did not fold in) moved the stream on, the append is refused and the decision is
   * taken again on a fresh read (`own.fresh`, see runLocked). What the store does not check, a decision
   * that appends nothing, is confirmed by a fresh read too: a rejection or an "already recorded" decided
   * on a remembered state is decided again on what the stream holds. A stream not remembered is read.
   */
  const loadOwn = <S>(
    decider: Pick<Decider<never, S>, 'evolveDraft' | 'evolve' | 'initialState'>,
    stream: string,
    own: OwnReads,
  ): Loaded<S> | Promise<Loaded<S>> => {
    const cached = own.fresh ? undefined : states.get(stream);
    if (cached === undefined || cached.decider !== decider) return load(decider, stream);
    own.remembered = true;
    if (cached.pending === undefined)
      return {
        state: cached.state as S,
        expectedRevision: cached.revision < 0 ? 'noStream' : cached.revision,
      };
    const state = fold(decider, cached.state as S, cached.pending);
    remember(stream, { decider, state, revision: cached.revision, seenAt: cached.seenAt });
    return { state, expectedRevision: cached.revision < 0 ? 'noStream' : cached.revision };
  };

  /**
   * A stream a decision reads but does not append to (the program, partners, plans, a visitor for a
   * conversion), for a decision that has caught the view up: a remembered state is taken without asking the
   * store when the view, which read every event up to its position, read none of the stream's from another
   * writer since the state was complete (`seenAt`); the ledger's own appends are folded into the state as
   * they are made (or the state is forgotten). It then holds what a read would have returned at the view's
   * catch-up, which a read made beside the catch-up returned before; anything else is read. Saves a read
   * (an async iterator, its promises and its allocations) of each of the four or five streams a conversion
   * reads. Call only after `await view.catchUp()` in the same decision.
   */
  const loadSeen = <S>(
    decider: Pick<Decider<never, S>, 'evolveDraft' | 'evolve' | 'initialState'>,
    stream: string,
  ): Loaded<S> | Promise<Loaded<S>> => {
    const cached = states.get(stream);
    if (cached === undefined || cached.decider !== decider || view.touchedAfter(stream, cached.seenAt))
      return load(decider, stream);
    const expectedRevision = cached.revision < 0 ? 'noStream' : cached.revision;
    if (cached.pending === undefined) return { state: cached.state as S, expectedRevision };
    const state = fold(decider, cached.state as S, cached.pending);
    remember(stream, { decider, state, revision: cached.revision, seenAt: cached.seenAt });
    return { state, expectedRevision };
  };

  /** The program's settings, read through loadSeen (after the view's catch-up). */
  const seenSettings = async (): Promise<ProgramSettings | undefined> => {
    const loading = loadSeen(programDecider, streams.program());
    const loaded = loading instanceof Promise ? await loading : loading;
    return loaded.state.settings ?? options.program;
  };

  /**
   * Whether a partner has joined. Once it has, it always has (no event undoes a join): a remembered state
   * that says so answers without reading what the partner's stream gained since (a click reads nothing
   * else of the partner). One that has not joined is read as any stream is.
   */
  const partnerJoined = async (partnerId: string): Promise<boolean> => {
    if (joinedRemembered(partnerId)) return true;
    const joined = (await load(partnerDecider, streams.partner(partnerId))).state.joined !== null;
    if (joined) noteJoined(partnerId);
    return joined;
  };

  // The partners known to have joined, by id: every click asks, and a small set of ids answers without
  // building the partner's stream name and looking it up among all the remembered states. Bounded (cleared
  // when full): a partner no longer noted is asked of the remembered states, then read, as before.
  const joinedPartners = new Set<string>();
  const noteJoined = (partnerId: string): void => {
    if (joinedPartners.size >= JOINED_NOTES) joinedPartners.clear();
    joinedPartners.add(partnerId);
  };

  /** Whether the partner is known to have joined (then it has: see partnerJoined). */
  const joinedRemembered = (partnerId: string): boolean => {
    if (joinedPartners.has(partnerId)) return true;
    const cached = states.get(streams.partner(partnerId));
    if (cached?.decider !== partnerDecider || (cached.state as PartnerState).joined === null) return false;
    noteJoined(partnerId);
    return true;
  };

  /** Partner states by id, read once per decision (through loadSeen: after the view's catch-up). */
  const partnerReader = () => {
    const cache = new Map<string, PartnerState | Promise<PartnerState>>();
    return (partnerId: string): PartnerState | Promise<PartnerState> => {
      let found = cache.get(partnerId);
      if (found === undefined) {
        const loading = loadSeen(partnerDecider, streams.partner(partnerId));
        found = loading instanceof Promise ? loading.then((loaded) => loaded.state) : loading.state;
        cache.set(partnerId, found);
      }
      return found;
    };
  };

  const plannedOn = <S, C>(
    decider: Decider<C, S>,
    stream: string,
    loaded: Loaded<S>,
    command: C,
  ): E.Either<LedgerRejection, Planned> =>
    E.map((decision: Decision) => ({ stream, expectedRevision: loaded.expectedRevision, decision }))(
      decider.decide(command, loaded.state),
    );

  // ---------------------------------------------------------------------------------------------------
  // Planning: read the streams a decision needs, then decide. Each returns the stream to write, its
  // expected revision and the decision; the runner appends and retries.

  // A plan that waits on nothing (a click on a remembered or new visitor of a partner known to have joined)
  // is returned as it is, not as a promise: an await less, and the promise's allocations.
  type Planner<N extends CommandName> = (
    command: Resolved<N>,
    own: OwnReads,
  ) => Promise<E.Either<LedgerRejection, Planned>> | E.Either<LedgerRejection, Planned>;

  const planners: { [N in CommandName]: Planner<N> } = {
    configureProgram: async (command, own) => {
      const stream = streams.program();
      return plannedOn(programDecider, stream, await loadOwn(programDecider, stream, own), command);
    },

    joinPartner: async (command, own) => {
      const stream = streams.partner(command.partnerId);
      const [partner, plan, parent] = await Promise.all([
        loadOwn(partnerDecider, stream, own),
        load(planDecider, streams.plan(command.planId)),
        command.parentPartnerId ? load(partnerDecider, streams.partner(command.parentPartnerId)) : undefined,
      ]);
      await view.catchUp();
      const after = view.position();
      return withCondition(
        plannedOn(partnerDecider, stream, partner, {
          ...command,
          facts: {
            planPublished: plan.state.versions.length > 0,
            parentJoined: parent !== undefined && parent.state.joined !== null,
            couponOwners: view.couponOwners(),
          },
        }),
        (command.couponCodes ?? []).map(couponTag),
        after,
      );
    },

    publishPlan: async (command, own) => {
      const stream = streams.plan(command.planId);
      return plannedOn(planDecider, stream, await loadOwn(planDecider, stream, own), command);
    },

    changePartnerPlan: async (command, own) => {
      const stream = streams.partner(command.partnerId);
      const [partner, plan] = await Promise.all([
        loadOwn(partnerDecider, stream, own),
        load(planDecider, streams.plan(command.planId)),
      ]);
      return plannedOn(partnerDecider, stream, partner, {
        ...command,
        facts: { planPublished: plan.state.versions.length > 0 },
      });
    },

    changePartnerContactDetails: async (command, own) => {
      const stream = streams.partner(command.partnerId);
      return plannedOn(partnerDecider, stream, await loadOwn(partnerDecider, stream, own), command);
    },

    changePartnerTier: async (command, own) => {
      const stream = streams.partner(command.partnerId);
      return plannedOn(partnerDecider, stream, await loadOwn(partnerDecider, stream, own), command);
    },

    changePartnerStatus: async (command, own) => {
      const stream = streams.partner(command.partnerId);
      return plannedOn(partnerDecider, stream, await loadOwn(partnerDecider, stream, own), command);
    },

    trackClick: (command, own) => {
      const stream = streams.visitor(command.visitorId);
      const loading = loadOwn(visitorDecider, stream, own);
      // Most clicks are on a partner known to have joined: then the visitor's stream is the only wait, and
      // none for a remembered or new visitor (each await costs promises and a turn of the microtask queue).
      if (joinedRemembered(command.partnerId)) {
        const joined = { ...command, facts: { partnerJoined: true } };
        return loading instanceof Promise
          ? loading.then((visitor) => plannedOn(visitorDecider, stream, visitor, joined))
          : plannedOn(visitorDecider, stream, loading, joined);
      }
      return Promise.all([loading, partnerJoined(command.partnerId)]).then(([visitor, joined]) =>
        plannedOn(visitorDecider, stream, visitor, { ...command, facts: { partnerJoined: joined } }),
      );
    },

    recordInfluenceTouch: async (command, own) => {
      const stream = streams.account(command.accountId);
      const [account, joined] = await Promise.all([
        loadOwn(accountDecider, stream, own),
        partnerJoined(command.partnerId),
      ]);
      return plannedOn(accountDecider, stream, account, { ...command, facts: { partnerJoined: joined } });
    },

    registerDeal: async (command, own) => {
      const stream = streams.account(command.accountId);
      const [account, partner] = await Promise.all([
        loadOwn(accountDecider, stream, own),
        load(partnerDecider, streams.partner(command.partnerId)),
      ]);
      const partnerStatus =
        partner.state.joined === null ? 'unknown' : partner.state.status === 'active' ? 'active' : 'inactive';
      return plannedOn(accountDecider, stream, account, { ...command, facts: { partnerStatus } });
    },

    approveDealRegistration: async (command, own) => {
      const stream = streams.account(command.accountId);
      return plannedOn(accountDecider, stream, await loadOwn(accountDecider, stream, own), command);
    },
    rejectDealRegistration: async (command, own) => {
      const stream = streams.account(command.accountId);
      return plannedOn(accountDecider, stream, await loadOwn(accountDecider, stream, own), command);
    },
    extendDealRegistration: async (command, own) => {
      const stream = streams.account(command.accountId);
      return plannedOn(accountDecider, stream, await loadOwn(accountDecider, stream, own), command);
    },
    expireDealRegistration: async (command, own) => {
      const stream = streams.account(command.accountId);
      return plannedOn(accountDecider, stream, await loadOwn(accountDecider, stream, own), command);
    },

    recordConversion: async (command, own) => {
      const stream = streams.conversion(command.conversionId);
      // The view first: then the program, the visitor, the partners and their plans are read through
      // loadSeen (most of the time from what the ledger remembers, without a read).
      await view.catchUp();
      const settings = await seenSettings();
      if (settings === undefined) return E.left(programNotConfigured());
      const conversion = await loadOwn(conversionDecider, stream, own);
      if (conversion.state.attributed !== null)
        return plannedOn(conversionDecider, stream, conversion, { ...command, facts: emptyFacts(settings) });
      const { facts, read, after } = await conversionFacts(command, settings);
      return withCondition(
        plannedOn(conversionDecider, stream, conversion, { ...command, facts }),
        read,
        after,
      );
    },

    reverseConversion: async (command, own) => {
      const stream = streams.conversion(command.conversionId);
      return plannedOn(conversionDecider, stream, await loadOwn(conversionDecider, stream, own), command);
    },

    holdCommission: async (command, own) => {
      const stream = streams.conversion(command.conversionId);
      const conversion = await loadOwn(conversionDecider, stream, own);
      const settled = await lineSettled(conversion.state, command.lineId);
      return withCondition(
        plannedOn(conversionDecider, stream, conversion, {
          ...command,
          facts: { lineSettled: settled.settled },
        }),
        settled.read,
        settled.after,
      );
    },
    releaseCommission: async (command, own) => {
      const stream = streams.conversion(command.conversionId);
      return plannedOn(conversionDecider, stream, await loadOwn(conversionDecider, stream, own), command);
    },
    rejectCommission: async (command, own) => {
      const stream = streams.conversion(command.conversionId);
      const conversion = await loadOwn(conversionDecider, stream, own);
      const settled = await lineSettled(conversion.state, command.lineId);
      return withCondition(
        plannedOn(conversionDecider, stream, conversion, {
          ...command,
          facts: { lineSettled: settled.settled },
        }),
        settled.read,
        settled.after,
      );
    },

    recordManualAdjustment: async (command) => {
      const [joined] = await Promise.all([partnerJoined(command.partnerId), view.catchUp()]);
      // The balance stream's revision is all an adjustment depends on (its id): no condition.
      return onBalance(command.partnerId, { ...command, facts: { partnerJoined: joined } }, false);
    },
    issuePayout: async (command) => {
      await view.catchUp();
      const settings = await seenSettings();
      if (settings === undefined) return E.left(programNotConfigured());
      const joined = joinedRemembered(command.partnerId) || (await partnerJoined(command.partnerId));
      return onBalance(command.partnerId, {
        ...command,
        facts: {
          partnerJoined: joined,
          minimumPayout: { amount: settings.minimumPayout, currency: settings.currency },
        },
      });
    },
    confirmPayout: async (command) => {
      await view.catchUp();
      return onBalance(command.partnerId, command);
    },
    recordPayoutFailure: async (command) => {
      await view.catchUp();
      return onBalance(command.partnerId, command);
    },
  };

  /** Adds an append condition to a plan: the tags its decision read from the view, up to `after`. */
  const withCondition = (
    planned: E.Either<LedgerRejection, Planned>,
    read: readonly string[],
    after: number,
  ): E.Either<LedgerRejection, Planned> =>
    read.length === 0
      ? planned
      : E.map((plan: Planned) => ({ ...plan, condition: { failIfTagged: [...read], after } }))(planned);

  /**
   * Balance decisions read the partner's balance from the view, caught up just before. Its lines live in
   * the conversion streams, which the balance stream's revision does not cover: the partner's tag does
   * (`conditioned`), so a reversal, hold or conversion of the partner's stored after the view's position
   * refuses the append and the decision is taken again.
   */
  const onBalance = (
    partnerId: string,
    command: BalanceCommand,
    conditioned = true,
  ): E.Either<LedgerRejection, Planned> => {
    const after = view.position();
    const state: BalanceState = view.balance(partnerId);
    const planned = plannedOn(
      balanceDecider,
      streams.balance(partnerId),
      { state, expectedRevision: state.revision < 0 ? 'noStream' : state.revision },
      command,
    );
    return withCondition(planned, conditioned ? [partnerTag(partnerId)] : [], after);
  };

  /** Whether a payout settled any of the line (read from the view), with the condition that reading needs. */
  const lineSettled = async (
    conversion: ConversionState,
    lineId: string,
  ): Promise<{ settled: boolean; read: string[]; after: number }> => {
    const line = conversion.attributed?.data.commissions.find((l) => l.lineId === lineId);
    if (line === undefined) return { settled: false, read: [], after: -1 };
    await view.catchUp();
    const after = view.position();
    const settled = view.balance(line.partnerId).lines[lineId]?.settled ?? '0';
    return { settled: !new LedgerDecimal(settled).isZero(), read: [partnerTag(line.partnerId)], after };
  };

  const emptyFacts = (settings: ProgramSettings): ConversionFacts => ({
    settings,
    touches: [],
    customerBinding: null,
    customerFirstConversionAt: null,
    partners: {},
    plans: {},
    periodStats: {},
  });

  /** Gathers what attribution and rating need: touches, partners and plans as they were, period figures. */
  const conversionFacts = async (
    command: Resolved<'recordConversion'>,
    settings: ProgramSettings,
  ): Promise<{ facts: ConversionFacts; read: string[]; after: number }> => {
    const at = command.at;
    const partnerOf = partnerReader();
    // The view was caught up by the caller (recordConversion): the visitor and the account through loadSeen.
    const visiting = command.visitorId
      ? loadSeen(visitorDecider, streams.visitor(command.visitorId))
      : undefined;
    const accounting = command.accountId
      ? loadSeen(accountDecider, streams.account(command.accountId))
      : undefined;
    const visitor = visiting instanceof Promise ? await visiting : visiting;
    const account = accounting instanceof Promise ? await accounting : accounting;
    const after = view.position();
    const raw: Omit<Touch, 'partnerActiveAt'>[] = [];
    for (const click of Object.values(visitor?.state.clicks ?? {}))
      if (click.at <= at)
        raw.push({
          kind: 'click',
          touchId: click.data.clickId,
          partnerId: click.data.partnerId,
          at: click.at,
          fraudulent: click.data.fraudReason !== null,
        });
    const accountState: AccountState | undefined = account?.state;
    for (const registration of Object.values(accountState?.registrations ?? {}))
      if (registration.status === 'approved' && registration.registeredAt <= at)
        raw.push({
          kind: 'dealRegistration',
          touchId: registration.data.registrationId,
          partnerId: registration.data.partnerId,
          at: registration.registeredAt,
          fraudulent: false,
          expiresAt: registration.expiresAt,
        });
    for (const touch of Object.values(accountState?.influence ?? {}))
      if (touch.at <= at)
        raw.push({
          kind: 'influence',
          touchId: touch.data.touchId,
          partnerId: touch.data.partnerId,
          at: touch.at,
          fraudulent: false,
        });
    const couponOwner = command.couponCode ? view.couponOwners()[command.couponCode] : undefined;
    if (command.couponCode && couponOwner !== undefined)
      raw.push({
        kind: 'coupon',
        touchId: command.couponCode,
        partnerId: couponOwner,
        at,
        fraudulent: false,
      });
    raw.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));

    const customer = view.customer(command.customerId);
    const customerFirstConversionAt =
      customer !== undefined && customer.firstConversionAt <= at ? customer.firstConversionAt : null;
    const customerBinding = customer?.boundPartnerId ? { partnerId: customer.boundPartnerId } : null;

    const candidates = new Set([
      ...raw.map((t) => t.partnerId),
      ...(customerBinding ? [customerBinding.partnerId] : []),
    ]);
    const states = new Map<string, PartnerState>();
    for (const partnerId of candidates) {
      const found = partnerOf(partnerId);
      states.set(partnerId, found instanceof Promise ? await found : found);
    }
    for (const state of [...states.values()]) {
      const parentId = state.joined?.data.parentPartnerId;
      if (!parentId || states.has(parentId)) continue;
      const found = partnerOf(parentId);
      states.set(parentId, found instanceof Promise ? await found : found);
    }
    const touches: Touch[] = raw.map((touch) => {
      const state = states.get(touch.partnerId);
      return { ...touch, partnerActiveAt: state !== undefined && wasActiveAt(state, touch.at) };
    });

    const partners: Record<string, RatedPartner & { ownAccountIds: readonly string[] }> = {};
    const plans: Record<string, PlanVersion> = {};
    const periodStats: Record<string, PeriodStats> = {};
    for (const [partnerId, state] of states) {
      if (state.joined === null) continue;
      const planId = planAt(state, at);
      if (planId === null) continue;
      partners[partnerId] = {
        partnerId,
        planId,
        parentPartnerId: state.joined.data.parentPartnerId,
        active: wasActiveAt(state, at),
        ownAccountIds: state.joined.data.ownAccountIds,
      };
      if (!(planId in plans)) {
        const loading = loadSeen(planDecider, streams.plan(planId));
        const plan: PlanState = (loading instanceof Promise ? await loading : loading).state;
        const version = planVersionAt(plan, at);
        if (version !== undefined) plans[planId] = version;
      }
      for (const period of ['month', 'quarter'] as const)
        periodStats[periodStatsKey(partnerId, planId, period)] = view.periodStats(
          partnerId,
          planId,
          period,
          at,
        );
    }
    // What was read from the view: every candidate's (and parent's) figures, the customer, the coupon.
    const read = [
      ...[...states.keys()].map(partnerTag),
      customerTag(command.customerId),
      ...(command.couponCode ? [couponTag(command.couponCode)] : []),
    ];
    return {
      facts: { settings, touches, customerBinding, customerFirstConversionAt, partners, plans, periodStats },
      read,
      after,
    };
  };

  // ---------------------------------------------------------------------------------------------------
  // Running: validate, resolve times, plan, append with the expected revision, retry on conflicts.

  // Every field written out (no spread of the metadata): one object of one shape, built in one step, for
  // every event the ledger appends.
  const toNewEvent = (
    event: PendingEvent,
    meta: Omit<NewEvent, 'id' | 'type' | 'schemaVersion' | 'data' | 'occurredAt'>,
  ): NewEvent => ({
    id: event.id,
    type: event.type,
    schemaVersion: CATALOGUE[event.type].schemaVersion,
    data: event.data,
    occurredAt: event.occurredAt,
    recordedAt: meta.recordedAt,
    actor: meta.actor,
    correlationId: meta.correlationId,
    causationId: meta.causationId,
  });

  /** The keys a money decision waits on: its stream, the tags it read and the tags it writes. */
  const lockKeysOf = (planned: Planned): string[] => [
    planned.stream,
    ...(planned.condition?.failIfTagged ?? []),
    ...(planned.decision.kind === 'alreadyRecorded' ? [] : tagsOf(planned.decision.events)),
  ];

  /**
   * The keys a money decision will most likely wait on, known before it is planned: a balance command's
   * from its partner, a reversal's from the remembered conversion's lines, a conversion's from the
   * remembered visitor's clicks. Locked first, they save planning twice a decision that would have found
   * them held after planning (under the locks it waits for, it plans once, on what the others appended).
   * Only a guess: the keys of the plan decide (see runLocked), and the store judges.
   */
  const likelyKeys = (command: Resolved<CommandName>): string[] | undefined => {
    switch (command.command) {
      case 'issuePayout':
      case 'recordManualAdjustment':
      case 'confirmPayout':
      case 'recordPayoutFailure':
        return [streams.balance(command.partnerId), partnerTag(command.partnerId)];
      case 'reverseConversion': {
        const partners = rememberedLinePartners(command.conversionId);
        return partners === undefined
          ? undefined
          : [streams.conversion(command.conversionId), ...partners.map(partnerTag)];
      }
      case 'recordConversion': {
        if (!command.visitorId || command.accountId) return undefined;
        const partners = rememberedClickPartners(command.visitorId);
        return partners === undefined
          ? undefined
          : [
              streams.conversion(command.conversionId),
              customerTag(command.customerId),
              ...(command.couponCode ? [couponTag(command.couponCode)] : []),
              ...partners.map(partnerTag),
            ];
      }
      default:
        return undefined;
    }
  };

  /** The partners of a remembered conversion's lines (its attribution may be among the unfolded events). */
  const rememberedLinePartners = (conversionId: string): string[] | undefined => {
    const cached = states.get(streams.conversion(conversionId));
    if (cached === undefined || cached.decider !== conversionDecider) return undefined;
    const attributed =
      (cached.state as ConversionState).attributed?.data ??
      cached.pending?.find((event) => event.type === 'ConversionAttributed')?.data;
    return attributed === undefined || !('commissions' in attributed)
      ? undefined
      : attributed.commissions.map((line) => line.partnerId);
  };

  /** The partners of a remembered visitor's clicks (unfolded ones included). */
  const rememberedClickPartners = (visitorId: string): string[] | undefined => {
    const cached = states.get(streams.visitor(visitorId));
    if (cached === undefined || cached.decider !== visitorDecider) return undefined;
    const partners = Object.values((cached.state as VisitorState).clicks).map(
      (click) => click.data.partnerId,
    );
    for (const event of cached.pending ?? [])
      if (event.type === 'ClickTracked') partners.push(event.data.partnerId);
    return partners;
  };

  // Commands that lock no keys (clicks, visits, registrations: most of a service's) hold none to release.
  const holdNothing = (): void => undefined;
  const heldNothing = (): undefined => undefined;
  const run = (command: LedgerCommand, locking: boolean): Promise<E.Either<LedgerRejection, Outcome>> =>
    locking ? runHoldingLocks(command) : runLocked(command, false, holdNothing, heldNothing);
  /** A money command: the key locks it takes are released however its decision ends. */
  const runHoldingLocks = async (command: LedgerCommand): Promise<E.Either<LedgerRejection, Outcome>> => {
    let locks: KeyLocks | undefined;
    try {
      return await runLocked(
        command,
        true,
        (next) => {
          locks?.release();
          locks = next;
        },
        () => locks,
      );
    } finally {
      locks?.release();
    }
  };

  const runLocked = async (
    command: LedgerCommand,
    locking: boolean,
    hold: (locks: KeyLocks | undefined) => void,
    held: () => KeyLocks | undefined,
  ): Promise<E.Either<LedgerRejection, Outcome>> => {
    const now = clock().toISOString();
    const at = command.occurredAt ?? now;
    if (at > now)
      return E.left(
        reject('OCCURRED_IN_FUTURE', `occurredAt ${at} is later than the ledger's clock (${now})`, {
          field: 'occurredAt',
        }),
      );
    const resolved = {
      ...command,
      at,
      atGiven: command.occurredAt !== undefined,
      now,
    } as Resolved<CommandName>;
    const meta = {
      recordedAt: now,
      actor: command.actor ?? defaultActor,
      correlationId: command.correlationId ?? nextId(),
      causationId: command.causationId ?? null,
    };
    const planner = planners[command.command] as Planner<CommandName>;
    const own: OwnReads = { fresh: false, remembered: false };
    // A plan on a remembered state of the decision's own stream that appends nothing (a rejection, or the
    // command already recorded) is not checked by any append: it is made again on a fresh read (loadOwn).
    // Checked where each plan is made (not in an async helper: an await less per command).
    const unconfirmed = (planned: E.Either<LedgerRejection, Planned>): boolean => {
      const remembered = own.remembered;
      own.remembered = false;
      if (!remembered || (E.isRight(planned) && planned.right.decision.kind === 'append')) return false;
      own.fresh = true;
      return true;
    };
    let duplicateSeen: string | undefined;
    for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
      if (locking && held() === undefined) {
        const likely = likelyKeys(resolved);
        if (likely !== undefined) hold(await lockKeys(likely));
      }
      let planning = planner(resolved, own);
      let planned = planning instanceof Promise ? await planning : planning;
      if (unconfirmed(planned)) {
        planning = planner(resolved, own);
        planned = planning instanceof Promise ? await planning : planning;
      }
      if (E.isLeft(planned)) return planned;
      // Money: lock the decision's keys; if another decision held one of them, decide again under the locks
      // (the keys may change with what the decision now reads: at most a few rounds, then the store judges).
      for (let round = 0; locking && round < 4; round += 1) {
        const keys = lockKeysOf(planned.right);
        if (held()?.covers(keys)) break;
        hold(undefined);
        const locks = await lockKeys(keys);
        hold(locks);
        if (!locks.waited) break;
        planned = await planner(resolved, own);
        if (unconfirmed(planned)) planned = await planner(resolved, own);
        if (E.isLeft(planned)) return planned;
      }
      const { stream, expectedRevision, decision, condition } = planned.right;
      if (decision.kind === 'alreadyRecorded') {
        const ids = new Set(decision.eventIds);
        const events = (await readEvents(stream)).filter((event) => ids.has(event.id));
        return E.right({ stream, events, alreadyRecorded: true });
      }
      try {
        const tags = tagsOf(decision.events);
        const result = await store.append(
          stream,
          decision.events.map((event) => toNewEvent(event, meta)),
          // Without tags or a condition, the options are what they always were: the store's fast path.
          tags.length === 0 && condition === undefined
            ? { expectedRevision }
            : { expectedRevision, tags, ...(condition === undefined ? {} : { condition }) },
        );
        // The events this decision made, as stored: typed by the decider already, so not decoded again; kept
        // by hash so that reading them back (the view's catch-up, a later load) does not decode them either.
        const recorded = result.alreadyStored ? result.events.map(decode) : result.events.map(ownEvent);
        if (!result.alreadyStored) {
          view.appended(recorded);
          noteOwnAppend(stream, recorded[recorded.length - 1]!);
        }
        if (
          !result.alreadyStored &&
          (typeof expectedRevision === 'number' || expectedRevision === 'noStream')
        )
          rememberAppended(stream, expectedRevision, recorded);
        return E.right({ stream, events: recorded, alreadyRecorded: result.alreadyStored });
      } catch (error) {
        const code = codeOf(error);
        // Another writer changed what the decision read (its stream, or a tag it read): decide again, on
        // what the store holds now (not on a remembered state of the stream, which the store just refused).
        own.fresh = true;
        if (code === 'WRONG_EXPECTED_REVISION' || code === 'APPEND_CONDITION_FAILED') continue;
        if (code === 'DUPLICATE_EVENT_ID') {
          // Either a concurrent writer recorded the same key (decide again: the repeat is then recognised),
          // or the key is taken in another stream (the same id again: a conflict).
          const eventId = (error as { eventId?: string }).eventId ?? '';
          if (duplicateSeen === eventId) {
            const field = KEY_FIELD[command.command];
            return E.left(
              reject(
                'IDEMPOTENCY_CONFLICT',
                `${field ?? 'The key'} ${JSON.stringify((command as Record<string, unknown>)[field ?? ''] ?? '')} is already used by another record`,
                field === undefined ? {} : { field },
              ),
            );
          }
          duplicateSeen = eventId;
          continue;
        }
        throw error;
      }
    }
    return E.left(
      reject(
        'CONCURRENCY_CONFLICT',
        `Other writers kept changing the streams of this ${command.command}; gave up after ${maxAttempts} attempts`,
      ),
    );
  };

  /** `owned`: the input is a fresh object that only the ledger holds (see decodeCommandOwned). */
  const executeInput =
    (input: unknown, owned: boolean): TE.TaskEither<LedgerRejection, Outcome> =>
    () => {
      // Decoded at once, when the task is run (not after an await): a caller may change its object later.
      let decoded: E.Either<LedgerRejection, LedgerCommand>;
      try {
        decoded = decodeCommandOwned(input, owned);
      } catch (error) {
        // As from an async task: a rejected promise, never a throw from the task itself.
        return Promise.reject(error);
      }
      if (E.isLeft(decoded)) return Promise.resolve(decoded);
      if (options.prepareCommand === undefined)
        return run(decoded.right, MONEY_COMMANDS.has(decoded.right.command));
      return prepareAndRun(decoded.right, options.prepareCommand);
    };

  const prepareAndRun = async (
    decodedCommand: LedgerCommand,
    prepare: NonNullable<LedgerOptions['prepareCommand']>,
  ): Promise<E.Either<LedgerRejection, Outcome>> => {
    const prepared = await prepare(decodedCommand);
    if (typeof prepared.command === 'string') {
      const command = prepared as LedgerCommand;
      return run(command, MONEY_COMMANDS.has(command.command));
    }
    const { command, settled } = prepared as PreparedCommand;
    let recorded = true;
    try {
      const outcome = await run(command, MONEY_COMMANDS.has(command.command));
      recorded = E.isRight(outcome);
      return outcome;
    } finally {
      await settled(recorded);
    }
  };

  const execute = (input: unknown): TE.TaskEither<LedgerRejection, Outcome> => executeInput(input, false);

  const handler =
    <N extends CommandName>(name: N): Handler<N> =>
    (input) =>
      executeInput({ ...(input as object), command: name }, true);

  const methods = Object.fromEntries(
    (Object.keys(planners) as CommandName[]).map((name) => [name, handler(name)]),
  ) as { [N in CommandName]: Handler<N> };
  return { ...methods, execute };
};
