import * as E from 'fp-ts/Either';
import { LedgerDecimal } from '@partner-ledger/events';
import type { EventData } from '@partner-ledger/events';
import { alreadyRecorded, append } from '../decider';
import type { Decider } from '../decider';
import { eventIdFor } from '../naming';
import { reject } from '../rejection';
import type { LedgerRejection } from '../rejection';
import type { Resolved } from './common';
import { sameJson } from './common';

export type PlanVersionData = EventData<'CommissionPlanPublished'>;

/** A plan's stream, `plan-<id>`: its versions, in order. */
export interface PlanState {
  readonly revision: number;
  readonly versions: readonly { readonly data: PlanVersionData; readonly eventId: string }[];
}

/** The version in effect at `at`: the latest one whose effectiveFrom is at or before it. */
export const planVersionAt = (state: PlanState, at: string): PlanVersionData | undefined => {
  let found: PlanVersionData | undefined;
  for (const { data } of state.versions) if (data.effectiveFrom <= at) found = data;
  return found;
};

const invalid = (message: string, field: string): LedgerRejection =>
  reject('PLAN_INVALID', message, { field, rule: 'wellFormedPlan' });

/** Rules a plan must follow beyond its codec: tiers that climb (from any threshold), at most one rule per kind. */
const checkRules = (data: PlanVersionData): LedgerRejection | undefined => {
  if (data.rules.length === 0) return invalid('A plan needs at least one commission rule', 'rules');
  for (const [i, rule] of data.rules.entries()) {
    if (rule.kind !== 'tieredRevenueShare') continue;
    if (rule.tiers.length === 0) return invalid('A tiered rule needs at least one tier', `rules[${i}].tiers`);
    // The first tier may start above 0 (a ladder from 3 conversions): below it, lines earn at tier null, rate 0.
    for (let j = 1; j < rule.tiers.length; j += 1) {
      if (!new LedgerDecimal(rule.tiers[j]!.from).gt(rule.tiers[j - 1]!.from))
        return invalid(
          'Tiers must start from strictly increasing thresholds',
          `rules[${i}].tiers[${j}].from`,
        );
    }
  }
  return undefined;
};

export const planDecider: Decider<Resolved<'publishPlan'>, PlanState> = {
  initialState: { revision: -1, versions: [] },
  evolveDraft: (draft, event) => {
    if (event.type !== 'CommissionPlanPublished') return;
    draft.revision = event.revision;
    draft.versions.push({ data: event.data, eventId: event.id });
  },
  decide: (command, state) => {
    const data: PlanVersionData = {
      planId: command.planId,
      version: command.version,
      name: command.name,
      currency: command.currency,
      holdDays: command.holdDays,
      effectiveFrom: command.effectiveFrom,
      rules: command.rules,
      recurringMaxMonths: command.recurringMaxMonths ?? null,
      caps: command.caps ?? { perConversion: null, perPartnerPerPeriod: null },
      twoTierOverrideRate: command.twoTierOverrideRate ?? null,
    };
    const existing = state.versions.find((v) => v.data.version === command.version);
    if (existing !== undefined)
      return sameJson(existing.data, data)
        ? E.right(alreadyRecorded(existing.eventId))
        : E.left(
            reject(
              'IDEMPOTENCY_CONFLICT',
              `Version ${command.version} of plan ${JSON.stringify(command.planId)} was published with other content; publish a new version instead`,
              { field: 'version' },
            ),
          );
    const last = state.versions[state.versions.length - 1]?.data;
    const expected = (last?.version ?? 0) + 1;
    if (command.version !== expected)
      return E.left(
        reject(
          'PLAN_VERSION_OUT_OF_ORDER',
          `Plan ${JSON.stringify(command.planId)}: the next version is ${expected}, got ${command.version}`,
          {
            field: 'version',
            rule: 'versionsInOrder',
          },
        ),
      );
    // History is never re-rated: a new version takes effect after the one it replaces.
    if (last !== undefined && data.effectiveFrom <= last.effectiveFrom)
      return E.left(
        reject(
          'PLAN_EFFECTIVE_FROM_NOT_LATER',
          `Version ${command.version} must take effect after version ${last.version} (${last.effectiveFrom}), got ${data.effectiveFrom}`,
          { field: 'effectiveFrom', rule: 'noRetroactiveRating' },
        ),
      );
    const problem = checkRules(data);
    if (problem !== undefined) return E.left(problem);
    return E.right(
      append({
        id: eventIdFor('CommissionPlanPublished', command.planId, command.version),
        type: 'CommissionPlanPublished',
        data,
        occurredAt: command.at,
      }),
    );
  },
};
