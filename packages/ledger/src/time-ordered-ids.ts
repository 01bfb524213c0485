import { randomBytes } from 'node:crypto';

/** `crypto.randomBytes`, drawn from a pool of 4 KiB refilled when used up (one system call per 409 ids). */
const pooledRandomBytes = (): ((size: number) => Uint8Array) => {
  let pool = new Uint8Array(0);
  let at = 0;
  return (size) => {
    if (at + size > pool.length) {
      pool = randomBytes(Math.max(4096, size));
      at = 0;
    }
    at += size;
    return pool.subarray(at - size, at);
  };
};

// Two hex digits per byte value: seven random bytes spelled without a Buffer copy of them (Buffer.from of a
// Uint8Array view copies it element by element).
const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/**
 * A generator of UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that starts at
 * a random value each millisecond, then 62 random bits. Ids sort by the time they were made, byte-wise
 * and as strings, and stay in order within one generator when many come in the same millisecond or the
 * clock steps back (the counter runs on, and past its end the timestamp moves one millisecond ahead):
 * what a service wants from correlation ids it later reads in order. The ledger's default `ids`.
 *
 * @param now - The clock in Unix milliseconds (default `Date.now`); inject one for reproducible tests.
 * @param random - Random bytes (default `crypto.randomBytes`, drawn from a pool of 4 KiB).
 */
export const timeOrderedIds = (
  now: () => number = Date.now,
  random: (size: number) => Uint8Array = pooledRandomBytes(),
): (() => string) => {
  let lastMs = -1;
  let counter = 0;
  return () => {
    const bytes = random(10);
    let ms = now();
    if (ms > lastMs) {
      lastMs = ms;
      // Start low in the 12-bit range so that many ids fit in one millisecond before it runs over.
      counter = ((bytes[0]! << 8) | bytes[1]!) & 0x7ff;
    } else {
      ms = lastMs;
      counter += 1;
      if (counter > 0xfff) {
        lastMs = ms = lastMs + 1;
        counter = 0;
      }
    }
    const hex = ms.toString(16).padStart(12, '0');
    const randA = (0x7000 | counter).toString(16);
    const variant = ((bytes[2]! & 0x3f) | 0x80).toString(16).padStart(2, '0');
    let rest = '';
    for (let i = 3; i < 10; i++) rest += HEX_BYTES[bytes[i]!];
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${randA}-${variant}${rest.slice(0, 2)}-${rest.slice(2, 14)}`;
  };
};
