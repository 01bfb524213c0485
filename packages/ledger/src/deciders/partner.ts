import * as E from 'fp-ts/Either';
import { ERASED_MARKER, canonicalJson } from '@partner-ledger/events';
import type { EventData, PartnerStatus } from '@partner-ledger/events';
import { alreadyRecorded, append } from '../decider';
import type { Decider } from '../decider';
import { eventIdFor } from '../naming';
import { reject } from '../rejection';
import type { Resolved } from './common';
import { sameJson, sameTime } from './common';

export type PartnerProfile = EventData<'PartnerJoined'>;

/** The personal details a partner has now (as read: opened, or `[erased]`/`[sealed]` markers). */
export type ContactDetails = Pick<PartnerProfile, 'name' | 'contactEmail' | 'payee' | 'taxId'>;

/** A recorded change of contact details: what it said and when (for recognising a repeat). */
export interface ContactChange {
  readonly eventId: string;
  readonly data: EventData<'PartnerContactDetailsChanged'>;
  readonly at: string;
}

/** A partner's stream, `partner-<id>`: who it is, and its plan, tier and status over time. */
export interface PartnerState {
  readonly revision: number;
  readonly joined: { readonly data: PartnerProfile; readonly eventId: string; readonly at: string } | null;
  readonly planId: string | null;
  readonly tier: string | null;
  readonly status: PartnerStatus;
  /** Plan and status from each time on, oldest first: what was true when a touch or conversion happened. */
  readonly planHistory: readonly { readonly from: string; readonly planId: string }[];
  readonly statusHistory: readonly { readonly from: string; readonly status: PartnerStatus }[];
  /** The partner's contact details now: its joining details with each change applied. */
  readonly contact: ContactDetails | null;
  /** Each change of contact details, by event id, and the last one (to recognise a repeated command). */
  readonly contactChanges: Readonly<Record<string, ContactChange>>;
  readonly lastContactChange: string | null;
}

export const initialPartnerState: PartnerState = {
  revision: -1,
  joined: null,
  planId: null,
  tier: null,
  status: 'active',
  planHistory: [],
  statusHistory: [],
  contact: null,
  contactChanges: {},
  lastContactChange: null,
};

const CONTACT_FIELDS = ['name', 'contactEmail', 'payee', 'taxId'] as const;

/** The last entry of a history in effect at `at` (entries are in recording order; times may be out of order). */
const effectiveAt = <T extends { readonly from: string }>(
  history: readonly T[],
  at: string,
): T | undefined => {
  let found: T | undefined;
  for (const entry of history)
    if (entry.from <= at && (found === undefined || entry.from >= found.from)) found = entry;
  return found;
};

/** Whether the partner had joined and was active at `at`. */
export const wasActiveAt = (state: PartnerState, at: string): boolean =>
  state.joined !== null && state.joined.at <= at && effectiveAt(state.statusHistory, at)?.status === 'active';

/** The partner's plan at `at` (its plan when it joined, if `at` is earlier). */
export const planAt = (state: PartnerState, at: string): string | null =>
  effectiveAt(state.planHistory, at)?.planId ?? state.planHistory[0]?.planId ?? null;

export interface JoinFacts {
  /** Whether the plan has a published version. */
  readonly planPublished: boolean;
  /** Whether the parent partner (if any) has joined. */
  readonly parentJoined: boolean;
  /** Coupon codes already owned by other partners, by code. */
  readonly couponOwners: Readonly<Record<string, string>>;
}

export type PartnerCommand =
  | Resolved<'joinPartner', JoinFacts>
  | Resolved<'changePartnerPlan', { readonly planPublished: boolean }>
  | Resolved<'changePartnerTier'>
  | Resolved<'changePartnerContactDetails'>
  | Resolved<'changePartnerStatus'>;

const notFound = (partnerId: string) =>
  reject('PARTNER_NOT_FOUND', `No partner ${JSON.stringify(partnerId)} has joined the program`, {
    field: 'partnerId',
  });

