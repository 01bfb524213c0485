import type Stripe from 'stripe';

/**
 * What the intake asks Stripe's API for, because webhook payloads name things by id only. Production:
 * {@link stripeLookups} over a Stripe client; tests: recorded answers. The intake caches every answer
 * ({@link cachedLookups}), so one id is asked for once.
 */
export interface StripeLookups {
  /** The customer-facing text of a promotion code (`promo_...`), e.g. `ALICE10`; null when it has none. */
  readonly promotionCodeText: (promotionCodeId: string) => Promise<string | null>;
  /**
   * The promotion code ids behind an invoice's discounts (an invoice names its discounts `di_...` by id;
   * each may come from a promotion code). Empty when none came from one.
   */
  readonly invoicePromotionCodes: (invoiceId: string) => Promise<readonly string[]>;
  /**
   * The invoice a payment paid (through its InvoicePayment), by PaymentIntent id (`pi_...`); null when it
   * paid none. Used when a refund or dispute arrives and this process has not seen its
   * `invoice_payment.paid` (after a restart, say).
   */
  readonly invoiceOfPaymentIntent: (paymentIntentId: string) => Promise<string | null>;
}

const idOf = (value: string | { readonly id: string } | null | undefined): string | null =>
  value === null || value === undefined ? null : typeof value === 'string' ? value : value.id;

type IdOrObject = string | { readonly id: string } | null | undefined;

/**
 * The part of a Stripe client {@link stripeLookups} uses: a `new Stripe(...)` of the official package. It is
 * described by its shape, not as the `Stripe` class, because an ES-module project gets the package's
 * ES-module typings, which TypeScript holds distinct from the CommonJS ones this package is compiled
 * against: a parameter typed `Stripe` refused the client such a project makes.
 */
export interface StripeLookupsClient {
  readonly promotionCodes: {
    readonly retrieve: (id: string) => Promise<{ readonly code: string }>;
  };
  readonly invoices: {
    readonly retrieve: (
      id: string,
      params: { expand: string[] },
    ) => Promise<{
      readonly discounts: ReadonlyArray<
        string | { readonly deleted?: unknown; readonly promotion_code?: IdOrObject }
      >;
    }>;
  };
  readonly invoicePayments: {
    readonly list: (params: {
      payment: { type: 'payment_intent'; payment_intent: string };
      limit: number;
    }) => Promise<{ readonly data: ReadonlyArray<{ readonly invoice?: IdOrObject }> }>;
  };
}

// Every field read above is checked against the package's own typings: the client must fit the shape.
const clientFits = (stripe: Stripe): StripeLookupsClient => stripe;
void clientFits;

/**
 * The lookups, answered by Stripe's API through the official client: `promotionCodes.retrieve`,
 * `invoices.retrieve` with `discounts` expanded, and `invoicePayments.list` by PaymentIntent.
 */
export const stripeLookups = (stripe: StripeLookupsClient): StripeLookups => ({
  promotionCodeText: async (promotionCodeId) => (await stripe.promotionCodes.retrieve(promotionCodeId)).code,
  invoicePromotionCodes: async (invoiceId) => {
    const invoice = await stripe.invoices.retrieve(invoiceId, { expand: ['discounts'] });
    return invoice.discounts.flatMap((discount) =>
      typeof discount === 'string' || discount.deleted === true
        ? []
        : [idOf(discount.promotion_code)].filter((id): id is string => id !== null),
    );
  },
  invoiceOfPaymentIntent: async (paymentIntentId) => {
    const page = await stripe.invoicePayments.list({
      payment: { type: 'payment_intent', payment_intent: paymentIntentId },
      limit: 1,
    });
    return idOf(page.data[0]?.invoice);
  },
});

/** How many answers of each kind the cache keeps; the oldest is forgotten first. */
const CACHE_SIZE = 10_000;

const cached = <T>(ask: (id: string) => Promise<T>): ((id: string) => Promise<T>) => {
  const answers = new Map<string, Promise<T>>();
  return (id) => {
    const known = answers.get(id);
    if (known !== undefined) return known;
    const answer = ask(id);
    answers.set(id, answer);
    if (answers.size > CACHE_SIZE) answers.delete(answers.keys().next().value!);
    // A failed question is asked again next time.
    answer.catch(() => answers.delete(id));
    return answer;
  };
};

/**
 * The same lookups, each answer kept (up to 10,000 per kind, the oldest forgotten first): one question per
 * id. A failure is not kept. Null answers of `invoiceOfPaymentIntent` are not kept either: the payment may
 * be attached to its invoice later.
 */
export const cachedLookups = (lookups: StripeLookups): StripeLookups => {
  const invoices = new Map<string, string>();
  return {
    promotionCodeText: cached(lookups.promotionCodeText),
    invoicePromotionCodes: cached(lookups.invoicePromotionCodes),
    invoiceOfPaymentIntent: async (id) => {
      const known = invoices.get(id);
      if (known !== undefined) return known;
      const invoice = await lookups.invoiceOfPaymentIntent(id);
      if (invoice !== null) {
        invoices.set(id, invoice);
        if (invoices.size > CACHE_SIZE) invoices.delete(invoices.keys().next().value!);
      }
      return invoice;
    },
  };
};

/** Lookups for an intake that is never asked anything: every question is refused with an error. */
export const noLookups: StripeLookups = {
  promotionCodeText: (id) => Promise.reject(new Error(`no Stripe lookups configured: promotion code ${id}`)),
  invoicePromotionCodes: (id) =>
    Promise.reject(new Error(`no Stripe lookups configured: discounts of invoice ${id}`)),
  invoiceOfPaymentIntent: () => Promise.resolve(null),
};
