/**
 * @packageDocumentation
 * partner-ledger's EventStore port on EventStoreDB or KurrentDB (through @eventstore/db-client 6.x), for
 * programs that run a server or a cluster. docs/stores.md says how to run one and what the adapter
 * guarantees.
 */
export { createEventStoreDbStore } from './store';
export type { EventStoreDbConnection, EventStoreDbStore, EventStoreDbStoreOptions } from './store';
export type { EventStoreDbClient } from './client';
export type { SubscriptionCheckpoints } from './checkpoints';
export type { ResubscribeOptions } from './backoff';
export { isEventStoreDbConnectionString, parseConnectionString, redactConnectionString } from './connection';
export type { ConnectionStringSummary } from './connection';
export { serverEventIdFor } from './event-id';