/**
 * The join as given, with each personal field the recorded join holds as `[erased]` read the same way.
 * After an erasure the key that could compare those fields is gone (docs/privacy.md), so a repeat of the
 * join (the same file imported again) is recognised on every field that can still be compared, instead of
 * being refused as a join "with other details" that nobody can show to differ.
 */
const asErasedIn = (recorded: PartnerProfile, given: PartnerProfile): PartnerProfile => {
  const erased = (field: keyof ContactDetails) =>
    recorded[field] === ERASED_MARKER && given[field] !== undefined;
  const payee =
    recorded.payee !== undefined && given.payee !== undefined
      ? Object.fromEntries(
          Object.entries(given.payee).map(([key, value]) => [
            key,
            (recorded.payee as Record<string, unknown>)[key] === ERASED_MARKER ? ERASED_MARKER : value,
          ]),
        )
      : given.payee;
  return {
    ...given,
    ...(erased('name') ? { name: ERASED_MARKER } : {}),
    ...(erased('contactEmail') ? { contactEmail: ERASED_MARKER } : {}),
    ...(erased('taxId') ? { taxId: ERASED_MARKER } : {}),
    ...(payee === undefined ? {} : { payee: payee as PartnerProfile['payee'] }),
  };
};

const decideJoin = (command: Resolved<'joinPartner', JoinFacts>, state: PartnerState) => {
  const data: PartnerProfile = {
    partnerId: command.partnerId,
    name: command.name,
    partnerType: command.partnerType,
    planId: command.planId,
    parentPartnerId: command.parentPartnerId ?? null,
    payoutCurrency: command.payoutCurrency,
    couponCodes: command.couponCodes ?? [],
    ownAccountIds: command.ownAccountIds ?? [],
    ...(command.contactEmail === undefined ? {} : { contactEmail: command.contactEmail }),
    ...(command.payee === undefined ? {} : { payee: command.payee }),
    ...(command.taxId === undefined ? {} : { taxId: command.taxId }),
  };
  if (state.joined !== null) {
    return sameJson(state.joined.data, asErasedIn(state.joined.data, data)) &&
      (!command.atGiven || command.at === state.joined.at)
      ? E.right(alreadyRecorded(state.joined.eventId))
      : E.left(
          reject(
            'IDEMPOTENCY_CONFLICT',
            `Partner ${JSON.stringify(command.partnerId)} has already joined with other details`,
            { field: 'partnerId' },
          ),
        );
  }
  if (!command.facts.planPublished)
    return E.left(
      reject('PLAN_NOT_FOUND', `Plan ${JSON.stringify(command.planId)} has no published version`, {
        field: 'planId',
      }),
    );
  if (
    data.parentPartnerId !== null &&
    (data.parentPartnerId === data.partnerId || !command.facts.parentJoined)
  )
    return E.left(
      reject(
        'PARENT_PARTNER_NOT_FOUND',
        `Parent partner ${JSON.stringify(data.parentPartnerId)} has not joined the program (a partner cannot be its own parent)`,
        { field: 'parentPartnerId' },
      ),
    );
  const taken = data.couponCodes.findIndex((code) => {
    const owner = command.facts.couponOwners[code];
    return owner !== undefined && owner !== data.partnerId;
  });
  if (taken >= 0) {
    const code = data.couponCodes[taken]!;
    return E.left(
      reject(
        'COUPON_TAKEN',
        `Coupon code ${JSON.stringify(code)} already belongs to partner ${JSON.stringify(command.facts.couponOwners[code])}`,
        { field: `couponCodes[${taken}]`, rule: 'oneOwnerPerCoupon' },
      ),
    );
  }
  return E.right(
    append({
      id: eventIdFor('PartnerJoined', command.partnerId),
      type: 'PartnerJoined',
      data,
      occurredAt: command.at,
    }),
  );
};

