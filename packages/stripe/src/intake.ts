import * as E from 'fp-ts/Either';
import type Stripe from 'stripe';
import { LedgerDecimal, decodeStoredEvent, formatAmount } from '@partner-ledger/events';
import type { CurrencyCode, EventData } from '@partner-ledger/events';
import { streams } from '@partner-ledger/ledger';
import type { CommandInput, Ledger, LedgerRejection, Outcome } from '@partner-ledger/ledger';
import type { EventStore } from '@partner-ledger/store';
import { fromStripeAmount } from './amounts';
import type { LedgerMoney } from './amounts';
import { cachedLookups, noLookups } from './lookups';
import type { StripeLookups } from './lookups';

/**
 * What handling one Stripe event came to, and so the webhook's answer:
 * - `recorded` (200): the ledger appended its facts; `alreadyRecorded` (200): they were already there (a
 *   duplicate delivery, or a second Event for the same change); `ignored` (200): nothing to record (an event
 *   type the intake does not use, a dispute inquiry, a subscription-mode checkout); `noted` (200): nothing
 *   recorded, but the intake learnt a link (an InvoicePayment's charge and invoice).
 * - `notYet` (409): it depends on a fact not recorded yet (a refund or dispute before its invoice or order):
 *   nothing recorded; Stripe delivers it again later.
 * - `malformed` (400): a field the intake needs is missing or not of its form; nothing recorded.
 * - `refused` (422): the ledger refused the command (a missing exchange rate, a program not configured,
 *   ...); nothing recorded, the rejection names its code and field.
 */
export type IntakeOutcome =
  | {
      readonly kind: 'recorded' | 'alreadyRecorded' | 'ignored' | 'noted' | 'notYet';
      readonly message: string;
    }
  | { readonly kind: 'malformed'; readonly field: string; readonly message: string }
  | { readonly kind: 'refused'; readonly rejection: LedgerRejection; readonly message: string };

/** The metadata keys (on Checkout Sessions, subscriptions and invoices) that carry the attribution keys. */
export interface AttributionKeys {
  /** Default `partner_ledger_visitor_id`. A Checkout Session's `client_reference_id` is used when absent. */
  readonly visitorId: string;
  /** Default `partner_ledger_click_id`: resolved to its visitor by the `visitorOfClick` option. */
  readonly clickId: string;
  /** Default `partner_ledger_account_id`: the customer account that influence touches and deals name. */
  readonly accountId: string;
}

/** The default metadata keys of {@link AttributionKeys}. */
export const DEFAULT_ATTRIBUTION_KEYS: AttributionKeys = {
  visitorId: 'partner_ledger_visitor_id',
  clickId: 'partner_ledger_click_id',
  accountId: 'partner_ledger_account_id',
};

/** What {@link createStripeIntake} takes: the ledger and its store (required), and the rest with defaults. */
export interface StripeIntakeOptions {
  /** The ledger the intake records conversions, reversals and adjustments with. */
  readonly ledger: Ledger;
  /** The ledger's store: the intake reads a conversion's stream to know what was already reversed. */
  readonly store: EventStore;
  /**
   * Questions for Stripe's API (promotion code texts, an invoice's discounts, a payment's invoice), cached
   * by the intake. Production: `stripeLookups(stripe)`. Default: none: an event that names a discount or
   * promotion code fails (the webhook answers 500 and Stripe retries), and a refund or dispute finds its
   * invoice only through an `invoice_payment.paid` seen by this process.
   */
  readonly lookups?: StripeLookups;
  /** The metadata keys of the attribution keys. Default {@link DEFAULT_ATTRIBUTION_KEYS}. */
  readonly attributionKeys?: AttributionKeys;
  /** The visitor a click id belongs to (your click tracker knows), for metadata that has a click id only. */
  readonly visitorOfClick?: (clickId: string) => Promise<string | null>;
  /**
   * The exchange rates a conversion needs into plan currencies other than its own (the ledger refuses it
   * with FX_RATE_MISSING otherwise). Default: none.
   */
  readonly fx?: (conversion: {
    readonly currency: CurrencyCode;
    readonly occurredAt: string;
  }) => Promise<NonNullable<CommandInput<'recordConversion'>['fx']>>;
  /** The actor of the events the intake records. Default `service:stripe`. */
  readonly actor?: string;
}

