import type { IncomingMessage, ServerResponse } from 'node:http';
import type Stripe from 'stripe';
import type { IntakeOutcome, StripeIntake } from './intake';

/**
 * The part of the `stripe` package's `webhooks` the handler uses, by its shape: an ES-module project's
 * `stripe.webhooks` has the package's ES-module typings, which TypeScript holds distinct from the CommonJS
 * ones this package is compiled against (its `Stripe.Event` included), so it could not be typed with them.
 * The event it returns is the package's own, read as a `Stripe.Event`.
 */
export interface StripeWebhookVerifier {
  readonly constructEvent: (
    payload: string | Uint8Array,
    header: string | string[] | Uint8Array,
    secret: string,
    tolerance?: number,
    cryptoProvider?: undefined,
    receivedAt?: number,
  ) => { readonly id: string; readonly type: string };
}

// The package's own webhooks must fit the shape (its Stripe.Event has an id and a type).
const verifierFits = (webhooks: Stripe['webhooks']): StripeWebhookVerifier => webhooks;
void verifierFits;

/** What {@link createStripeWebhookHandler} takes. */
export interface StripeWebhookOptions {
  /** The intake that records the verified events. */
  readonly intake: StripeIntake;
  /** Verifies signatures: a Stripe client's `webhooks` (or the `Stripe.webhooks` of the package). */
  readonly webhooks: StripeWebhookVerifier;
  /** The endpoint's signing secret, `whsec_...` (Dashboard -> Developers -> Webhooks, or `stripe listen`). */
  readonly endpointSecret: string;
  /** How old a signature may be, in seconds. Default 300 (Stripe's default). */
  readonly toleranceSeconds?: number;
  /** The clock the signature's age is measured with. Default: the system clock. */
  readonly clock?: () => Date;
  /** The largest body accepted, in bytes. Default 1 MiB (Stripe's payloads are far smaller). */
  readonly maxBodyBytes?: number;
  /** Told of every request's outcome (for logs): the status sent and why. */
  readonly onOutcome?: (report: {
    readonly status: number;
    readonly eventId: string | null;
    readonly message: string;
  }) => void;
}

/** A request as node:http, Express, Fastify or Next.js hand it over: with the raw body already read, or not. */
export type WebhookRequest = IncomingMessage & {
  /** The raw body, when a framework has read it (Express `express.raw()`, Fastify's raw-body plugin). */
  readonly rawBody?: unknown;
  readonly body?: unknown;
};

/** The HTTP status of each intake outcome. */
export const STATUS_OF: Readonly<Record<IntakeOutcome['kind'], number>> = {
  recorded: 200,
  alreadyRecorded: 200,
  ignored: 200,
  noted: 200,
  notYet: 409,
  malformed: 400,
  refused: 422,
};

const readBody = async (req: WebhookRequest, limit: number): Promise<Buffer | 'tooLarge'> => {
  for (const given of [req.rawBody, req.body]) {
    if (Buffer.isBuffer(given)) return given.length > limit ? 'tooLarge' : given;
    if (typeof given === 'string')
      return Buffer.byteLength(given) > limit ? 'tooLarge' : Buffer.from(given, 'utf8');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > limit) return 'tooLarge';
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
};

const send = (res: ServerResponse, status: number, body: Record<string, unknown>): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
};

/**
 * A webhook endpoint for node:http (and so for Express, Fastify and Next.js, which hand over the same
 * request and response, given the raw body): verifies the `Stripe-Signature` header with
 * `webhooks.constructEvent` on the raw body, hands the event to the intake, and answers:
 * 200 once the ledger holds the event's facts (or there are none to record); 400 for a missing, bad or
 * stale signature, a body that is not an event, or a malformed field (nothing recorded); 405 for a method
 * other than POST; 409 when the event depends on one not recorded yet; 413 for an oversized body; 422 when
 * the ledger refused the command; 500 when the store (or a lookup) failed. Stripe retries every non-2xx
 * answer, with exponential backoff, for up to three days.
 */
export const createStripeWebhookHandler = (
  options: StripeWebhookOptions,
): ((req: WebhookRequest, res: ServerResponse) => Promise<void>) => {
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const tolerance = options.toleranceSeconds ?? 300;
  const report = (status: number, eventId: string | null, message: string) =>
    options.onOutcome?.({ status, eventId, message });
  return async (req, res) => {
    if (req.method !== 'POST') {
      report(405, null, `method ${String(req.method)}`);
      return send(res, 405, { error: 'only POST is accepted' });
    }
    const body = await readBody(req, limit);
    if (body === 'tooLarge') {
      report(413, null, 'body too large');
      return send(res, 413, { error: `the body is larger than ${limit} bytes` });
    }
    const signature = req.headers['stripe-signature'];
    if (signature === undefined || signature === '') {
      report(400, null, 'no Stripe-Signature header');
      return send(res, 400, { error: 'no Stripe-Signature header' });
    }
    let event: Stripe.Event;
    try {
      const now = options.clock === undefined ? undefined : options.clock().getTime();
      event = options.webhooks.constructEvent(
        body,
        signature,
        options.endpointSecret,
        tolerance,
        undefined,
        now,
      ) as Stripe.Event;
    } catch (error) {
      // A bad or stale signature (StripeSignatureVerificationError) or a signed body that is not JSON.
      const message = error instanceof Error ? error.message : String(error);
      report(400, null, message);
      return send(res, 400, { error: message });
    }
    let result: IntakeOutcome;
    try {
      result = await options.intake.handle(event);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report(500, event.id, message);
      return send(res, 500, { error: 'the event could not be recorded; deliver it again' });
    }
    const status = STATUS_OF[result.kind];
    report(status, event.id, result.message);
    return send(res, status, {
      outcome: result.kind,
      message: result.message,
      ...(result.kind === 'malformed' ? { field: result.field } : {}),
      ...(result.kind === 'refused'
        ? { code: result.rejection.code, field: result.rejection.field ?? null }
        : {}),
    });
  };
};
