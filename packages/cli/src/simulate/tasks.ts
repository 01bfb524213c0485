// The scheduled work: what a conversion, a deal or a month end leaves to be done later (reviews, reversals,
// renewals, deal decisions, payouts), and doing it when its time comes.
import { fromMinorUnits, formatAmount } from '@partner-ledger/events';
import type { Ledger } from '@partner-ledger/ledger';
import { DAY, PROGRAM_CURRENCY, TIERS, fx, iso, plans } from './program';
import { isOutcome } from './world';
import type { AfterConversion, RunResult, SimulationWorld, Task } from './world';

const toMinor = (amount: string): bigint => BigInt(amount.replace('.', ''));

/** Schedules what follows a recorded conversion: reviews of held lines, reversals now and then, a hold. */
export const createAfterConversion = (world: SimulationWorld): AfterConversion => {
  const { random, tasks, now } = world;
  return (outcome: RunResult, conversionId: string, amount: string): void => {
    if (!isOutcome(outcome)) return;
    const attributed = outcome.events.find((e) => e.type === 'ConversionAttributed');
    if (attributed === undefined || attributed.type !== 'ConversionAttributed') return;
    for (const line of attributed.data.commissions)
      if (line.status === 'held')
        tasks.push(iso(now() + random.int(2, 12) * DAY), {
          kind: 'review',
          conversionId,
          lineId: line.lineId,
        });
    const roll = random.next();
    if (roll < 0.04)
      tasks.push(iso(now() + random.int(1, 40) * DAY), {
        kind: 'reverse',
        conversionId,
        reversal: 'refund',
        amount: random.chance(0.5)
          ? null
          : formatAmount(
              fromMinorUnits(toMinor(amount) / 2n, attributed.data.currency),
              attributed.data.currency,
            ),
      });
    else if (roll < 0.055)
      tasks.push(iso(now() + random.int(10, 60) * DAY), {
        kind: 'reverse',
        conversionId,
        reversal: 'chargeback',
        amount: null,
      });
    else if (roll < 0.06)
      tasks.push(iso(now() + random.int(1, 20) * DAY), {
        kind: 'reverse',
        conversionId,
        reversal: 'fraud',
        amount: null,
      });
    const pendingLine = attributed.data.commissions.find((l) => l.status === 'pending');
    if (pendingLine !== undefined && random.chance(0.01)) {
      tasks.push(iso(now() + 3_600_000), { kind: 'hold', conversionId, lineId: pendingLine.lineId });
    }
  };
};

