import { newEvent } from '@partner-ledger/events';
import type { EventData, EventType, NewLedgerEvent, PartnerType } from '@partner-ledger/events';
import { convertMinor, divideHalfEven, formatMinor, parseRate, splitByWeights } from '../money';

/**
 * A small, deterministic stand-in for the write side, for tests and the benchmark: it turns actions
 * ("partner 3 clicks", "reverse half of conversion 7", "pay partner 2") into valid, consistent events of
 * the catalogue (credits that sum to the amount, lines reversed in proportion, payouts that never exceed
 * what is payable). It follows the rules of docs/attribution-and-commissions.md, but it is not the ledger
 * and decides nothing the projections test against: the property tests check the projections against
 * oracles computed from the events.
 */

export interface SimulatedEvent {
  readonly stream: string;
  readonly event: NewLedgerEvent;
}

export type Action =
  | { readonly kind: 'join'; readonly partnerType: PartnerType; readonly withParent: boolean }
  | { readonly kind: 'click'; readonly partner: number; readonly fraud: boolean; readonly lagHours: number }
  | { readonly kind: 'influence'; readonly partner: number; readonly account: number }
  | { readonly kind: 'deal'; readonly partner: number; readonly account: number }
  | {
      readonly kind: 'convert';
      readonly cents: number;
      readonly euro: boolean;
      readonly partners: readonly number[];
      readonly influencer: number | null;
      readonly renewal: boolean;
      readonly held: boolean;
      readonly lagHours: number;
    }
  | {
      readonly kind: 'reverse';
      readonly conversion: number;
      readonly full: boolean;
      readonly lagHours: number;
    }
  | { readonly kind: 'hold' | 'release' | 'reject'; readonly line: number }
  | { readonly kind: 'adjust'; readonly partner: number; readonly cents: number }
  | { readonly kind: 'payout'; readonly partner: number }
  | { readonly kind: 'failPayout'; readonly payout: number }
  | { readonly kind: 'advance'; readonly hours: number };

interface SimLine {
  readonly lineId: string;
  readonly partnerId: string;
  readonly conversionId: string;
  readonly amount: bigint;
  unreversed: bigint;
  remaining: bigint;
  readonly payableAt: string;
  held: boolean;
  closed: boolean;
}

interface SimConversion {
  readonly conversionId: string;
  readonly customerId: string;
  readonly currency: string;
  readonly amount: bigint;
  remaining: bigint;
  readonly credits: ReadonlyArray<{ partnerId: string; credit: bigint }>;
  readonly lines: SimLine[];
}

interface SimPartner {
  readonly partnerId: string;
  readonly parentPartnerId: string | null;
  /** accrued - reversed - paid + adjustments, USD minor units. */
  balance: bigint;
}

export interface SimulatorOptions {
  /** The first event's time. Default 2026-01-01T00:00:00.000Z. */
  readonly start?: string;
  /** The plan's hold period. Default 7 days. */
  readonly holdDays?: number;
  /** Drop settled and reversed state as it goes (the benchmark runs millions of actions). */
  readonly compact?: boolean;
  /** How far the clock moves per event. Default 1 second. */
  readonly stepMs?: number;
}

const HOUR = 3_600_000;
const EUR_USD = '1.0834';
const RATE = '0.1';
const OVERRIDE_RATE = '0.05';

export interface Simulator {
  /** Applies an action; actions that cannot apply (no such partner yet) are skipped. */
  run(action: Action): SimulatedEvent[];
  /** The events so far (unless compacting, when run's return value is the only copy). */
  readonly events: readonly SimulatedEvent[];
  readonly now: () => string;
}

