import {
  eventTypeFilter,
  excludeSystemEvents,
  isSystemStream,
  streamNameFilter,
} from '@eventstore/db-client';
import type { Filter, RecordedEvent as ClientRecordedEvent } from '@eventstore/db-client';
import { hasLedgerEnvelope } from './metadata';

/**
 * Which events of the database belong to the ledger, for the reads and subscriptions of $all:
 * - `all`: every event outside the server's system streams and types (a database of its own);
 * - `streamPrefixes`: events in streams whose names start with one of the prefixes (a shared database);
 * - `eventTypePrefixes`: events whose types start with one of the prefixes.
 * In every case an event must also carry the ledger's envelope: anything else (another application's
 * events, the adapter's own checkpoints) is skipped.
 */
export type LedgerSelection =
  | { readonly kind: 'all' }
  | { readonly kind: 'streamPrefixes'; readonly prefixes: readonly string[] }
  | { readonly kind: 'eventTypePrefixes'; readonly prefixes: readonly string[] };

export const selectionFromOptions = (options: {
  readonly namespace?: string;
  readonly streamPrefixes?: readonly string[];
  readonly eventTypePrefixes?: readonly string[];
}): LedgerSelection => {
  const { namespace, streamPrefixes, eventTypePrefixes } = options;
  const given = [namespace, streamPrefixes, eventTypePrefixes].filter((option) => option !== undefined);
  if (given.length > 1) {
    throw new TypeError(
      'give one of namespace, streamPrefixes and eventTypePrefixes: the server filters on one of them',
    );
  }
  if (namespace !== undefined) {
    if (typeof namespace !== 'string' || !/^[^$\s][^\s]*$/.test(namespace)) {
      throw new TypeError(
        `a namespace is a prefix without spaces that does not start with $, got ${JSON.stringify(namespace)}`,
      );
    }
    return { kind: 'streamPrefixes', prefixes: [namespace] };
  }
  const check = (name: string, prefixes: readonly string[]): void => {
    if (prefixes.length === 0 || prefixes.some((prefix) => typeof prefix !== 'string' || prefix === '')) {
      throw new TypeError(`${name} must list at least one non-empty prefix`);
    }
  };
  if (streamPrefixes !== undefined) {
    check('streamPrefixes', streamPrefixes);
    return { kind: 'streamPrefixes', prefixes: [...streamPrefixes] };
  }
  if (eventTypePrefixes !== undefined) {
    check('eventTypePrefixes', eventTypePrefixes);
    return { kind: 'eventTypePrefixes', prefixes: [...eventTypePrefixes] };
  }
  return { kind: 'all' };
};

/**
 * The server-side filter of a subscription to $all for a selection. `checkpointInterval` is how many
 * windows of filtered-out events the server scans between two checkpoint messages; the adapter does not
 * use checkpoints, so the client's default is kept.
 */
export const serverFilterFor = (selection: LedgerSelection): Filter => {
  switch (selection.kind) {
    case 'all':
      return excludeSystemEvents();
    case 'streamPrefixes':
      return streamNameFilter({ prefixes: [...selection.prefixes] });
    case 'eventTypePrefixes':
      return eventTypeFilter({ prefixes: [...selection.prefixes] });
  }
};

/**
 * The same test on the client's side, applied to everything the adapter reads from $all (reads of $all
 * cannot be filtered by the server with this client, and a subscription's filter is only a first cut).
 */
export const selects =
  (selection: LedgerSelection) =>
  (record: ClientRecordedEvent): boolean => {
    if (isSystemStream(record.streamId) || record.type.startsWith('$')) return false;
    const name = selection.kind === 'eventTypePrefixes' ? record.type : record.streamId;
    if (selection.kind !== 'all' && !selection.prefixes.some((prefix) => name.startsWith(prefix)))
      return false;
    return hasLedgerEnvelope(record);
  };

/** How the ledger's stream names map to the server's: under the namespace, if there is one. */
export interface StreamNaming {
  readonly toServer: (stream: string) => string;
  readonly fromServer: (serverStream: string) => string;
}

export const streamNaming = (namespace: string | undefined): StreamNaming =>
  namespace === undefined
    ? { toServer: (stream) => stream, fromServer: (serverStream) => serverStream }
    : {
        toServer: (stream) => `${namespace}${stream}`,
        fromServer: (serverStream) =>
          serverStream.startsWith(namespace) ? serverStream.slice(namespace.length) : serverStream,
      };
