import * as E from 'fp-ts/Either';
import type { PayoutResultLine, PayoutResultStatus, ResultFileProblem } from './results';
import { statusOf, toTimestamp } from './results';

// The providers' own result documents, as their APIs return them (JSON): PayPal's payout batch details
// (GET /v1/payments/payouts/{payout_batch_id}), one payout item (GET /v1/payments/payouts-item/{id}) and its
// webhook events (PAYMENT.PAYOUTS-ITEM.*); Wise's transfer (GET /v1/transfers/{id}), a list of them
// (GET /v1/transfers) and its webhook event transfers#state-change. Each gives, per payment, the payout's
// id (PayPal's sender_item_id and Wise's reference are the payout ids the batch files carry), a status
// and what the provider adds (its payment id, the reason of a failure, when).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Collects the problems of one document; each names where it is and the field. */
interface Reader {
  readonly problems: ResultFileProblem[];
  readonly lines: PayoutResultLine[];
}

const problem = (reader: Reader, where: string, field: string, message: string): undefined => {
  reader.problems.push({ where, field, message });
  return undefined;
};

/** A string field (a number is taken as its decimal text: Wise's ids are numbers). */
const text = (
  reader: Reader,
  where: string,
  object: JsonObject,
  path: string,
  required: boolean,
): string | undefined => {
  let value: Json | undefined = object;
  for (const key of path.split('.')) value = isObject(value) ? value[key] : undefined;
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (value === undefined || value === null || value === '')
    return required ? problem(reader, where, path, 'missing') : undefined;
  return problem(reader, where, path, `expected a string, got ${JSON.stringify(value)}`);
};

const time = (reader: Reader, where: string, object: JsonObject, path: string): string | undefined => {
  const given = text(reader, where, object, path, false);
  if (given === undefined) return undefined;
  const at = toTimestamp(given);
  return at ?? problem(reader, where, path, `expected an RFC 3339 time, got ${JSON.stringify(given)}`);
};

const status = (
  reader: Reader,
  where: string,
  field: string,
  given: string | undefined,
  known: readonly string[],
): { final: PayoutResultStatus | undefined } | undefined => {
  if (given === undefined) return undefined;
  const lower = given.toLowerCase();
  const read = known.includes(lower) ? statusOf(lower) : undefined;
  return (
    read ??
    problem(
      reader,
      where,
      field,
      `unknown status ${JSON.stringify(given)} (expected one of ${known.join(', ')})`,
    )
  );
};

/** PayPal's item statuses (payout_batch_items.transaction_status), lower-cased. */
const PAYPAL_STATUSES = [
  'success',
  'failed',
  'pending',
  'unclaimed',
  'returned',
  'onhold',
  'blocked',
  'refunded',
  'reversed',
];

/** The item a PayPal webhook event names, by its event type, when the resource gives no status. */
const PAYPAL_EVENT_STATUSES: Readonly<Record<string, string>> = {
  SUCCEEDED: 'success',
  FAILED: 'failed',
  BLOCKED: 'blocked',
  CANCELED: 'canceled',
  DENIED: 'denied',
  HELD: 'onhold',
  REFUNDED: 'refunded',
  RETURNED: 'returned',
  REVERSED: 'reversed',
  UNCLAIMED: 'unclaimed',
};

