/**
 * @packageDocumentation
 * Money in from Stripe: a webhook endpoint for node:http that verifies each event's signature, and an
 * intake that records paid invoices and one-off Checkout orders as conversions, refunds and disputes as
 * reversals, and won disputes as restored commission, idempotently and in any delivery order. Built on
 * the official `stripe` package and the API version it pins (`Stripe.API_VERSION`).
 */
export { STRIPE_THREE_DECIMAL, STRIPE_ZERO_DECIMAL, fromStripeAmount, stripeExponentOf } from './amounts';
export type { LedgerMoney, StripeAmountProblem } from './amounts';
export { DEFAULT_ATTRIBUTION_KEYS, conversionIdOf, createStripeIntake } from './intake';
export type {
  AttributionKeys,
  IntakeOutcome,
  StripeEventLike,
  StripeIntake,
  StripeIntakeOptions,
} from './intake';
export { cachedLookups, stripeLookups } from './lookups';
export type { StripeLookups, StripeLookupsClient } from './lookups';
export { STATUS_OF, createStripeWebhookHandler } from './webhook';
export type { StripeWebhookOptions, StripeWebhookVerifier, WebhookRequest } from './webhook';
