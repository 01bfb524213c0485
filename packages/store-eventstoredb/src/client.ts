import type { EventStoreDBClient } from '@eventstore/db-client';

/**
 * The part of @eventstore/db-client that the adapter uses, and nothing more. It is picked from the
 * client's own class, so that a change of these methods in a new client version breaks the build here,
 * and so that the unit tests can drive the adapter with a scripted client of exactly this shape.
 */
export type EventStoreDbClient = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'setStreamMetadata' | 'dispose'
>;