/** One PayPal payout item (a batch's item, GET /v1/payments/payouts-item/{id}, a webhook's resource). */
const paypalItem = (reader: Reader, where: string, item: JsonObject, eventStatus?: string): void => {
  const before = reader.problems.length;
  const payoutId = text(reader, where, item, 'payout_item.sender_item_id', true);
  const given = text(reader, where, item, 'transaction_status', eventStatus === undefined) ?? eventStatus;
  const read = status(reader, where, 'transaction_status', given, [
    ...new Set([...PAYPAL_STATUSES, ...Object.values(PAYPAL_EVENT_STATUSES)]),
  ]);
  const value = text(reader, where, item, 'payout_item.amount.value', true);
  const currency = text(reader, where, item, 'payout_item.amount.currency', true);
  const errorName = text(reader, where, item, 'errors.name', false);
  const errorMessage = text(reader, where, item, 'errors.message', false);
  const reference =
    text(reader, where, item, 'transaction_id', false) ?? text(reader, where, item, 'payout_item_id', false);
  const at = time(reader, where, item, 'time_processed');
  if (reader.problems.length > before || payoutId === undefined || read === undefined) return;
  const reason = [errorName, errorMessage].filter((part) => part !== undefined).join(': ');
  reader.lines.push({
    where: `${where} (sender_item_id ${payoutId})`,
    payoutId,
    wiseTransferId: undefined,
    providerStatus: given!,
    status: read.final,
    reason: reason === '' ? `PayPal ${given}` : reason,
    providerReference: reference,
    // The time it was processed is when it was paid or failed; a return comes later, so it is now.
    at: read.final === 'returned' ? undefined : at,
    amount: value === undefined || currency === undefined ? undefined : { value, currency },
  });
};

/** Wise's transfer statuses, lower-case as Wise writes them. */
const WISE_STATUSES = [
  'incoming_payment_waiting',
  'incoming_payment_initiated',
  'processing',
  'funds_converted',
  'outgoing_payment_sent',
  'cancelled',
  'funds_refunded',
  'bounced_back',
  'charged_back',
  'waiting_recipient_input_to_proceed',
  'unknown',
];

/** One Wise transfer (GET /v1/transfers/{id}, or an element of GET /v1/transfers). */
const wiseTransfer = (reader: Reader, where: string, transfer: JsonObject): void => {
  const before = reader.problems.length;
  const id = text(reader, where, transfer, 'id', true);
  // The batch file's paymentReference becomes the transfer's reference; a transfer made through the API
  // with the payout id as its customerTransactionId is found by that.
  const payoutId =
    text(reader, where, transfer, 'reference', false) ??
    text(reader, where, transfer, 'details.reference', false) ??
    text(reader, where, transfer, 'customerTransactionId', false);
  if (payoutId === undefined)
    problem(reader, where, 'reference', 'missing (nor details.reference, nor customerTransactionId)');
  const given = text(reader, where, transfer, 'status', true);
  const read = status(reader, where, 'status', given, WISE_STATUSES);
  const currency = text(reader, where, transfer, 'targetCurrency', false);
  const value = transfer['targetValue'];
  if (value !== undefined && typeof value !== 'number' && typeof value !== 'string')
    problem(reader, where, 'targetValue', `expected an amount, got ${JSON.stringify(value)}`);
  if (reader.problems.length > before || payoutId === undefined || read === undefined) return;
  reader.lines.push({
    where: `${where} (transfer ${id}, reference ${payoutId})`,
    payoutId,
    wiseTransferId: id,
    providerStatus: given!,
    status: read.final,
    reason: `Wise transfer ${id}: ${given}`,
    providerReference: id,
    // `created` is when the transfer was made, not when its status changed: the result is dated now.
    at: undefined,
    amount:
      currency === undefined || (typeof value !== 'number' && typeof value !== 'string')
        ? undefined
        : { value: String(value), currency },
  });
};

/** Wise's transfers#state-change: the transfer's id and state, no reference; found by the transfer id. */
const wiseStateChange = (reader: Reader, where: string, event: JsonObject): void => {
  const before = reader.problems.length;
  const type = text(reader, where, event, 'data.resource.type', false);
  if (type !== undefined && type !== 'transfer')
    problem(reader, where, 'data.resource.type', `expected "transfer", got ${JSON.stringify(type)}`);
  const id = text(reader, where, event, 'data.resource.id', true);
  const given = text(reader, where, event, 'data.current_state', true);
  const read = status(reader, where, 'data.current_state', given, WISE_STATUSES);
  const at = time(reader, where, event, 'data.occurred_at');
  if (reader.problems.length > before || id === undefined || read === undefined) return;
  reader.lines.push({
    where: `${where} (transfer ${id})`,
    payoutId: undefined,
    wiseTransferId: id,
    providerStatus: given!,
    status: read.final,
    reason: `Wise transfer ${id}: ${given}`,
    providerReference: id,
    at,
    amount: undefined,
  });
};