/** Does one scheduled task at its time `at`. */
export const createTaskRunner = (
  world: SimulationWorld,
  afterConversion: AfterConversion,
): ((at: string, task: Task) => Promise<void>) => {
  const { random, run, tasks, next, tracker, partners, anyPartner, activeRegistration, startMs } = world;
  return async (at: string, task: Task): Promise<void> => {
    switch (task.kind) {
      case 'approveOrReject':
        if (random.chance(0.85)) {
          const outcome = await run('approveDealRegistration', {
            registrationId: task.registrationId,
            accountId: task.accountId,
            occurredAt: at,
          });
          if (!isOutcome(outcome)) return;
          if (random.chance(0.55))
            tasks.push(iso(Date.parse(at) + random.int(5, 50) * DAY), {
              kind: 'closeDeal',
              registrationId: task.registrationId,
              accountId: task.accountId,
              value: random.int(5_000, 80_000),
              expiresAt: task.expiresAt,
            });
          else
            tasks.push(iso(task.expiresAt + DAY), {
              kind: 'expire',
              registrationId: task.registrationId,
              accountId: task.accountId,
            });
        } else {
          await run('rejectDealRegistration', {
            registrationId: task.registrationId,
            accountId: task.accountId,
            reason: random.pick([
              'existing customer',
              'duplicate of a direct opportunity',
              'outside territory',
            ]),
            occurredAt: at,
          });
          activeRegistration.delete(task.accountId);
        }
        return;
      case 'closeDeal': {
        let expiresAt = task.expiresAt;
        if (random.chance(0.2)) {
          // The deal slipped: the partner asks for more time before it closes.
          expiresAt += 30 * DAY;
          await run('extendDealRegistration', {
            registrationId: task.registrationId,
            accountId: task.accountId,
            expiresAt: iso(expiresAt),
            occurredAt: at,
          });
        }
        tasks.push(iso(expiresAt + DAY), {
          kind: 'expire',
          registrationId: task.registrationId,
          accountId: task.accountId,
        });
        const amount = `${task.value}.00`;
        const conversionId = next('won');
        const outcome = await run('recordConversion', {
          conversionId,
          customerId: `customer-${task.accountId}`,
          accountId: task.accountId,
          kind: 'closedWon',
          amount,
          currency: PROGRAM_CURRENCY,
          fx: fx(PROGRAM_CURRENCY, at),
          occurredAt: at,
        });
        afterConversion(outcome, conversionId, amount);
        if (isOutcome(outcome) && random.chance(0.5))
          tasks.push(iso(Date.parse(at) + 30 * DAY), {
            kind: 'renew',
            subscription: {
              origin: conversionId,
              customerId: `customer-${task.accountId}`,
              amount: `${Math.round(task.value / 12)}.00`,
              currency: PROGRAM_CURRENCY,
              renewals: 0,
            },
          });
        return;
      }
      case 'expire':
        await run('expireDealRegistration', {
          registrationId: task.registrationId,
          accountId: task.accountId,
          occurredAt: at,
        });
        activeRegistration.delete(task.accountId);
        return;
      case 'renew': {
        const s = task.subscription;
        s.renewals += 1;
        const conversionId = `${s.origin}-renewal-${s.renewals}`;
        const outcome = await run('recordConversion', {
          conversionId,
          customerId: s.customerId,
          kind: 'renewal',
          amount: s.amount,
          currency: s.currency,
          fx: fx(s.currency, at),
          occurredAt: at,
        });
        afterConversion(outcome, conversionId, s.amount);
        // Churn: about one customer in ten leaves each month.
        if (random.chance(0.9))
          tasks.push(iso(Date.parse(at) + 30 * DAY), { kind: 'renew', subscription: s });
        return;
      }
      case 'reverse':
        await run('reverseConversion', {
          reversalId: next('reversal'),
          conversionId: task.conversionId,
          kind: task.reversal,
          ...(task.amount === null ? {} : { amount: task.amount }),
          reason:
            task.reversal === 'refund'
              ? 'customer asked for a refund'
              : task.reversal === 'chargeback'
                ? 'card chargeback'
                : 'stolen card: order flagged as fraud',
          occurredAt: at,
        });
        return;
      case 'hold': {
        const held = await run('holdCommission', {
          conversionId: task.conversionId,
          lineId: task.lineId,
          reason: 'manual review: unusual order pattern',
          occurredAt: at,
        });
        if (isOutcome(held))
          tasks.push(iso(Date.parse(at) + random.int(2, 10) * DAY), {
            kind: 'review',
            conversionId: task.conversionId,
            lineId: task.lineId,
          });
        return;
      }
      case 'review':
        if (random.chance(0.7))
          await run('releaseCommission', {
            conversionId: task.conversionId,
            lineId: task.lineId,
            note: 'reviewed: legitimate',
            occurredAt: at,
          });
        else
          await run('rejectCommission', {
            conversionId: task.conversionId,
            lineId: task.lineId,
            reason: 'reviewed: self-referral or click fraud',
            occurredAt: at,
          });
        return;
      case 'payouts': {
        tracker.matureUpTo(at);
        const month = at.slice(0, 7);
        for (const { partnerId, currency, minor } of tracker.balances()) {
          if (minor < 5_000n) continue; // the program's minimum payout, 50.00
          const payoutId = `payout-${partnerId}-${currency}-${month}`;
          const outcome = await run('issuePayout', {
            payoutId,
            partnerId,
            amount: formatAmount(fromMinorUnits(minor, currency), currency),
            currency,
            method: random.pick(['bankTransfer', 'paypal', 'wise', 'stripe'] as const),
            externalReference: `batch-${month}`,
            occurredAt: at,
          });
          if (isOutcome(outcome) && random.chance(0.03))
            tasks.push(iso(Date.parse(at) + random.int(2, 5) * DAY), {
              kind: 'payoutFailure',
              payoutId,
              partnerId,
            });
        }
        return;
      }
      case 'payoutFailure':
        await run('recordPayoutFailure', {
          payoutId: task.payoutId,
          partnerId: task.partnerId,
          reason: random.pick(['bank account closed', 'invalid IBAN', 'PayPal account limited']),
          occurredAt: at,
        });
        return;
      case 'reactivate': {
        const partner = partners.find((p) => p.id === task.partnerId);
        if (partner === undefined || !partner.suspended) return;
        partner.suspended = false;
        await run('changePartnerStatus', {
          partnerId: partner.id,
          status: 'active',
          reason: 'review passed',
          occurredAt: at,
        });
        return;
      }
      case 'monthEnd': {
        // The most active partners move up a tier (a label: plans decide rates).
        for (let i = 0; i < Math.min(3, partners.length); i += 1) {
          const partner = anyPartner();
          if (partner === undefined) return;
          if (partner.tier >= TIERS.length - 1) continue;
          partner.tier += 1;
          await run('changePartnerTier', {
            partnerId: partner.id,
            tier: TIERS[partner.tier]!,
            reason: `monthly review ${at.slice(0, 7)}`,
            occurredAt: at,
          });
        }
        return;
      }
      case 'publishPlanV2': {
        // A better rate from now on; what was earned under version 1 is never re-rated.
        const [, share] = plans(iso(startMs - 30 * DAY));
        await run('publishPlan', {
          ...share,
          version: 2,
          effectiveFrom: at,
          rules: [{ kind: 'revenueShare', rate: '0.25' }],
          occurredAt: at,
        } as Parameters<Ledger['publishPlan']>[0]);
        return;
      }
    }
  };
};
