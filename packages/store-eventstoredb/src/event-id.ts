import { createHash } from 'node:crypto';

// EventStoreDB requires every event id to be a UUID, and uses it for its own idempotency check on appends.
// Ledger ids are free-form (`conversion:ord_123`), so the adapter derives the server's id from the ledger's
// one, deterministically: a retry of the same ledger event carries the same server id.

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The namespace of the name-based UUIDs that the adapter derives (RFC 9562 section 5.5). Fixed for ever:
 * changing it would give the same ledger event another server id.
 */
export const LEDGER_ID_NAMESPACE = '0b1c6a4e-5d0f-4c1e-9a57-2f8d3e6b7c91';

const uuidBytes = (uuid: string): Buffer => Buffer.from(uuid.replace(/-/g, ''), 'hex');

const formatUuid = (bytes: Buffer): string => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

/** A version 5 (SHA-1, name-based) UUID of `name` in `namespace`, as RFC 9562 defines it. */
export const uuidV5 = (namespace: string, name: string): string => {
  if (!CANONICAL_UUID.test(namespace)) throw new RangeError(`not a UUID namespace: ${namespace}`);
  const digest = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const bytes = Buffer.from(digest.subarray(0, 16));
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  return formatUuid(bytes);
};

/**
 * The server's id for a ledger event: the ledger id itself when it already is a UUID in canonical form
 * (lowercase), so that both ids agree in the server's UI; otherwise a UUID v5 derived from it. An uppercase
 * UUID is derived too, so that two ledger ids that differ only by case never share a server id.
 */
export const serverEventIdFor = (ledgerId: string): string =>
  CANONICAL_UUID.test(ledgerId) ? ledgerId : uuidV5(LEDGER_ID_NAMESPACE, ledgerId);
