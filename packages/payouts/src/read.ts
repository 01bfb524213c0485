import { ERASED_MARKER, SEALED_MARKER, decodeStoredEvent } from '@partner-ledger/events';
import type { EventData, LedgerEvent } from '@partner-ledger/events';
import { createBalanceBook } from '@partner-ledger/ledger';
import type { BalanceBook, ProgramSettings } from '@partner-ledger/ledger';
import type { EventStore } from '@partner-ledger/store';
import { wiseReferenceOf } from './formats';

/** What `wiseReferences` holds for a reference two payouts share. */
export const AMBIGUOUS_REFERENCE = '';

/** A partner's payee details as last given (PartnerJoined, then each PartnerContactDetailsChanged). */
export type Payee = NonNullable<EventData<'PartnerJoined'>['payee']>;

/** What a payout run knows of a partner: its payee details and whether its personal data was erased. */
export interface PayeeRecord {
  readonly partnerId: string;
  readonly payee: Payee | undefined;
  readonly erased: boolean;
}

/** Everything a payout run or a reconciliation reads from the store, in one pass. */
export interface PayoutFacts {
  readonly program: ProgramSettings | undefined;
  readonly payees: ReadonlyMap<string, PayeeRecord>;
  readonly book: BalanceBook;
  /** Wise transfer ids (a Wise payout's confirmed providerReference) -> payout ids: Wise's webhook names only those. */
  readonly wiseTransfers: ReadonlyMap<string, string>;
  /**
   * Wise payment references (`wiseReferenceOf`) -> the Wise payouts they name; AMBIGUOUS_REFERENCE when two
   * payouts' references are the same (51 bits: not expected, but never guessed between).
   */
  readonly wiseReferences: ReadonlyMap<string, string>;
  /** Every payout issued, in the store's order (look each up in `book`). */
  readonly payoutIds: readonly string[];
}

const hasMarker = (payee: Payee, marker: string): boolean =>
  (payee as unknown as string) === marker || Object.values(payee).some((value) => value === marker);

/**
 * Reads the whole log once: the program's settings, every partner's payee details (opened by the store when
 * it is a sealing store with the keys), erasures, and the balances.
 */
export const readPayoutFacts = async (store: EventStore): Promise<PayoutFacts> => {
  let program: ProgramSettings | undefined;
  const payees = new Map<string, { partnerId: string; payee: Payee | undefined; erased: boolean }>();
  const book = createBalanceBook();
  const wiseTransfers = new Map<string, string>();
  const payoutIds: string[] = [];
  const wiseReferences = new Map<string, string>();
  for await (const recorded of store.readAll()) {
    const event: LedgerEvent = decodeStoredEvent(recorded);
    switch (event.type) {
      case 'ProgramConfigured':
        program = event.data;
        break;
      case 'PartnerJoined':
        payees.set(event.data.partnerId, {
          partnerId: event.data.partnerId,
          payee: event.data.payee,
          erased: false,
        });
        break;
      case 'PartnerContactDetailsChanged': {
        const known = payees.get(event.data.partnerId);
        if (known !== undefined && event.data.payee !== undefined) known.payee = event.data.payee;
        break;
      }
      case 'PersonalDataErased': {
        const known = event.data.subject.kind === 'partner' ? payees.get(event.data.subject.id) : undefined;
        if (known !== undefined) known.erased = true;
        break;
      }
      case 'PayoutIssued':
        book.apply(event);
        payoutIds.push(event.data.payoutId);
        if (event.data.method === 'wise') {
          const reference = wiseReferenceOf(event.data.payoutId);
          const named = wiseReferences.get(reference);
          wiseReferences.set(
            reference,
            named === undefined || named === event.data.payoutId ? event.data.payoutId : AMBIGUOUS_REFERENCE,
          );
        }
        break;
      case 'PayoutConfirmed': {
        book.apply(event);
        const reference = event.data.providerReference;
        if (reference !== null && book.payout(event.data.payoutId)?.method === 'wise')
          wiseTransfers.set(reference, event.data.payoutId);
        break;
      }
      default:
        book.apply(event);
    }
  }
  for (const record of payees.values())
    if (record.payee !== undefined && hasMarker(record.payee, ERASED_MARKER)) record.erased = true;
  return { program, payees, book, wiseTransfers, wiseReferences, payoutIds };
};

/** Why a payee's details cannot be used, or undefined when they can. */
export const payeeProblem = (record: PayeeRecord | undefined): string | undefined => {
  if (record === undefined) return 'no partner joined with this id';
  if (record.erased) return 'personal data erased: the payee details are gone, so it cannot be paid';
  if (record.payee === undefined) return 'no payee details';
  if (hasMarker(record.payee, SEALED_MARKER))
    return 'payee details sealed: this reader has no key for the partner (give the key file)';
  return undefined;
};