/**
 * A change of contact details. Its identity: its requestId, else its occurredAt when the caller gave one,
 * else none (the event id then only has to be unique: the stream's next revision). Event ids are never
 * derived from the details themselves: a hash of personal data would outlive its erasure. A repeat of a
 * recorded change (by identity, or without one by repeating the partner's last change exactly) is already
 * recorded; a change to the details the partner already has is refused (NO_CHANGE).
 */
const decideContactChange = (command: Resolved<'changePartnerContactDetails'>, state: PartnerState) => {
  const { partnerId, name, contactEmail, payee, taxId } = command;
  const data: EventData<'PartnerContactDetailsChanged'> = {
    partnerId,
    ...(name === undefined ? {} : { name }),
    ...(contactEmail === undefined ? {} : { contactEmail }),
    ...(payee === undefined ? {} : { payee }),
    ...(taxId === undefined ? {} : { taxId }),
  };
  if (Object.keys(data).length === 1)
    return E.left(
      reject('NO_CHANGE', 'Give at least one of name, contactEmail, payee and taxId', {
        field: 'name',
      }),
    );
  const type = 'PartnerContactDetailsChanged';
  const identified = command.requestId !== undefined || command.atGiven;
  const id =
    command.requestId !== undefined
      ? eventIdFor(type, partnerId, 'request', command.requestId)
      : command.atGiven
        ? eventIdFor(type, partnerId, 'at', command.at)
        : eventIdFor(type, partnerId, state.revision + 1);
  const repeats = (change: ContactChange): boolean =>
    sameJson(change.data, data) && sameTime(command, change.at);
  const earlier = identified ? state.contactChanges[id] : undefined;
  if (earlier !== undefined)
    return repeats(earlier)
      ? E.right(alreadyRecorded(earlier.eventId))
      : E.left(
          reject(
            'IDEMPOTENCY_CONFLICT',
            command.requestId !== undefined
              ? `Contact details request ${JSON.stringify(command.requestId)} was recorded with other details`
              : `A change of partner ${JSON.stringify(partnerId)}'s contact details at ${command.at} was recorded with other details`,
            { field: command.requestId !== undefined ? 'requestId' : 'occurredAt' },
          ),
        );
  const last = state.lastContactChange === null ? undefined : state.contactChanges[state.lastContactChange];
  if (command.requestId === undefined && last !== undefined && repeats(last))
    return E.right(alreadyRecorded(last.eventId));
  const contact = (state.contact ?? {}) as Record<string, unknown>;
  const given = CONTACT_FIELDS.filter((field) => data[field] !== undefined);
  if (given.every((field) => contact[field] !== undefined && sameJson(contact[field], data[field])))
    return E.left(
      reject(
        'NO_CHANGE',
        `Partner ${JSON.stringify(partnerId)} already has these contact details (${given.join(', ')})`,
        { field: given[0]! },
      ),
    );
  return E.right(append({ id, type, data, occurredAt: command.at }));
};

/** The id of an event that has no natural key of its own: the stream's next revision and what it says. */
const keylessId = (type: string, partnerId: string, revision: number, data: unknown): string =>
  eventIdFor(type, partnerId, revision, canonicalJson(data));

