import {
  hasSealedFields,
  openEventData,
  sealEventData,
  sealedKeyIdsOf,
  sealingKeyIdOf,
} from '@partner-ledger/events';
import type { KeyLookup, KeyStore, NewEvent, RecordedEvent } from '@partner-ledger/events';
import type { PagedReads } from './paged';
import type { EventStore, ReadAllOptions, SubscriptionMessage } from './port';

/**
 * An EventStore that seals personal data on its way in and opens it on its way out (crypto-shredding).
 * Appends encrypt every `sealed` field of the catalogue with the key of the event's partner (made in the key
 * store on first use) before the store beneath hashes and stores the event, so the hash links cover the
 * ciphertext. Reads open sealed fields: the plaintext, `[erased]` for a key that was destroyed, `[sealed]`
 * for one the key store does not hold; a wrong key or a changed ciphertext is a SealedValueError. A
 * plaintext field (written before sealing) of a partner whose key was erased reads as `[erased]`. Only
 * events with a sealed field are touched; the others pass through as they are.
 *
 * Verify the store beneath, not this one: the events read here carry opened data under the hash of the
 * sealed form.
 */
export const createSealingStore = (store: EventStore, keys: KeyStore): EventStore => {
  const seal = async (event: NewEvent): Promise<NewEvent> => {
    if (!hasSealedFields(event.type)) return event;
    const keyId = sealingKeyIdOf(event.type, event.data);
    if (keyId === undefined) return event;
    const key = await keys.getOrCreate(keyId);
    const data = sealEventData(event.type, event.id, event.data, key, keyId);
    return data === event.data ? event : { ...event, data };
  };
  const open = async <E extends RecordedEvent>(event: E): Promise<E> => {
    if (!hasSealedFields(event.type)) return event;
    const subject = sealingKeyIdOf(event.type, event.data);
    if (subject === undefined) return event;
    const ids = new Set([subject, ...sealedKeyIdsOf(event.type, event.data)]);
    const found = new Map<string, KeyLookup>();
    for (const id of ids) found.set(id, await keys.get(id));
    const data = openEventData(event.type, event.data, (id) => found.get(id) ?? { state: 'missing' });
    return data === event.data ? event : { ...event, data };
  };
  async function* openAll(events: AsyncIterable<RecordedEvent>): AsyncIterable<RecordedEvent> {
    for await (const event of events) yield open(event);
  }
  async function* openMessages(
    messages: AsyncIterable<SubscriptionMessage>,
  ): AsyncIterable<SubscriptionMessage> {
    for await (const message of messages)
      yield message.kind === 'event' ? { ...message, event: await open(message.event) } : message;
  }
  async function* openPages(
    pages: AsyncIterable<readonly RecordedEvent[]>,
  ): AsyncIterable<readonly RecordedEvent[]> {
    for await (const page of pages) {
      const opened: RecordedEvent[] = [];
      for (const event of page) opened.push(await open(event));
      yield opened;
    }
  }
  // The store beneath may offer pages besides the port (PagedReads, which eachEvent takes when offered):
  // they are opened too, or a reader through eachEvent would get the sealed events the spread below passed on.
  const pagesBeneath = (store as Partial<PagedReads>).readAllPages;
  const paged: Partial<PagedReads> =
    typeof pagesBeneath === 'function'
      ? { readAllPages: (options?: ReadAllOptions) => openPages(pagesBeneath.call(store, options)) }
      : {};
  return {
    ...store,
    ...paged,
    append: async (stream, events, options) => {
      const sealed: NewEvent[] = [];
      for (const event of events) sealed.push(await seal(event));
      const result = await store.append(stream, sealed, options);
      const opened: RecordedEvent[] = [];
      for (const event of result.events) opened.push(await open(event));
      return { ...result, events: opened };
    },
    readStream: (stream, options) => openAll(store.readStream(stream, options)),
    readAll: (options) => openAll(store.readAll(options)),
    subscribe: (options) => openMessages(store.subscribe(options)),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
  };
};
