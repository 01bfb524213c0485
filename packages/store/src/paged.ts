import type { RecordedEvent } from '@partner-ledger/events';
import type { EventStore, ReadAllOptions } from './port';

/**
 * What a store may offer besides the port: readAll a page at a time. A consumer that walks the whole log
 * (a replay, a verify) then takes one promise per page instead of one per event, which for small events
 * costs about as much as reading them. The file store offers it.
 */
export interface PagedReads {
  /**
   * The events `readAll(options)` gives, in the same order, in arrays of at least one event (the store's
   * own pages, each a fresh array).
   */
  readAllPages(options?: ReadAllOptions): AsyncIterable<readonly RecordedEvent[]>;
}

/** Where eachEvent reads from. */
export interface EachEventOptions {
  /**
   * A source of pages to use instead of readAllPages or readAll (verifyStore passes the file store's
   * readAllForVerify).
   */
  readonly pages?: (options: ReadAllOptions) => AsyncIterable<readonly RecordedEvent[]>;
}

/**
 * Calls `visit` with every event `store.readAll(options)` gives, in order, page by page when the store
 * offers pages (PagedReads) and one by one otherwise. `visit` returns false to stop, or a promise of that
 * (awaited before the next event); a synchronous answer costs no promise.
 */
export const eachEvent = async (
  store: EventStore,
  options: ReadAllOptions,
  visit: (event: RecordedEvent) => boolean | Promise<boolean>,
  { pages }: EachEventOptions = {},
): Promise<void> => {
  const paged = (store as Partial<PagedReads>).readAllPages;
  const source = pages ?? (typeof paged === 'function' ? paged.bind(store) : undefined);
  if (source === undefined) {
    for await (const event of store.readAll(options)) {
      const go = visit(event);
      if (go === false || (go !== true && !(await go))) return;
    }
    return;
  }
  for await (const page of source(options))
    for (let i = 0; i < page.length; i += 1) {
      const go = visit(page[i]!);
      if (go === false || (go !== true && !(await go))) return;
    }
};
