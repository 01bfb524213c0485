import { randomBytes } from 'node:crypto';
import { KEY_BYTES } from './seal';

/** What a key store holds for a key id: the key, a record that it was destroyed, or nothing. */
export type KeyLookup =
  | { readonly state: 'present'; readonly key: Uint8Array }
  | { readonly state: 'erased'; readonly erasedAt: string }
  | { readonly state: 'missing' };

/**
 * The key store port: where the per-subject keys of crypto-shredding live. Implement it over a KMS (AWS
 * KMS, GCP KMS, Vault transit: keep there a data key per key id, wrapped by the KMS) to keep keys out of
 * the ledger's host. Implementations must never log a key.
 */
export interface KeyStore {
  /** The key of `keyId`, the record of its erasure, or `missing`. */
  readonly get: (keyId: string) => Promise<KeyLookup>;
  /**
   * The key of `keyId`, made (32 random bytes) and kept when there is none yet. Refused for a key that was
   * erased: a subject's data is never sealed again with a new key after its erasure was recorded.
   */
  readonly getOrCreate: (keyId: string) => Promise<Uint8Array>;
  /**
   * Destroys the key of `keyId` for good, keeping only the time of its erasure. A key erased before keeps
   * the time of its first erasure: destroying it again changes nothing.
   */
  readonly destroy: (keyId: string, erasedAt: string) => Promise<void>;
  /**
   * Forgets a key that `getOrCreate` made for a command the ledger then refused, before anything was
   * written with it, so that a refused command leaves no key behind (the visitors' key of a new
   * generation, for a refused click). Only when the store still holds exactly `key`; an erased or other key
   * is left as it is. Optional: a store without it keeps such a key, unused (harmless, but it is key
   * material that nothing needs).
   */
  readonly discard?: (keyId: string, key: Uint8Array) => Promise<void>;
}

/** A key that was erased was asked for again to seal new data. */
export class KeyErasedError extends Error {
  override readonly name = 'KeyErasedError';
  constructor(readonly keyId: string) {
    super(`the key ${JSON.stringify(keyId)} was erased: no new personal data of its subject can be sealed`);
  }
}

/** The state of a key store, as the in-memory and file stores keep it. */
export interface KeyStoreContents {
  /** Keys by id, base64. */
  readonly keys: Record<string, string>;
  /** Erased key ids, with when. */
  readonly erased: Record<string, string>;
}

/** Options of {@link createInMemoryKeyStore}. */
export interface InMemoryKeyStoreOptions {
  /** Where new keys come from. Default: node:crypto's randomBytes. Inject one for reproducible tests. */
  readonly random?: (bytes: number) => Uint8Array;
  /** The keys it starts with. */
  readonly contents?: KeyStoreContents;
  /** Called after every change, with the whole new state (the file key store writes it). */
  readonly onChange?: (contents: KeyStoreContents) => Promise<void>;
}

/** A key store in memory: for tests, and the base of the file key store. */
export const createInMemoryKeyStore = (options: InMemoryKeyStoreOptions = {}): KeyStore => {
  const random = options.random ?? ((n: number) => randomBytes(n));
  const keys = new Map(Object.entries(options.contents?.keys ?? {}));
  const erased = new Map(Object.entries(options.contents?.erased ?? {}));
  const changed = async () =>
    options.onChange?.({ keys: Object.fromEntries(keys), erased: Object.fromEntries(erased) });
  const lookup = (keyId: string): KeyLookup => {
    const key = keys.get(keyId);
    if (key !== undefined) return { state: 'present', key: Buffer.from(key, 'base64') };
    const at = erased.get(keyId);
    return at === undefined ? { state: 'missing' } : { state: 'erased', erasedAt: at };
  };
  return {
    get: async (keyId) => lookup(keyId),
    getOrCreate: async (keyId) => {
      const found = lookup(keyId);
      if (found.state === 'present') return found.key;
      if (found.state === 'erased') throw new KeyErasedError(keyId);
      const key = Buffer.from(random(KEY_BYTES));
      if (key.length !== KEY_BYTES) throw new Error(`a key must be ${KEY_BYTES} bytes`);
      keys.set(keyId, key.toString('base64'));
      await changed();
      return key;
    },
    destroy: async (keyId, erasedAt) => {
      keys.delete(keyId);
      // A repeated erasure (a retry, a second request) must not move the date the key was destroyed.
      if (!erased.has(keyId)) erased.set(keyId, erasedAt);
      await changed();
    },
    discard: async (keyId, key) => {
      if (keys.get(keyId) !== Buffer.from(key).toString('base64')) return;
      keys.delete(keyId);
      await changed();
    },
  };
};

/**
 * Keeps the keys a key store gives in memory, so that a KMS is asked once per key id (a replay reads every
 * partner's events). `destroy` forgets the cached key before it asks the store to destroy it.
 */
export const cachingKeyStore = (store: KeyStore): KeyStore => {
  const cache = new Map<string, Promise<KeyLookup>>();
  const get = (keyId: string): Promise<KeyLookup> => {
    let found = cache.get(keyId);
    if (found === undefined) {
      found = store.get(keyId);
      cache.set(keyId, found);
      found.catch(() => cache.delete(keyId));
    }
    return found;
  };
  return {
    get,
    getOrCreate: async (keyId) => {
      const found = await get(keyId);
      if (found.state === 'present') return found.key;
      cache.delete(keyId);
      const key = await store.getOrCreate(keyId);
      cache.set(keyId, Promise.resolve({ state: 'present', key }));
      return key;
    },
    destroy: async (keyId, erasedAt) => {
      cache.delete(keyId);
      await store.destroy(keyId, erasedAt);
      // Read back rather than assume `erasedAt`: a key erased before keeps the time of its first erasure.
    },
    discard: async (keyId, key) => {
      cache.delete(keyId);
      await store.discard?.(keyId, key);
    },
  };
};
