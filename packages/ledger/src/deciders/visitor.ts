import * as E from 'fp-ts/Either';
import type { EventData } from '@partner-ledger/events';
import { alreadyRecorded, append } from '../decider';
import type { Decider } from '../decider';
import { eventIdFor } from '../naming';
import { reject } from '../rejection';
import type { Resolved } from './common';
import { sameJson, sameTime } from './common';

export type ClickData = EventData<'ClickTracked'>;

/** A visitor's stream, `visitor-<id>`: its clicks, by click id. */
export interface VisitorState {
  readonly revision: number;
  readonly clicks: Readonly<
    Record<string, { readonly data: ClickData; readonly at: string; readonly eventId: string }>
  >;
}

export type TrackClickCommand = Resolved<'trackClick', { readonly partnerJoined: boolean }>;

export const visitorDecider: Decider<TrackClickCommand, VisitorState> = {
  initialState: { revision: -1, clicks: {} },
  evolveDraft: (draft, event) => {
    if (event.type !== 'ClickTracked') return;
    draft.revision = event.revision;
    // A click id is recorded once; the ledger never appends a second one, so the first stays.
    draft.clicks[event.data.clickId] ??= { data: event.data, at: event.occurredAt, eventId: event.id };
  },
  // Returning visitors' streams are folded again and again, a click or two at a time: without a draft.
  evolve: (state, event) => {
    if (event.type !== 'ClickTracked') return state;
    const { clickId } = event.data;
    return {
      revision: event.revision,
      clicks:
        state.clicks[clickId] !== undefined
          ? state.clicks
          : { ...state.clicks, [clickId]: { data: event.data, at: event.occurredAt, eventId: event.id } },
    };
  },
  decide: (command, state) => {
    const data: ClickData = {
      clickId: command.clickId,
      partnerId: command.partnerId,
      visitorId: command.visitorId,
      landing: { campaign: command.campaign ?? null, url: command.url ?? null },
      ipFingerprint: command.ipFingerprint ?? null,
      userAgentFingerprint: command.userAgentFingerprint ?? null,
      fraudReason: command.fraudReason ?? null,
    };
    // A duplicate click id is never a second touch: the same click again is a repeat, anything else under
    // its id is refused (click stuffing replays ids).
    const existing = state.clicks[command.clickId];
    if (existing !== undefined)
      return sameJson(existing.data, data) && sameTime(command, existing.at)
        ? E.right(alreadyRecorded(existing.eventId))
        : E.left(
            reject(
              'IDEMPOTENCY_CONFLICT',
              `Click ${JSON.stringify(command.clickId)} was already tracked with other details`,
              {
                field: 'clickId',
                rule: 'duplicateClickIdsIgnored',
              },
            ),
          );
    if (!command.facts.partnerJoined)
      return E.left(
        reject(
          'PARTNER_NOT_FOUND',
          `No partner ${JSON.stringify(command.partnerId)} has joined the program`,
          {
            field: 'partnerId',
          },
        ),
      );
    return E.right(
      append({
        id: eventIdFor('ClickTracked', command.clickId),
        type: 'ClickTracked',
        data,
        occurredAt: command.at,
      }),
    );
  },
};
