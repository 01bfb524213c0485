import * as E from 'fp-ts/Either';
import type { EventData } from '@partner-ledger/events';
import { alreadyRecorded, append } from '../decider';
import type { Decider } from '../decider';
import { eventIdFor } from '../naming';
import { reject } from '../rejection';
import type { Resolved } from './common';
import { sameJson, sameTime } from './common';

export type RegistrationStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface Registration {
  readonly data: EventData<'DealRegistered'>;
  readonly registeredAt: string;
  readonly eventId: string;
  readonly status: RegistrationStatus;
  readonly expiresAt: string;
  /** The event that closed or last changed it, for repeats of approve, reject, extend and expire. */
  readonly lastChange: { readonly eventId: string; readonly detail: string } | null;
}

export interface InfluenceTouch {
  readonly data: EventData<'InfluenceTouchRecorded'>;
  readonly at: string;
  readonly eventId: string;
}

/**
 * An account's stream, `account-<id>`: its deal registrations and the influence touches on it. One stream
 * per account makes "one active registration per account" a single-stream decision.
 */
export interface AccountState {
  readonly revision: number;
  readonly registrations: Readonly<Record<string, Registration>>;
  readonly influence: Readonly<Record<string, InfluenceTouch>>;
}

/** Open (pending or approved) and not past its expiry at `at`. */
export const isActiveRegistration = (r: Registration, at: string): boolean =>
  (r.status === 'pending' || r.status === 'approved') && r.expiresAt > at;

export type AccountCommand =
  | Resolved<'registerDeal', { readonly partnerStatus: 'active' | 'inactive' | 'unknown' }>
  | Resolved<'approveDealRegistration'>
  | Resolved<'rejectDealRegistration'>
  | Resolved<'extendDealRegistration'>
  | Resolved<'expireDealRegistration'>
  | Resolved<'recordInfluenceTouch', { readonly partnerJoined: boolean }>;

const partnerNotFound = (partnerId: string) =>
  reject('PARTNER_NOT_FOUND', `No partner ${JSON.stringify(partnerId)} has joined the program`, {
    field: 'partnerId',
  });

const refs = (r: Registration) => ({
  registrationId: r.data.registrationId,
  partnerId: r.data.partnerId,
  accountId: r.data.accountId,
});