const KNOWN =
  'expected PayPal payout batch details (batch_header, items), a PayPal payout item (payout_item_id, ' +
  'transaction_status), a PayPal PAYMENT.PAYOUTS-ITEM.* webhook event, a Wise transfer (id, status, ' +
  'reference) or a list of them, or a Wise transfers#state-change webhook event';

const readOne = (reader: Reader, where: string, document: Json): void => {
  if (!isObject(document)) {
    problem(reader, where, '(document)', `not an object: ${KNOWN}`);
    return;
  }
  const eventType = typeof document['event_type'] === 'string' ? document['event_type'] : undefined;
  if ('batch_header' in document || 'items' in document) {
    const items = document['items'];
    if (!Array.isArray(items)) {
      problem(reader, where, 'items', 'expected the batch items (an array)');
      return;
    }
    items.forEach((item, i) => {
      if (isObject(item)) paypalItem(reader, `items[${i}]`, item);
      else problem(reader, `items[${i}]`, '(item)', 'not an object');
    });
  } else if (eventType?.startsWith('PAYMENT.PAYOUTS-ITEM.') === true) {
    const resource = document['resource'];
    if (!isObject(resource)) problem(reader, where, 'resource', 'missing: the event names no payout item');
    else
      paypalItem(
        reader,
        `${where} ${eventType}`,
        resource,
        PAYPAL_EVENT_STATUSES[eventType.slice('PAYMENT.PAYOUTS-ITEM.'.length)],
      );
  } else if (eventType?.startsWith('PAYMENT.PAYOUTSBATCH.') === true) {
    problem(
      reader,
      where,
      'event_type',
      `${eventType} names no item: reconcile the batch details (GET /v1/payments/payouts/{payout_batch_id}) instead`,
    );
  } else if (eventType === 'transfers#state-change') wiseStateChange(reader, where, document);
  else if (eventType !== undefined)
    problem(reader, where, 'event_type', `${JSON.stringify(eventType)} is not a payout result: ${KNOWN}`);
  else if ('payout_item_id' in document || 'payout_item' in document) paypalItem(reader, where, document);
  else if ('status' in document && ('reference' in document || 'targetAccount' in document))
    wiseTransfer(reader, where, document);
  else problem(reader, where, '(document)', KNOWN);
};

/**
 * What a reader should know of a document beyond its results: PayPal's batch details come a page at a time
 * (`page`, `page_size`; `total_pages` with `total_required=true`, and a `next` link while pages are left), and
 * a page names only its items.
 */
export const providerDocumentNotes = (json: string): string[] => {
  let document: Json;
  try {
    document = JSON.parse(json) as Json;
  } catch {
    return [];
  }
  if (!isObject(document) || !('batch_header' in document)) return [];
  const links = Array.isArray(document['links']) ? document['links'] : [];
  const next = links.some((link) => isObject(link) && link['rel'] === 'next');
  const pages = document['total_pages'];
  const batch = isObject(document['batch_header']) ? document['batch_header']['payout_batch_id'] : undefined;
  const name = typeof batch === 'string' ? `PayPal batch ${batch}` : 'this PayPal batch';
  return next || (typeof pages === 'number' && pages > 1)
    ? [
        `${name} has more pages${typeof pages === 'number' ? ` (${pages} in all)` : ''}: reconcile each page (GET with page=2, 3, ...)`,
      ]
    : [];
};

/**
 * Reads a provider's JSON result document (see the top of this file); a list (an array) is read element by
 * element. Left with every problem, each naming the item (`items[3]`, `[2]`) and its field.
 */
export const parseProviderDocument = (json: string): E.Either<ResultFileProblem[], PayoutResultLine[]> => {
  let document: Json;
  try {
    document = JSON.parse(json) as Json;
  } catch (error) {
    return E.left([{ where: 'document', field: '(json)', message: (error as Error).message }]);
  }
  const reader: Reader = { problems: [], lines: [] };
  if (Array.isArray(document)) document.forEach((element, i) => readOne(reader, `[${i}]`, element));
  else readOne(reader, 'document', document);
  return reader.problems.length > 0 ? E.left(reader.problems) : E.right(reader.lines);
};
