import * as E from 'fp-ts/Either';
import { canonicalJson } from '@partner-ledger/events';
import type { EventData, PartnerStatus } from '@partner-ledger/events';
import { alreadyRecorded, append } from '../decider';
import type { Decider } from '../decider';
import { eventIdFor } from '../naming';
import { reject } from '../rejection';
import type { Resolved } from './common';
import { sameJson } from './common';

export type PartnerProfile = EventData<'PartnerJoined'>;

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
}

export const initialPartnerState: PartnerState = {
  revision: -1,
  joined: null,
  planId: null,
  tier: null,
  status: 'active',
  planHistory: [],
  statusHistory: [],
};

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
    return sameJson(state.joined.data, data) && (!command.atGiven || command.at === state.joined.at)
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
        break;
      case 'PartnerPlanChanged':
        draft.planId = event.data.planId;
        draft.planHistory.push({ from: event.occurredAt, planId: event.data.planId });
        break;
      case 'PartnerTierChanged':
        draft.tier = event.data.tier;
        break;
      case 'PartnerContactDetailsChanged':
        break;
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
      case 'changePartnerContactDetails': {
        const { partnerId, name, contactEmail, payee, taxId } = command;
        const data = {
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
        // The id is not derived from what the event says: a hash of personal data would outlive its erasure.
        return E.right(
          append({
            id: eventIdFor('PartnerContactDetailsChanged', partnerId, state.revision + 1),
            type: 'PartnerContactDetailsChanged',
            data,
            occurredAt: command.at,
          }),
        );
      }
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