export const accountDecider: Decider<AccountCommand, AccountState> = {
  initialState: { revision: -1, registrations: {}, influence: {} },
  evolveDraft: (draft, event) => {
    const registration =
      'registrationId' in event.data ? draft.registrations[event.data.registrationId] : undefined;
    switch (event.type) {
      case 'InfluenceTouchRecorded':
        draft.influence[event.data.touchId] ??= { data: event.data, at: event.occurredAt, eventId: event.id };
        break;
      case 'DealRegistered':
        draft.registrations[event.data.registrationId] ??= {
          data: event.data,
          registeredAt: event.occurredAt,
          eventId: event.id,
          status: 'pending',
          expiresAt: event.data.expiresAt,
          lastChange: null,
        };
        break;
      case 'DealRegistrationApproved':
        if (registration) {
          registration.status = 'approved';
          registration.lastChange = { eventId: event.id, detail: 'approved' };
        }
        break;
      case 'DealRegistrationRejected':
        if (registration) {
          registration.status = 'rejected';
          registration.lastChange = { eventId: event.id, detail: `rejected:${event.data.reason}` };
        }
        break;
      case 'DealRegistrationExtended':
        if (registration) {
          registration.expiresAt = event.data.expiresAt;
          registration.lastChange = { eventId: event.id, detail: `extended:${event.data.expiresAt}` };
        }
        break;
      case 'DealRegistrationExpired':
        if (registration) {
          registration.status = 'expired';
          registration.lastChange = { eventId: event.id, detail: 'expired' };
        }
        break;
      default:
        return;
    }
    draft.revision = event.revision;
  },
  decide: (command, state) => {
    if (command.command === 'recordInfluenceTouch') {
      const data = {
        touchId: command.touchId,
        partnerId: command.partnerId,
        accountId: command.accountId,
        kind: command.kind,
        note: command.note ?? null,
      };
      const existing = state.influence[command.touchId];
      if (existing !== undefined)
        return sameJson(existing.data, data) && sameTime(command, existing.at)
          ? E.right(alreadyRecorded(existing.eventId))
          : E.left(
              reject(
                'IDEMPOTENCY_CONFLICT',
                `Influence touch ${JSON.stringify(command.touchId)} was recorded with other details`,
                {
                  field: 'touchId',
                },
              ),
            );
      if (!command.facts.partnerJoined) return E.left(partnerNotFound(command.partnerId));
      return E.right(
        append({
          id: eventIdFor('InfluenceTouchRecorded', command.touchId),
          type: 'InfluenceTouchRecorded',
          data,
          occurredAt: command.at,
        }),
      );
    }
    if (command.command === 'registerDeal') {
      const data = {
        registrationId: command.registrationId,
        partnerId: command.partnerId,
        accountId: command.accountId,
        expectedValue: command.expectedValue,
        currency: command.currency,
        expiresAt: command.expiresAt,
      };
      const existing = state.registrations[command.registrationId];
      if (existing !== undefined)
        return sameJson(existing.data, data) && sameTime(command, existing.registeredAt)
          ? E.right(alreadyRecorded(existing.eventId))
          : E.left(
              reject(
                'IDEMPOTENCY_CONFLICT',
                `Registration ${JSON.stringify(command.registrationId)} was made with other details`,
                { field: 'registrationId' },
              ),
            );
      if (command.facts.partnerStatus === 'unknown') return E.left(partnerNotFound(command.partnerId));
      if (command.facts.partnerStatus === 'inactive')
        return E.left(
          reject('PARTNER_NOT_ACTIVE', `Partner ${JSON.stringify(command.partnerId)} is not active`, {
            field: 'partnerId',
          }),
        );
      if (command.expiresAt <= command.at)
        return E.left(
          reject(
            'EXPIRY_NOT_LATER',
            `A registration must expire after it is made (${command.at}), got ${command.expiresAt}`,
            {
              field: 'expiresAt',
            },
          ),
        );
      const holder = Object.values(state.registrations).find((r) => isActiveRegistration(r, command.at));
      if (holder !== undefined)
        return E.left(
          reject(
            'REGISTRATION_CONFLICT',
            `Account ${JSON.stringify(command.accountId)} is already registered by partner ${JSON.stringify(holder.data.partnerId)} (registration ${JSON.stringify(holder.data.registrationId)}, ${holder.status}, until ${holder.expiresAt})`,
            { field: 'accountId', rule: 'oneActiveRegistrationPerAccount' },
          ),
        );
      return E.right(
        append({
          id: eventIdFor('DealRegistered', command.registrationId),
          type: 'DealRegistered',
          data,
          occurredAt: command.at,
        }),
      );
    }

    const registration = state.registrations[command.registrationId];
    if (registration === undefined)
      return E.left(
        reject(
          'REGISTRATION_NOT_FOUND',
          `No registration ${JSON.stringify(command.registrationId)} for account ${JSON.stringify(command.accountId)}`,
          { field: 'registrationId' },
        ),
      );
    const closed = () =>
      E.left(
        reject(
          'REGISTRATION_CLOSED',
          `Registration ${JSON.stringify(command.registrationId)} is ${registration.status}`,
          {
            field: 'registrationId',
          },
        ),
      );
    const expired = () =>
      E.left(
        reject(
          'REGISTRATION_EXPIRED',
          `Registration ${JSON.stringify(command.registrationId)} expired at ${registration.expiresAt}`,
          { field: 'registrationId', rule: 'registrationExpiry' },
        ),
      );
    const repeatOf = (detail: string) =>
      registration.lastChange?.detail === detail ? registration.lastChange.eventId : undefined;

    switch (command.command) {
      case 'approveDealRegistration': {
        const repeat = repeatOf('approved');
        if (registration.status === 'approved' && repeat !== undefined)
          return E.right(alreadyRecorded(repeat));
        if (registration.status !== 'pending') return closed();
        if (registration.expiresAt <= command.at) return expired();
        return E.right(
          append({
            id: eventIdFor('DealRegistrationApproved', command.registrationId),
            type: 'DealRegistrationApproved',
            data: refs(registration),
            occurredAt: command.at,
          }),
        );
      }
      case 'rejectDealRegistration': {
        const repeat = repeatOf(`rejected:${command.reason}`);
        if (registration.status === 'rejected' && repeat !== undefined)
          return E.right(alreadyRecorded(repeat));
        if (registration.status === 'rejected' || registration.status === 'expired') return closed();
        if (registration.status !== 'pending')
          return E.left(
            reject(
              'REGISTRATION_NOT_PENDING',
              `Registration ${JSON.stringify(command.registrationId)} is ${registration.status}: only a pending registration can be rejected`,
              { field: 'registrationId' },
            ),
          );
        return E.right(
          append({
            id: eventIdFor('DealRegistrationRejected', command.registrationId),
            type: 'DealRegistrationRejected',
            data: { ...refs(registration), reason: command.reason },
            occurredAt: command.at,
          }),
        );
      }
      case 'extendDealRegistration': {
        const repeat = repeatOf(`extended:${command.expiresAt}`);
        if (repeat !== undefined && registration.expiresAt === command.expiresAt)
          return E.right(alreadyRecorded(repeat));
        if (registration.status === 'rejected' || registration.status === 'expired') return closed();
        if (registration.expiresAt <= command.at) return expired();
        if (command.expiresAt <= registration.expiresAt)
          return E.left(
            reject(
              'EXPIRY_NOT_LATER',
              `An extension must move the expiry later than ${registration.expiresAt}, got ${command.expiresAt}`,
              { field: 'expiresAt' },
            ),
          );
        return E.right(
          append({
            id: eventIdFor('DealRegistrationExtended', command.registrationId, command.expiresAt),
            type: 'DealRegistrationExtended',
            data: {
              ...refs(registration),
              previousExpiresAt: registration.expiresAt,
              expiresAt: command.expiresAt,
            },
            occurredAt: command.at,
          }),
        );
      }
      case 'expireDealRegistration': {
        const repeat = repeatOf('expired');
        if (registration.status === 'expired' && repeat !== undefined)
          return E.right(alreadyRecorded(repeat));
        if (registration.status === 'rejected') return closed();
        if (registration.expiresAt > command.at)
          return E.left(
            reject(
              'REGISTRATION_NOT_EXPIRED',
              `Registration ${JSON.stringify(command.registrationId)} runs until ${registration.expiresAt}`,
              { field: 'registrationId', rule: 'registrationExpiry' },
            ),
          );
        return E.right(
          append({
            id: eventIdFor('DealRegistrationExpired', command.registrationId),
            type: 'DealRegistrationExpired',
            data: refs(registration),
            occurredAt: command.at,
          }),
        );
      }
    }
  },
};