export const createSimulator = (options: SimulatorOptions = {}): Simulator => {
  let now = Date.parse(options.start ?? '2026-01-01T00:00:00.000Z');
  const holdMs = (options.holdDays ?? 7) * 24 * HOUR;
  const compact = options.compact ?? false;
  const stepMs = options.stepMs ?? 1000;
  const partnerById = new Map<string, SimPartner>();
  const linesByPartner = new Map<string, SimLine[]>();
  const events: SimulatedEvent[] = [];
  let sequence = 0;
  let pending: SimulatedEvent[] = [];
  const partners: SimPartner[] = [];
  const conversions: SimConversion[] = [];
  const lines: SimLine[] = [];
  const payouts: Array<{
    payoutId: string;
    partner: SimPartner;
    amount: bigint;
    settled: Array<[SimLine, bigint]>;
    failed: boolean;
  }> = [];
  const latestPayout = new Map<string, (typeof payouts)[number]>();
  const iso = (ms: number): string => new Date(ms).toISOString();

  const emit = <T extends EventType>(stream: string, type: T, data: EventData<T>, lagHours = 0): void => {
    sequence += 1;
    now += stepMs;
    const event = newEvent(type, data, {
      id: `evt-${sequence}`,
      occurredAt: iso(now - lagHours * HOUR),
      recordedAt: iso(now),
      actor: 'test:simulator',
      correlationId: `corr-${sequence}`,
      causationId: null,
    }) as NewLedgerEvent;
    const simulated = { stream, event };
    pending.push(simulated);
    if (!compact) events.push(simulated);
  };

  const usd = (minor: bigint): string => formatMinor(minor, 'USD');

  const start = (): void => {
    emit('program', 'ProgramConfigured', {
      programId: 'program',
      name: 'Test program',
      currency: 'USD',
      attribution: {
        model: 'linear',
        clickWindowDays: 30,
        halfLifeDays: 7,
        precedence: ['dealRegistration', 'coupon', 'clicks'],
      },
      minimumPayout: '0.00',
      minClickToConversionSeconds: 0,
    });
    emit('plan-standard', 'CommissionPlanPublished', {
      planId: 'standard',
      version: 1,
      name: 'Standard',
      currency: 'USD',
      holdDays: Math.round(holdMs / (24 * HOUR)),
      effectiveFrom: iso(now),
      rules: [{ kind: 'revenueShare', rate: RATE }],
      recurringMaxMonths: null,
      caps: { perConversion: null, perPartnerPerPeriod: null },
      twoTierOverrideRate: OVERRIDE_RATE,
    });
  };

  const partnerAt = (index: number): SimPartner | undefined =>
    partners.length === 0 ? undefined : partners[index % partners.length];

  const openLines = (): SimLine[] => {
    if (compact && lines.length > 2000) lines.splice(0, lines.length - 2000);
    return lines.filter((l) => !l.closed);
  };

  const run = (action: Action): SimulatedEvent[] => {
    pending = [];
    if (sequence === 0) start();
    switch (action.kind) {
      case 'advance':
        now += action.hours * HOUR;
        break;
      case 'join': {
        const partnerId = `partner-${partners.length + 1}`;
        const parent = action.withParent ? partnerAt(partners.length * 7) : undefined;
        const partner = { partnerId, parentPartnerId: parent?.partnerId ?? null, balance: 0n };
        partners.push(partner);
        partnerById.set(partnerId, partner);
        linesByPartner.set(partnerId, []);
        emit(`partner-${partnerId}`, 'PartnerJoined', {
          partnerId,
          name: `Partner ${partners.length}`,
          partnerType: action.partnerType,
          planId: 'standard',
          parentPartnerId: parent?.partnerId ?? null,
          payoutCurrency: 'USD',
          couponCodes: [],
          ownAccountIds: [],
        });
        break;
      }
      case 'click': {
        const partner = partnerAt(action.partner);
        if (!partner) break;
        emit(
          `clicks-${partner.partnerId}`,
          'ClickTracked',
          {
            clickId: `click-${sequence + 1}`,
            partnerId: partner.partnerId,
            visitorId: `visitor-${sequence % 97}`,
            landing: { campaign: 'spring', url: 'https://vendor.example/pricing' },
            ipFingerprint: null,
            userAgentFingerprint: null,
            fraudReason: action.fraud ? 'datacenter IP' : null,
          },
          action.lagHours,
        );
        break;
      }
      case 'influence': {
        const partner = partnerAt(action.partner);
        if (!partner) break;
        emit(`account-${action.account}`, 'InfluenceTouchRecorded', {
          touchId: `touch-${sequence + 1}`,
          partnerId: partner.partnerId,
          accountId: `account-${action.account}`,
          kind: 'integrationInstalled',
          note: null,
        });
        break;
      }
      case 'deal': {
        const partner = partnerAt(action.partner);
        if (!partner) break;
        emit(`account-${action.account}`, 'DealRegistered', {
          registrationId: `registration-${sequence + 1}`,
          partnerId: partner.partnerId,
          accountId: `account-${action.account}`,
          expectedValue: '5000.00',
          currency: 'USD',
          expiresAt: iso(now + 90 * 24 * HOUR),
        });
        break;
      }
      case 'convert':
        convert(action);
        break;
      case 'reverse':
        reverse(action);
        break;
      case 'hold':
      case 'release':
      case 'reject': {
        const open = openLines().filter((l) => (action.kind === 'hold' ? !l.held : l.held));
        const line = open.length === 0 ? undefined : open[action.line % open.length];
        if (!line || line.remaining !== line.amount) break;
        const ref = { lineId: line.lineId, partnerId: line.partnerId, conversionId: line.conversionId };
        if (action.kind === 'hold') {
          line.held = true;
          emit(`conversion-${line.conversionId}`, 'CommissionHeld', { ...ref, reason: 'review' });
        } else if (action.kind === 'release') {
          line.held = false;
          emit(`conversion-${line.conversionId}`, 'CommissionReleased', { ...ref, note: null });
        } else {
          partnerById.get(line.partnerId)!.balance -= line.remaining;
          line.remaining = 0n;
          line.unreversed = 0n;
          line.closed = true;
          emit(`conversion-${line.conversionId}`, 'CommissionRejected', { ...ref, reason: 'fraud' });
        }
        break;
      }
      case 'adjust': {
        const partner = partnerAt(action.partner);
        if (!partner || action.cents === 0) break;
        partner.balance += BigInt(action.cents);
        emit(`balance-${partner.partnerId}`, 'ManualAdjustmentRecorded', {
          adjustmentId: `adjustment-${sequence + 1}`,
          partnerId: partner.partnerId,
          amount: usd(BigInt(action.cents)),
          currency: 'USD',
          reason: 'goodwill',
        });
        break;
      }
      case 'payout':
        payout(action.partner);
        break;
      case 'failPayout': {
        // A failure is reported before the partner's next payout: only a partner's latest payout can fail.
        const live = payouts.filter((p) => !p.failed && latestPayout.get(p.partner.partnerId) === p);
        const target = live.length === 0 ? undefined : live[action.payout % live.length];
        if (!target) break;
        target.failed = true;
        target.partner.balance += target.amount;
        for (const [line, amount] of target.settled) {
          // Owed again, but never more than what is left after reversals.
          const restored = line.remaining + amount;
          line.remaining = restored > line.unreversed ? line.unreversed : restored;
          line.closed = line.remaining === 0n;
        }
        emit(`balance-${target.partner.partnerId}`, 'PayoutFailed', {
          payoutId: target.payoutId,
          partnerId: target.partner.partnerId,
          amount: usd(target.amount),
          currency: 'USD',
          reason: 'bank rejected',
        });
        break;
      }
    }
    return pending;
  };

  const convert = (action: Extract<Action, { kind: 'convert' }>): void => {
    const conversionId = `conversion-${conversions.length + 1}`;
    const currency = action.euro ? 'EUR' : 'USD';
    const amount = BigInt(action.cents);
    const credited = [...new Set(action.partners.map((i) => partnerAt(i)).filter((p) => p !== undefined))];
    const shares =
      credited.length === 0
        ? []
        : splitByWeights(
            amount,
            credited.map(() => 1n),
          );
    const credits = credited.map((p, i) => ({ partnerId: p.partnerId, credit: shares[i]! }));
    const influencer = action.influencer === null ? undefined : partnerAt(action.influencer);
    const occurredMs = now + 1000 - action.lagHours * HOUR;
    const payableAt = iso(occurredMs + holdMs);
    const rate = parseRate(EUR_USD);
    const simLines: SimLine[] = [];
    const commissionLines: EventData<'ConversionAttributed'>['commissions'] = [];
    credits.forEach((c, i) => {
      const base = currency === 'USD' ? c.credit : convertMinor(c.credit, 'EUR', 'USD', rate);
      const lineAmount = divideHalfEven(base * 1n, 10n);
      const lineId = `${conversionId}-line-${i + 1}`;
      const held = action.held && i === 0;
      commissionLines.push({
        lineId,
        partnerId: c.partnerId,
        planId: 'standard',
        planVersion: 1,
        rule: 'revenueShare',
        tier: null,
        base: usd(base),
        rate: RATE,
        amount: usd(lineAmount),
        currency: 'USD',
        uncappedAmount: null,
        payableAt,
        status: held ? 'held' : 'pending',
        holdReason: held ? 'self-referral' : null,
        overrideOf: null,
      });
      simLines.push(simLine(lineId, c.partnerId, conversionId, lineAmount, payableAt, held));
      const parent = partnerById.get(c.partnerId)?.parentPartnerId;
      if (parent) {
        const overrideAmount = divideHalfEven(lineAmount * 5n, 100n);
        const overrideId = `${lineId}-override`;
        commissionLines.push({
          lineId: overrideId,
          partnerId: parent,
          planId: 'standard',
          planVersion: 1,
          rule: 'twoTierOverride',
          tier: null,
          base: usd(lineAmount),
          rate: OVERRIDE_RATE,
          amount: usd(overrideAmount),
          currency: 'USD',
          uncappedAmount: null,
          payableAt,
          status: 'pending',
          holdReason: null,
          overrideOf: lineId,
        });
        simLines.push(simLine(overrideId, parent, conversionId, overrideAmount, payableAt, false));
      }
    });
    for (const line of simLines) {
      partnerById.get(line.partnerId)!.balance += line.amount;
      linesByPartner.get(line.partnerId)!.push(line);
    }
    lines.push(...simLines);
    if (compact && lines.length > 4000) lines.splice(0, lines.length - 2000);
    const customerId = `customer-${(conversions.length * 31) % 211}`;
    conversions.push({
      conversionId,
      customerId,
      currency,
      amount,
      remaining: amount,
      credits,
      lines: simLines,
    });
    emit(
      `conversion-${conversionId}`,
      'ConversionAttributed',
      {
        conversionId,
        customerId,
        accountId: null,
        visitorId: null,
        kind: action.renewal ? 'renewal' : 'order',
        amount: formatMinor(amount, currency),
        currency,
        couponCode: null,
        attribution: {
          basis:
            action.renewal && credits.length > 0 ? 'customerBinding' : credits.length > 0 ? 'clicks' : 'none',
          model: 'linear',
          clickWindowDays: 30,
          halfLifeDays: 7,
          registrationId: null,
        },
        credits: credits.map((c, i) => ({
          partnerId: c.partnerId,
          weight: `1/${credits.length}`,
          revenueCredit: formatMinor(c.credit, currency),
          role: i === 0 ? ('sourced' as const) : ('influenced' as const),
          touchIds: [],
        })),
        influencers:
          influencer === undefined || credited.includes(influencer)
            ? []
            : [{ partnerId: influencer.partnerId, touchIds: [] }],
        fx:
          currency === 'USD'
            ? []
            : [{ from: 'EUR', to: 'USD', rate: EUR_USD, source: 'ECB', date: iso(occurredMs) }],
        commissions: commissionLines,
      },
      action.lagHours,
    );
  };

  const simLine = (
    lineId: string,
    partnerId: string,
    conversionId: string,
    amount: bigint,
    payableAt: string,
    held: boolean,
  ): SimLine => ({
    lineId,
    partnerId,
    conversionId,
    amount,
    unreversed: amount,
    remaining: amount,
    payableAt,
    held,
    closed: amount === 0n,
  });

  const reverse = (action: Extract<Action, { kind: 'reverse' }>): void => {
    // Compacting: pick among the latest conversions, as refunds mostly come soon after the sale.
    const open = compact
      ? conversions.slice(-500).filter((c) => c.remaining > 0n)
      : conversions.filter((c) => c.remaining > 0n);
    const conversion = open.length === 0 ? undefined : open[action.conversion % open.length];
    if (!conversion) return;
    const amount = action.full ? conversion.remaining : conversion.remaining / 2n;
    if (amount === 0n) return;
    const full = amount === conversion.remaining;
    const creditShares =
      conversion.credits.length === 0
        ? []
        : splitByWeights(
            amount,
            conversion.credits.map((c) => c.credit),
          );
    const reversedLines = conversion.lines
      .map((line) => {
        const take = full ? line.unreversed : (line.amount * amount) / conversion.amount;
        const reversed = take > line.unreversed ? line.unreversed : take;
        return { line, reversed };
      })
      .filter((r) => r.reversed > 0n);
    for (const { line, reversed } of reversedLines) {
      line.unreversed -= reversed;
      line.remaining -= reversed;
      if (line.remaining <= 0n) {
        line.remaining = 0n;
        line.closed = true;
      }
      partnerById.get(line.partnerId)!.balance -= reversed;
    }
    conversion.remaining -= amount;
    emit(
      `conversion-${conversion.conversionId}`,
      'ConversionReversed',
      {
        reversalId: `reversal-${sequence + 1}`,
        conversionId: conversion.conversionId,
        customerId: conversion.customerId,
        kind: 'refund',
        amount: formatMinor(amount, conversion.currency),
        currency: conversion.currency,
        credits: conversion.credits.map((c, i) => ({
          partnerId: c.partnerId,
          revenueCredit: formatMinor(creditShares[i]!, conversion.currency),
        })),
        lines: reversedLines.map(({ line, reversed }) => ({
          lineId: line.lineId,
          partnerId: line.partnerId,
          amount: usd(reversed),
          currency: 'USD',
        })),
        reason: null,
      },
      action.lagHours,
    );
    if (compact && conversion.remaining === 0n) conversions.splice(conversions.indexOf(conversion), 1);
  };

  const payout = (index: number): void => {
    const partner = partnerAt(index);
    if (!partner) return;
    const at = iso(now + 1000);
    const own = linesByPartner.get(partner.partnerId)!.filter((l) => !l.closed);
    const pendingOrHeld = own
      .filter((l) => l.held || l.payableAt > at)
      .reduce((sum, l) => sum + l.remaining, 0n);
    const payable = partner.balance - pendingOrHeld;
    const due = own.filter((l) => !l.held && l.payableAt <= at);
    let left = payable;
    const settled: Array<[SimLine, bigint]> = [];
    for (const line of due) {
      if (left <= 0n) break;
      const take = line.remaining < left ? line.remaining : left;
      settled.push([line, take]);
      left -= take;
    }
    const amount = settled.reduce((sum, [, take]) => sum + take, 0n);
    if (amount <= 0n) return;
    for (const [line, take] of settled) {
      line.remaining -= take;
      if (line.remaining === 0n) line.closed = true;
    }
    partner.balance -= amount;
    const payoutId = `payout-${payouts.length + 1}`;
    const record = { payoutId, partner, amount, settled, failed: false };
    payouts.push(record);
    latestPayout.set(partner.partnerId, record);
    if (compact) {
      // Keep only what later actions can still touch: open lines and the last few payouts.
      linesByPartner.set(
        partner.partnerId,
        own.filter((l) => !l.closed),
      );
      if (payouts.length > 64) payouts.splice(0, payouts.length - 64);
    }
    emit(`balance-${partner.partnerId}`, 'PayoutIssued', {
      payoutId,
      partnerId: partner.partnerId,
      amount: usd(amount),
      currency: 'USD',
      method: 'bankTransfer',
      externalReference: null,
      settles: settled.map(([line, take]) => ({ kind: 'commission', id: line.lineId, amount: usd(take) })),
    });
  };

  return { run, events, now: () => iso(now) };
};
