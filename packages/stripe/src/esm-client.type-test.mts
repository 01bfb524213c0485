// A type test, checked by the build (tsc -b) and never run: an ES-module project ("type": "module",
// moduleResolution node16/nodenext) gets the `stripe` package's ES-module typings, which TypeScript holds
// distinct from the CommonJS ones this package is compiled against. The client such a project makes must
// still be accepted where docs/payments.md passes it: `stripeLookups(stripe)` and `webhooks: stripe.webhooks`,
// and the events it makes where an intake handles them: `intake.handle(event)`.
import Stripe from 'stripe';
import type { StripeIntake } from './intake.js';
import { stripeLookups } from './lookups.js';
import { createStripeWebhookHandler } from './webhook.js';

declare const intake: StripeIntake;
const stripe = new Stripe('sk_test_type_test');
export const lookups = stripeLookups(stripe);
export const handler = createStripeWebhookHandler({
  intake,
  webhooks: stripe.webhooks,
  endpointSecret: 'whsec_type_test',
});

declare const event: Stripe.Event;
export const handled: Promise<unknown> = intake.handle(event);