/**
 * What `handle` takes: the fields every `Stripe.Event` has. Typed by its shape rather than as `Stripe.Event`
 * because an ES-module project gets the `stripe` package's ES-module typings, which TypeScript holds
 * distinct from (and not assignable to) the CommonJS ones this package is compiled against. The fields
 * are checked when the event is handled (a malformed event is answered `malformed`, naming the field), and
 * `data.object` is read as the Stripe object its `type` says.
 */
export interface StripeEventLike {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly data: { readonly object: object };
}

/** The intake of Stripe events: verified events in, ledger facts out. Made by {@link createStripeIntake}. */
export interface StripeIntake {
  /**
   * Handles one verified event (as `stripe.webhooks.constructEvent` returns it). Resolves with what it came
   * to; rejects only on an I/O fault (the store or a lookup failed): then nothing may be assumed recorded,
   * and Stripe should deliver the event again.
   */
  readonly handle: (event: StripeEventLike) => Promise<IntakeOutcome>;
}

/** The prefix of every id the intake derives: `stripe:in_...`, `stripe:refund:ch_...:500`. */
const ID = 'stripe';

/** The conversion id of an invoice (`stripe:in_...`) or of a one-off order (`stripe:pi_...` or `stripe:cs_...`). */
export const conversionIdOf = (stripeId: string): string => `${ID}:${stripeId}`;

const idOf = (value: string | { readonly id: string } | null | undefined): string | null =>
  value === null || value === undefined ? null : typeof value === 'string' ? value : value.id;

const isoOf = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isUnixSeconds = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

type Metadata = Readonly<Record<string, string>>;

interface ConversionSeen {
  readonly conversionId: string;
  readonly attributed: EventData<'ConversionAttributed'>;
  readonly reversals: readonly EventData<'ConversionReversed'>[];
  /** The commission lines rejected on review: they never pay, so a won dispute gives nothing back for them. */
  readonly rejectedLines: ReadonlySet<string>;
  /** What is left of the conversion, in its currency. */
  readonly remaining: LedgerDecimal;
}

const malformed = (field: string, message: string): IntakeOutcome => ({ kind: 'malformed', field, message });
const outcome = (kind: 'recorded' | 'alreadyRecorded' | 'ignored' | 'noted' | 'notYet', message: string) =>
  ({ kind, message }) as IntakeOutcome;

/** The billing reasons of an invoice that renews a subscription (any other is a first or one-off invoice). */
const RENEWAL_REASONS: ReadonlySet<string> = new Set([
  'subscription_cycle',
  'subscription_update',
  'subscription_threshold',
  'subscription',
]);

/** How many handled event ids the intake remembers, so that a duplicate delivery reads nothing. */
const SEEN_EVENTS = 10_000;

/**
 * Makes the intake of Stripe events (API version `Stripe.API_VERSION` of the `stripe` package it is built
 * on; docs/payments.md has the mapping):
 * - `invoice.paid`: a conversion `stripe:<invoice id>` of its `amount_paid`; of kind `invoice` for the
 *   first invoice of a subscription (`billing_reason` `subscription_create`) or a one-off invoice,
 *   `renewal` for the later ones. Attribution keys from the invoice's metadata over its subscription's
 *   (`parent.subscription_details.metadata`).
 * - `checkout.session.completed` (and `checkout.session.async_payment_succeeded`) in `payment` mode, paid,
 *   without an invoice of its own: a one-off order `stripe:<payment intent id>`, with `client_reference_id`
 *   as the visitor id unless the metadata names one.
 * - `invoice_payment.paid`: the link from a payment (PaymentIntent, charge) to the invoice it paid.
 * - `charge.refunded`: reverses (kind refund) the difference between the charge's cumulative
 *   `amount_refunded` and what was already reversed for that charge, as `stripe:refund:<charge>:<cumulative>`.
 * - `charge.dispute.created` / `charge.dispute.closed`: an inquiry (`warning_*`) or a prevented dispute
 *   records nothing; a dispute is a chargeback `stripe:dispute:<dispute id>`; a dispute closed as `won`
 *   gives each partner back what the chargeback took from its commission, as manual adjustments.
 */
