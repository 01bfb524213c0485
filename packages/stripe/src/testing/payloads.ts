import type Stripe from 'stripe';

// Stripe objects and events as the API reference shapes them, typed by the `stripe` package's own types:
// every field of each object is written out, so a field that moved or changed type fails to compile.

/** A fixed creation time for fixtures: 2026-03-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 2, 1) / 1000;

const eventBase = (id: string, created: number) => ({
  id,
  object: 'event' as const,
  api_version: '2026-11-18.endive',
  created,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
});

/** An invoice, paid: `billing_reason` subscription_create for the first of a subscription. */
export const invoice = (o: {
  id: string;
  customer: string;
  amountPaid: number;
  currency: string;
  billingReason: Stripe.Invoice.BillingReason;
  paidAt: number;
  subscription?: { id: string; metadata: Record<string, string> } | null;
  metadata?: Record<string, string>;
  discounts?: string[];
}): Stripe.Invoice => ({
  id: o.id,
  object: 'invoice',
  account_country: 'US',
  account_name: 'Acme',
  account_tax_ids: null,
  amount_due: o.amountPaid,
  amount_overpaid: 0,
  amount_paid: o.amountPaid,
  amount_remaining: 0,
  amount_shipping: 0,
  application: null,
  attempt_count: 1,
  attempted: true,
  auto_advance: false,
  automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
  automatically_finalizes_at: null,
  billing_reason: o.billingReason,
  collection_method: 'charge_automatically',
  created: o.paidAt,
  currency: o.currency,
  custom_fields: null,
  customer: o.customer,
  customer_account: null,
  customer_address: null,
  customer_email: null,
  customer_name: null,
  customer_phone: null,
  customer_shipping: null,
  customer_tax_exempt: 'none',
  default_payment_method: null,
  default_source: null,
  default_tax_rates: [],
  description: null,
  discounts: o.discounts ?? [],
  due_date: null,
  effective_at: o.paidAt,
  ending_balance: 0,
  footer: null,
  from_invoice: null,
  issuer: { type: 'self' },
  last_finalization_error: null,
  latest_revision: null,
  lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${o.id}/lines` },
  livemode: false,
  metadata: o.metadata ?? {},
  next_payment_attempt: null,
  number: null,
  on_behalf_of: null,
  parent:
    o.subscription === null || o.subscription === undefined
      ? null
      : {
          quote_details: null,
          subscription_details: { metadata: o.subscription.metadata, subscription: o.subscription.id },
          type: 'subscription_details',
        },
  payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
  period_end: o.paidAt,
  period_start: o.paidAt,
  post_payment_credit_notes_amount: 0,
  pre_payment_credit_notes_amount: 0,
  receipt_number: null,
  rendering: null,
  shipping_cost: null,
  shipping_details: null,
  starting_balance: 0,
  statement_descriptor: null,
  status: 'paid',
  status_transitions: {
    finalized_at: o.paidAt,
    marked_uncollectible_at: null,
    paid_at: o.paidAt,
    voided_at: null,
  },
  subtotal: o.amountPaid,
  subtotal_excluding_tax: o.amountPaid,
  test_clock: null,
  total: o.amountPaid,
  total_discount_amounts: [],
  total_excluding_tax: o.amountPaid,
  total_pretax_credit_amounts: [],
  total_taxes: [],
  webhooks_delivered_at: o.paidAt,
});

/** The InvoicePayment that links a PaymentIntent (and its charge) to the invoice it paid. */
export const invoicePayment = (o: {
  id: string;
  invoice: string;
  paymentIntent: string;
  amount: number;
  currency: string;
  paidAt: number;
}): Stripe.InvoicePayment => ({
  id: o.id,
  object: 'invoice_payment',
  amount_paid: o.amount,
  amount_requested: o.amount,
  created: o.paidAt,
  currency: o.currency,
  invoice: o.invoice,
  is_default: true,
  livemode: false,
  payment: { payment_intent: o.paymentIntent, type: 'payment_intent' },
  status: 'paid',
  status_transitions: { canceled_at: null, paid_at: o.paidAt },
});

/** A charge, with its cumulative `amount_refunded`. */
export const charge = (o: {
  id: string;
  paymentIntent: string;
  amount: number;
  amountRefunded: number;
  currency: string;
  created: number;
}): Stripe.Charge => ({
  id: o.id,
  object: 'charge',
  amount: o.amount,
  amount_captured: o.amount,
  amount_refunded: o.amountRefunded,
  application: null,
  application_fee: null,
  application_fee_amount: null,
  balance_transaction: null,
  billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
  calculated_statement_descriptor: 'ACME',
  captured: true,
  created: o.created,
  currency: o.currency,
  customer: null,
  description: null,
  disputed: false,
  failure_balance_transaction: null,
  failure_code: null,
  failure_message: null,
  fraud_details: null,
  livemode: false,
  metadata: {},
  on_behalf_of: null,
  outcome: null,
  paid: true,
  payment_intent: o.paymentIntent,
  payment_method: null,
  payment_method_details: null,
  receipt_email: null,
  receipt_number: null,
  receipt_url: null,
  refunded: o.amountRefunded === o.amount,
  review: null,
  shipping: null,
  source: null,
  source_transfer: null,
  statement_descriptor: null,
  statement_descriptor_suffix: null,
  status: 'succeeded',
  transfer_data: null,
  transfer_group: null,
});

/** A dispute on a charge: `warning_*` statuses are inquiries. */
export const dispute = (o: {
  id: string;
  charge: string;
  paymentIntent: string;
  amount: number;
  currency: string;
  status: Stripe.Dispute.Status;
  created: number;
}): Stripe.Dispute => ({
  id: o.id,
  object: 'dispute',
  amount: o.amount,
  balance_transactions: [],
  charge: o.charge,
  created: o.created,
  currency: o.currency,
  enhanced_eligibility_types: [],
  evidence: {
    access_activity_log: null,
    appeal: null,
    billing_address: null,
    cancellation_policy: null,
    cancellation_policy_disclosure: null,
    cancellation_rebuttal: null,
    customer_communication: null,
    customer_email_address: null,
    customer_name: null,
    customer_purchase_ip: null,
    customer_signature: null,
    duplicate_charge_documentation: null,
    duplicate_charge_explanation: null,
    duplicate_charge_id: null,
    enhanced_evidence: {},
    product_description: null,
    receipt: null,
    refund_policy: null,
    refund_policy_disclosure: null,
    refund_refusal_explanation: null,
    service_date: null,
    service_documentation: null,
    shipping_address: null,
    shipping_carrier: null,
    shipping_date: null,
    shipping_documentation: null,
    shipping_tracking_number: null,
    uncategorized_file: null,
    uncategorized_text: null,
  },
  evidence_details: {
    due_by: o.created + 7 * 86_400,
    enhanced_eligibility: {},
    has_evidence: false,
    past_due: false,
    submission_count: 0,
    submission_method: 'not_submitted',
  },
  intended_submission_method: null,
  is_charge_refundable: false,
  livemode: false,
  metadata: {},
  payment_intent: o.paymentIntent,
  reason: 'fraudulent',
  status: o.status,
});

/** A completed Checkout Session in payment mode (a one-off order). */
export const checkoutSession = (o: {
  id: string;
  paymentIntent: string | null;
  amountTotal: number;
  currency: string;
  customer: string | null;
  clientReferenceId?: string | null;
  metadata?: Record<string, string>;
  mode?: Stripe.Checkout.Session.Mode;
  promotionCode?: string | null;
  invoice?: string | null;
  created: number;
}): Stripe.Checkout.Session => ({
  id: o.id,
  object: 'checkout.session',
  adaptive_pricing: null,
  after_expiration: null,
  allow_promotion_codes: true,
  allowed_payment_method_types: null,
  amount_subtotal: o.amountTotal,
  amount_total: o.amountTotal,
  automatic_tax: { enabled: false, liability: null, provider: null, status: null },
  billing_address_collection: null,
  cancel_url: null,
  client_reference_id: o.clientReferenceId ?? null,
  client_secret: null,
  collected_information: null,
  consent: null,
  consent_collection: null,
  created: o.created,
  currency: o.currency,
  currency_conversion: null,
  custom_fields: [],
  custom_text: {
    after_submit: null,
    shipping_address: null,
    submit: null,
    terms_of_service_acceptance: null,
  },
  customer: o.customer,
  customer_account: null,
  customer_creation: 'if_required',
  customer_details: null,
  customer_email: null,
  discounts: o.promotionCode ? [{ coupon: null, promotion_code: o.promotionCode }] : [],
  expires_at: o.created + 86_400,
  integration_identifier: null,
  invoice: o.invoice ?? null,
  invoice_creation: null,
  livemode: false,
  locale: null,
  managed_payments: null,
  metadata: o.metadata ?? {},
  mode: o.mode ?? 'payment',
  origin_context: null,
  payment_intent: o.paymentIntent,
  payment_link: null,
  payment_method_collection: null,
  payment_method_configuration_details: null,
  payment_method_options: null,
  payment_method_types: ['card'],
  payment_status: 'paid',
  permissions: null,
  recovered_from: null,
  saved_payment_method_options: null,
  setup_intent: null,
  shipping_address_collection: null,
  shipping_cost: null,
  shipping_options: [],
  status: 'complete',
  submit_type: null,
  subscription: null,
  success_url: 'https://example.com/thanks',
  total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
  ui_mode: 'hosted',
  url: null,
  wallet_options: null,
});

/** `invoice.paid`. */
export const invoicePaid = (
  id: string,
  created: number,
  object: Stripe.Invoice,
): Stripe.InvoicePaidEvent => ({
  ...eventBase(id, created),
  type: 'invoice.paid',
  data: { object },
});

/** `invoice_payment.paid`. */
export const invoicePaymentPaid = (
  id: string,
  created: number,
  object: Stripe.InvoicePayment,
): Stripe.InvoicePaymentPaidEvent => ({
  ...eventBase(id, created),
  type: 'invoice_payment.paid',
  data: { object },
});

/** `charge.refunded`. */
export const chargeRefunded = (
  id: string,
  created: number,
  object: Stripe.Charge,
): Stripe.ChargeRefundedEvent => ({
  ...eventBase(id, created),
  type: 'charge.refunded',
  data: { object },
});

/** `charge.dispute.created`. */
export const disputeCreated = (
  id: string,
  created: number,
  object: Stripe.Dispute,
): Stripe.ChargeDisputeCreatedEvent => ({
  ...eventBase(id, created),
  type: 'charge.dispute.created',
  data: { object },
});

/** `charge.dispute.closed`. */
export const disputeClosed = (
  id: string,
  created: number,
  object: Stripe.Dispute,
): Stripe.ChargeDisputeClosedEvent => ({
  ...eventBase(id, created),
  type: 'charge.dispute.closed',
  data: { object },
});

/** `checkout.session.completed`. */
export const checkoutCompleted = (
  id: string,
  created: number,
  object: Stripe.Checkout.Session,
): Stripe.CheckoutSessionCompletedEvent => ({
  ...eventBase(id, created),
  type: 'checkout.session.completed',
  data: { object },
});