export const partnerDecider: Decider<PartnerCommand, PartnerState> = {
  initialState: initialPartnerState,
  evolveDraft: (draft, event) => {
    switch (event.type) {
      case 'PartnerJoined':
        draft.joined = { data: event.data, eventId: event.id, at: event.occurredAt };
        draft.planId = event.data.planId;
        draft.status = 'active';
        draft.planHistory.push({ from: event.occurredAt, planId: event.data.planId });
        draft.statusHistory.push({ from: event.occurredAt, status: 'active' });
        draft.contact = {
          name: event.data.name,
          ...(event.data.contactEmail === undefined ? {} : { contactEmail: event.data.contactEmail }),
          ...(event.data.payee === undefined ? {} : { payee: event.data.payee }),
          ...(event.data.taxId === undefined ? {} : { taxId: event.data.taxId }),
        };
        break;
      case 'PartnerPlanChanged':
        draft.planId = event.data.planId;
        draft.planHistory.push({ from: event.occurredAt, planId: event.data.planId });
        break;
      case 'PartnerTierChanged':
        draft.tier = event.data.tier;
        break;
      case 'PartnerContactDetailsChanged': {
        const contact = draft.contact ?? { name: '' };
        for (const field of CONTACT_FIELDS)
          if (event.data[field] !== undefined)
            (contact as Record<string, unknown>)[field] = event.data[field];
        draft.contact = contact;
        draft.contactChanges[event.id] = { eventId: event.id, data: event.data, at: event.occurredAt };
        draft.lastContactChange = event.id;
        break;
      }
      case 'PartnerStatusChanged':
        draft.status = event.data.status;
        draft.statusHistory.push({ from: event.occurredAt, status: event.data.status });
        break;
      default:
        return;
    }
    draft.revision = event.revision;
  },
  decide: (command, state) => {
    if (command.command === 'joinPartner') return decideJoin(command, state);
    if (state.joined === null) return E.left(notFound(command.partnerId));
    switch (command.command) {
      case 'changePartnerPlan': {
        if (state.status === 'terminated')
          return E.left(
            reject('PARTNER_TERMINATED', `Partner ${JSON.stringify(command.partnerId)} has been terminated`, {
              field: 'partnerId',
            }),
          );
        if (!command.facts.planPublished)
          return E.left(
            reject('PLAN_NOT_FOUND', `Plan ${JSON.stringify(command.planId)} has no published version`, {
              field: 'planId',
            }),
          );
        if (command.planId === state.planId)
          return E.left(
            reject(
              'NO_CHANGE',
              `Partner ${JSON.stringify(command.partnerId)} is already on plan ${JSON.stringify(command.planId)}`,
              {
                field: 'planId',
              },
            ),
          );
        const data = { partnerId: command.partnerId, planId: command.planId, previousPlanId: state.planId! };
        return E.right(
          append({
            id: keylessId('PartnerPlanChanged', command.partnerId, state.revision + 1, data),
            type: 'PartnerPlanChanged',
            data,
            occurredAt: command.at,
          }),
        );
      }
      case 'changePartnerContactDetails':
        return decideContactChange(command, state);
      case 'changePartnerTier': {
        if (command.tier === state.tier)
          return E.left(
            reject(
              'NO_CHANGE',
              `Partner ${JSON.stringify(command.partnerId)} is already in tier ${JSON.stringify(command.tier)}`,
              {
                field: 'tier',
              },
            ),
          );
        const data = {
          partnerId: command.partnerId,
          tier: command.tier,
          previousTier: state.tier,
          reason: command.reason,
        };
        return E.right(
          append({
            id: keylessId('PartnerTierChanged', command.partnerId, state.revision + 1, data),
            type: 'PartnerTierChanged',
            data,
            occurredAt: command.at,
          }),
        );
      }
      case 'changePartnerStatus': {
        if (state.status === 'terminated')
          return E.left(
            reject(
              'PARTNER_TERMINATED',
              `Partner ${JSON.stringify(command.partnerId)} has been terminated: termination is final`,
              { field: 'status', rule: 'terminationIsFinal' },
            ),
          );
        if (command.status === state.status)
          return E.left(
            reject('NO_CHANGE', `Partner ${JSON.stringify(command.partnerId)} is already ${command.status}`, {
              field: 'status',
            }),
          );
        const data = {
          partnerId: command.partnerId,
          status: command.status,
          previousStatus: state.status,
          reason: command.reason,
        };
        return E.right(
          append({
            id: keylessId('PartnerStatusChanged', command.partnerId, state.revision + 1, data),
            type: 'PartnerStatusChanged',
            data,
            occurredAt: command.at,
          }),
        );
      }
    }
  },
};