export const createStripeIntake = (options: StripeIntakeOptions): StripeIntake => {
  const { ledger, store } = options;
  const lookups = cachedLookups(options.lookups ?? noLookups);
  const keys = options.attributionKeys ?? DEFAULT_ATTRIBUTION_KEYS;
  const actor = options.actor ?? 'service:stripe';
  /** Payment (PaymentIntent or charge id) -> invoice id, from `invoice_payment.paid`. */
  const links = new Map<string, string>();
  const handled = new Map<string, IntakeOutcome>();

  const remember = (eventId: string, result: IntakeOutcome): IntakeOutcome => {
    if (result.kind === 'recorded' || result.kind === 'alreadyRecorded' || result.kind === 'ignored') {
      handled.set(eventId, result);
      if (handled.size > SEEN_EVENTS) handled.delete(handled.keys().next().value!);
    }
    return result;
  };

  const readConversion = async (conversionId: string): Promise<ConversionSeen | null> => {
    let attributed: EventData<'ConversionAttributed'> | null = null;
    const reversals: EventData<'ConversionReversed'>[] = [];
    const rejectedLines = new Set<string>();
    for await (const stored of store.readStream(streams.conversion(conversionId))) {
      const event = decodeStoredEvent(stored);
      if (event.type === 'ConversionAttributed') attributed = event.data;
      else if (event.type === 'ConversionReversed') reversals.push(event.data);
      else if (event.type === 'CommissionRejected') rejectedLines.add(event.data.lineId);
    }
    if (attributed === null) return null;
    const reversed = reversals.reduce((sum, r) => sum.plus(r.amount), new LedgerDecimal(0));
    return {
      conversionId,
      attributed,
      reversals,
      rejectedLines,
      remaining: new LedgerDecimal(attributed.amount).minus(reversed),
    };
  };

  /** The conversion a payment belongs to: its own one-off order, or the invoice it paid. */
  const conversionOfPayment = async (
    chargeId: string | null,
    paymentIntentId: string | null,
  ): Promise<ConversionSeen | null> => {
    if (paymentIntentId !== null) {
      const order = await readConversion(conversionIdOf(paymentIntentId));
      if (order !== null) return order;
    }
    const linked =
      (paymentIntentId !== null ? links.get(paymentIntentId) : undefined) ??
      (chargeId !== null ? links.get(chargeId) : undefined) ??
      (paymentIntentId !== null ? await lookups.invoiceOfPaymentIntent(paymentIntentId) : null);
    return linked === null || linked === undefined ? null : readConversion(conversionIdOf(linked));
  };

  /** A ledger command's result as an outcome. */
  const settle = (result: E.Either<LedgerRejection, Outcome>, what: string): IntakeOutcome => {
    if (E.isRight(result))
      return result.right.alreadyRecorded
        ? outcome('alreadyRecorded', `${what}: already recorded`)
        : outcome('recorded', `${what}: recorded`);
    const rejection = result.left;
    if (rejection.code === 'CONVERSION_NOT_FOUND' || rejection.code === 'CONCURRENCY_CONFLICT')
      return outcome('notYet', `${what}: ${rejection.message}`);
    return { kind: 'refused', rejection, message: `${what}: ${rejection.code}: ${rejection.message}` };
  };

  const attribution = async (
    metadata: Metadata,
    clientReferenceId: string | null,
  ): Promise<{ visitorId: string | null; accountId: string | null }> => {
    const clickId = metadata[keys.clickId] ?? null;
    const visitorId =
      metadata[keys.visitorId] ??
      clientReferenceId ??
      (clickId !== null && options.visitorOfClick !== undefined
        ? await options.visitorOfClick(clickId)
        : null);
    return { visitorId, accountId: metadata[keys.accountId] ?? null };
  };

  /** The text of the first promotion code among ids, or null. */
  const couponOf = async (promotionCodeIds: readonly string[]): Promise<string | null> => {
    for (const id of promotionCodeIds) {
      const text = await lookups.promotionCodeText(id);
      if (text !== null) return text;
    }
    return null;
  };

  const recordConversion = async (
    what: string,
    input: Omit<CommandInput<'recordConversion'>, 'fx'>,
    causationId: string,
  ): Promise<IntakeOutcome> => {
    const existing = await readConversion(input.conversionId);
    if (existing !== null) return outcome('alreadyRecorded', `${what}: already recorded`);
    const fx =
      options.fx === undefined
        ? []
        : await options.fx({ currency: input.currency, occurredAt: input.occurredAt! });
    const result = await ledger.recordConversion({ ...input, fx, actor, causationId })();
    if (
      E.isLeft(result) &&
      result.left.code === 'IDEMPOTENCY_CONFLICT' &&
      (await readConversion(input.conversionId)) !== null
    )
      // Another delivery of the same change won the race with another time: the conversion is recorded.
      return outcome('alreadyRecorded', `${what}: already recorded`);
    return settle(result, what);
  };

  const money = (minor: unknown, currency: unknown, field: string): E.Either<IntakeOutcome, LedgerMoney> =>
    E.mapLeft((p: { field: string; message: string }) => malformed(p.field, p.message))(
      fromStripeAmount(minor, currency, `data.object.${field}`, 'data.object.currency'),
    );

  const onInvoicePaid = async (event: Stripe.Event, invoice: Stripe.Invoice): Promise<IntakeOutcome> => {
    if (typeof invoice.id !== 'string') return malformed('data.object.id', 'expected the invoice id');
    const customerId = idOf(invoice.customer) ?? invoice.customer_account ?? null;
    if (typeof customerId !== 'string') return malformed('data.object.customer', 'expected a customer id');
    const amount = money(invoice.amount_paid, invoice.currency, 'amount_paid');
    if (E.isLeft(amount)) return amount.left;
    const subscription = invoice.parent?.subscription_details ?? null;
    const metadata: Metadata = { ...(subscription?.metadata ?? {}), ...(invoice.metadata ?? {}) };
    const paidAt = invoice.status_transitions?.paid_at ?? event.created;
    if (!isUnixSeconds(paidAt))
      return malformed('data.object.status_transitions.paid_at', 'expected a Unix time');
    const discounts = Array.isArray(invoice.discounts) ? invoice.discounts : [];
    const expanded = discounts.flatMap((d) =>
      typeof d === 'string' || d.deleted === true
        ? []
        : [idOf(d.promotion_code)].filter((id): id is string => id !== null),
    );
    const promotionCodes = discounts.some((d) => typeof d === 'string')
      ? await lookups.invoicePromotionCodes(invoice.id)
      : expanded;
    const keysOf = await attribution(metadata, null);
    const kind = RENEWAL_REASONS.has(invoice.billing_reason ?? '') ? 'renewal' : 'invoice';
    return recordConversion(
      `invoice ${invoice.id} (${kind})`,
      {
        conversionId: conversionIdOf(invoice.id),
        customerId,
        kind,
        amount: amount.right.amount,
        currency: amount.right.currency,
        visitorId: keysOf.visitorId,
        accountId: keysOf.accountId,
        couponCode: await couponOf(promotionCodes),
        occurredAt: isoOf(paidAt),
      },
      event.id,
    );
  };

  const onCheckoutPaid = async (
    event: Stripe.Event,
    session: Stripe.Checkout.Session,
  ): Promise<IntakeOutcome> => {
    if (session.mode !== 'payment')
      return outcome(
        'ignored',
        `checkout session ${session.id} in ${String(session.mode)} mode: its invoices are the conversions`,
      );
    if (session.payment_status !== 'paid' && session.payment_status !== 'no_payment_required')
      return outcome(
        'ignored',
        `checkout session ${session.id} is not paid yet (${String(session.payment_status)})`,
      );
    if (session.invoice !== null && session.invoice !== undefined)
      return outcome(
        'ignored',
        `checkout session ${session.id} created invoice ${idOf(session.invoice)}: its invoice.paid is the conversion`,
      );
    const amount = money(session.amount_total, session.currency, 'amount_total');
    if (E.isLeft(amount)) return amount.left;
    const paymentIntent = idOf(session.payment_intent);
    const customerId =
      idOf(session.customer) ?? session.customer_account ?? `${ID}:guest:${paymentIntent ?? session.id}`;
    const keysOf = await attribution(session.metadata ?? {}, session.client_reference_id ?? null);
    const promotionCodes = (session.discounts ?? []).flatMap((d) =>
      [idOf(d.promotion_code)].filter((id): id is string => id !== null),
    );
    return recordConversion(
      `checkout session ${session.id} (order)`,
      {
        conversionId: conversionIdOf(paymentIntent ?? session.id),
        customerId,
        kind: 'order',
        amount: amount.right.amount,
        currency: amount.right.currency,
        visitorId: keysOf.visitorId,
        accountId: keysOf.accountId,
        couponCode: await couponOf(promotionCodes),
        occurredAt: isoOf(event.created),
      },
      event.id,
    );
  };

  const onInvoicePayment = (payment: Stripe.InvoicePayment): IntakeOutcome => {
    const invoice = idOf(payment.invoice);
    if (invoice === null) return malformed('data.object.invoice', 'expected the invoice id');
    const paid = [idOf(payment.payment?.payment_intent), idOf(payment.payment?.charge)].filter(
      (id): id is string => id !== null,
    );
    for (const id of paid) links.set(id, invoice);
    return outcome('noted', `payment ${paid.join(', ') || '(none)'} paid invoice ${invoice}`);
  };

  const runReversal = async (
    what: string,
    target: ConversionSeen,
    input: Omit<CommandInput<'reverseConversion'>, 'conversionId'>,
    causationId: string,
  ): Promise<IntakeOutcome> => {
    const result = await ledger.reverseConversion({
      ...input,
      conversionId: target.conversionId,
      actor,
      causationId,
    })();
    if (E.isLeft(result) && result.left.code === 'IDEMPOTENCY_CONFLICT') {
      const now = await readConversion(target.conversionId);
      if (now?.reversals.some((r) => r.reversalId === input.reversalId) === true)
        return outcome('alreadyRecorded', `${what}: already recorded`);
    }
    return settle(result, what);
  };

  const onChargeRefunded = async (event: Stripe.Event, charge: Stripe.Charge): Promise<IntakeOutcome> => {
    if (typeof charge.id !== 'string') return malformed('data.object.id', 'expected the charge id');
    const refunded = money(charge.amount_refunded, charge.currency, 'amount_refunded');
    if (E.isLeft(refunded)) return refunded.left;
    const what = `refund of charge ${charge.id} (${refunded.right.amount} ${refunded.right.currency} in all)`;
    const target = await conversionOfPayment(charge.id, idOf(charge.payment_intent));
    if (target === null)
      return outcome(
        'notYet',
        `${what}: its invoice or order is not recorded yet; Stripe will deliver it again`,
      );
    const currency = target.attributed.currency;
    if (currency !== refunded.right.currency)
      return malformed(
        'data.object.currency',
        `${what}: the conversion ${target.conversionId} is in ${currency}`,
      );
    const prefix = `${ID}:refund:${charge.id}:`;
    const reversalId = `${prefix}${charge.amount_refunded}`;
    if (target.reversals.some((r) => r.reversalId === reversalId))
      return outcome('alreadyRecorded', `${what}: already recorded`);
    const before = target.reversals
      .filter((r) => r.reversalId.startsWith(prefix))
      .reduce((sum, r) => sum.plus(r.amount), new LedgerDecimal(0));
    const difference = new LedgerDecimal(refunded.right.amount).minus(before);
    if (difference.lte(0))
      return outcome(
        'alreadyRecorded',
        `${what}: ${formatAmount(before, currency)} already reversed for the charge`,
      );
    if (target.remaining.lte(0))
      return outcome('ignored', `${what}: nothing is left of conversion ${target.conversionId} to reverse`);
    const amount = LedgerDecimal.min(difference, target.remaining);
    return runReversal(
      what,
      target,
      {
        reversalId,
        kind: 'refund',
        amount: formatAmount(amount, currency),
        reason: `Stripe charge ${charge.id}: ${refunded.right.amount} ${currency} refunded in all`,
        occurredAt: isoOf(event.created),
      },
      event.id,
    );
  };

  const onDispute = async (
    event: Stripe.Event,
    dispute: Stripe.Dispute,
    closed: boolean,
  ): Promise<IntakeOutcome> => {
    if (typeof dispute.id !== 'string') return malformed('data.object.id', 'expected the dispute id');
    if (typeof dispute.status !== 'string')
      return malformed('data.object.status', 'expected the dispute status');
    if (dispute.status.startsWith('warning_') || dispute.status === 'prevented')
      return outcome(
        'ignored',
        `dispute ${dispute.id} is ${dispute.status}: an inquiry or a prevented dispute takes no money`,
      );
    if (!isUnixSeconds(dispute.created)) return malformed('data.object.created', 'expected a Unix time');
    const disputed = money(dispute.amount, dispute.currency, 'amount');
    if (E.isLeft(disputed)) return disputed.left;
    const what = `dispute ${dispute.id} (${disputed.right.amount} ${disputed.right.currency}, ${dispute.status})`;
    const target = await conversionOfPayment(idOf(dispute.charge), idOf(dispute.payment_intent));
    if (target === null)
      return outcome(
        'notYet',
        `${what}: its invoice or order is not recorded yet; Stripe will deliver it again`,
      );
    const currency = target.attributed.currency;
    if (currency !== disputed.right.currency)
      return malformed(
        'data.object.currency',
        `${what}: the conversion ${target.conversionId} is in ${currency}`,
      );
    const reversalId = `${ID}:dispute:${dispute.id}`;
    let chargeback = target.reversals.find((r) => r.reversalId === reversalId);
    let result: IntakeOutcome = outcome('alreadyRecorded', `${what}: chargeback already recorded`);
    if (chargeback === undefined) {
      if (target.remaining.lte(0))
        return outcome(
          'ignored',
          `${what}: nothing is left of conversion ${target.conversionId} to charge back`,
        );
      // The chargeback is recorded by whichever of created and closed comes first, at the dispute's time.
      result = await runReversal(
        what,
        target,
        {
          reversalId,
          kind: 'chargeback',
          amount: formatAmount(LedgerDecimal.min(disputed.right.amount, target.remaining), currency),
          reason: `Stripe dispute ${dispute.id}: ${dispute.reason}`,
          occurredAt: isoOf(dispute.created),
        },
        event.id,
      );
      if (result.kind !== 'recorded' && result.kind !== 'alreadyRecorded') return result;
      chargeback = (await readConversion(target.conversionId))?.reversals.find(
        (r) => r.reversalId === reversalId,
      );
    }
    if (!closed || dispute.status !== 'won' || chargeback === undefined) return result;
    return restore(event, dispute.id, chargeback, target.rejectedLines);
  };

  /** A won dispute: each partner gets back what the chargeback took from its commission lines. */
  const restore = async (
    event: Stripe.Event,
    disputeId: string,
    chargeback: EventData<'ConversionReversed'>,
    rejectedLines: ReadonlySet<string>,
  ): Promise<IntakeOutcome> => {
    const taken = new Map<string, { partnerId: string; currency: string; amount: LedgerDecimal }>();
    for (const line of chargeback.lines) {
      if (rejectedLines.has(line.lineId)) continue;
      const key = JSON.stringify([line.partnerId, line.currency]);
      const sum = taken.get(key)?.amount ?? new LedgerDecimal(0);
      taken.set(key, { partnerId: line.partnerId, currency: line.currency, amount: sum.plus(line.amount) });
    }
    let recorded = false;
    for (const { partnerId, currency, amount } of [...taken.values()].sort((a, b) =>
      a.partnerId === b.partnerId ? (a.currency < b.currency ? -1 : 1) : a.partnerId < b.partnerId ? -1 : 1,
    )) {
      if (amount.isZero()) continue;
      const adjustmentId = `${ID}:dispute-won:${disputeId}:${partnerId}:${currency}`;
      const result = await ledger.recordManualAdjustment({
        adjustmentId,
        partnerId,
        amount: formatAmount(amount, currency),
        currency,
        reason: `Stripe dispute ${disputeId} won: the commission its chargeback took back is restored`,
        actor,
        occurredAt: isoOf(event.created),
        causationId: event.id,
      })();
      // The adjustment's id names the fact (this dispute won, for this partner and currency): another
      // delivery of the same change, at another time, is the same fact.
      if (E.isLeft(result) && result.left.code === 'IDEMPOTENCY_CONFLICT') continue;
      const settled = settle(result, `dispute ${disputeId} won, restoring ${partnerId}'s ${currency}`);
      if (settled.kind !== 'recorded' && settled.kind !== 'alreadyRecorded') return settled;
      recorded = recorded || settled.kind === 'recorded';
    }
    return outcome(
      recorded ? 'recorded' : 'alreadyRecorded',
      `dispute ${disputeId} won: the chargeback's commission restored`,
    );
  };

  const dispatch = async (event: Stripe.Event): Promise<IntakeOutcome> => {
    switch (event.type) {
      case 'invoice.paid':
        return onInvoicePaid(event, event.data.object);
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded':
        return onCheckoutPaid(event, event.data.object);
      case 'invoice_payment.paid':
        return onInvoicePayment(event.data.object);
      case 'charge.refunded':
        return onChargeRefunded(event, event.data.object);
      case 'charge.dispute.created':
        return onDispute(event, event.data.object, false);
      case 'charge.dispute.closed':
        return onDispute(event, event.data.object, true);
      default:
        return outcome('ignored', `${event.type} is not an event the intake records`);
    }
  };

  return {
    handle: async (event) => {
      const shape = event as unknown;
      if (!isObject(shape)) return malformed('(event)', 'expected a Stripe Event object');
      if (typeof shape['id'] !== 'string') return malformed('id', 'expected the event id');
      if (typeof shape['type'] !== 'string') return malformed('type', 'expected the event type');
      if (!isUnixSeconds(shape['created'])) return malformed('created', 'expected a Unix time');
      if (!isObject(shape['data']) || !isObject(shape['data']['object']))
        return malformed('data.object', 'expected the object the event is about');
      const seen = handled.get(event.id);
      if (seen !== undefined) return seen.kind === 'recorded' ? { ...seen, kind: 'alreadyRecorded' } : seen;
      // The shape is checked above; its object is the one its type names (Stripe's own contract).
      return remember(event.id, await dispatch(event as unknown as Stripe.Event));
    },
  };
};
