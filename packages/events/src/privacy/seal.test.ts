import * as fc from 'fast-check';
import { decodeEventData } from '../catalogue/decode';
import { createInMemoryKeyStore, cachingKeyStore, KeyErasedError } from './keys';
import type { KeyLookup } from './keys';
import { openEventData, sealEventData, sealedKeyIdsOf, sealingKeyIdOf } from './event-data';
import {
  ERASED_MARKER,
  SEALED_MARKER,
  SealedValueError,
  openSealedValue,
  pseudonymOf,
  sealValue,
} from './seal';

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 9);

const joined = {
  partnerId: 'blog-1',
  name: 'Ana Lima',
  partnerType: 'affiliate',
  planId: 'std',
  parentPartnerId: null,
  payoutCurrency: 'EUR',
  couponCodes: ['ANA10'],
  ownAccountIds: [],
  contactEmail: 'ana@example.com',
  payee: { method: 'wise', accountHolderName: 'Ana Lima', iban: 'DE89370400440532013000' },
};

const present = (k: Uint8Array) => (): KeyLookup => ({ state: 'present', key: k });

describe('sealed values', () => {
  it('round-trips any text, and seals the same value at the same place identically', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (context, text) => {
        const sealed = sealValue(key, 'partner:p', context, text);
        expect(sealValue(key, 'partner:p', context, text)).toBe(sealed);
        expect(openSealedValue(key, sealed)).toBe(text);
      }),
    );
  });

  it('refuses a wrong key and a changed ciphertext with an error naming the key, never garbage', () => {
    const sealed = sealValue(key, 'partner:p', 'e', 'Ana Lima');
    expect(() => openSealedValue(otherKey, sealed)).toThrow(SealedValueError);
    expect(() => openSealedValue(otherKey, sealed)).toThrow(/key "partner:p".*authentication failed/);
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[4]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[4] = ct.toString('base64url');
    expect(() => openSealedValue(key, parts.join('.'))).toThrow(/authentication failed/);
    expect(() => openSealedValue(key, 'sealed.v1.garbage')).toThrow(/not a well-formed sealed value/);
  });

  it('pseudonyms are stable per key, differ across keys, and never contain the id', () => {
    const p = pseudonymOf(key, 'visitor-42');
    expect(p).toMatch(/^vp-[0-9a-f]{32}$/);
    expect(pseudonymOf(key, 'visitor-42')).toBe(p);
    expect(pseudonymOf(otherKey, 'visitor-42')).not.toBe(p);
    expect(pseudonymOf(key, p)).toBe(p);
  });
});

describe('sealing an event', () => {
  const sealed = sealEventData('PartnerJoined', 'ev-1', joined, key, 'partner:blog-1') as typeof joined;

  it("encrypts every personal field with the partner's key and nothing else", () => {
    expect(sealingKeyIdOf('PartnerJoined', joined)).toBe('partner:blog-1');
    const bytes = JSON.stringify(sealed);
    for (const plain of ['Ana Lima', 'ana@example.com', 'DE89370400440532013000'])
      expect(bytes).not.toContain(plain);
    expect(sealed).toMatchObject({ partnerId: 'blog-1', couponCodes: ['ANA10'], payee: { method: 'wise' } });
    expect(sealedKeyIdsOf('PartnerJoined', sealed)).toEqual(['partner:blog-1']);
    expect(decodeEventData('PartnerJoined', 2, sealed)._tag).toBe('Right');
  });

  it('opens with the key, and shows the documented markers when the key is erased or not held', () => {
    expect(openEventData('PartnerJoined', sealed, present(key))).toEqual(joined);
    const erased = openEventData('PartnerJoined', sealed, () => ({ state: 'erased', erasedAt: 'x' }));
    expect(erased).toMatchObject({ name: ERASED_MARKER, contactEmail: ERASED_MARKER, partnerId: 'blog-1' });
    const noKey = openEventData('PartnerJoined', sealed, () => ({ state: 'missing' }));
    expect(noKey).toMatchObject({ name: SEALED_MARKER, payee: { iban: SEALED_MARKER, method: 'wise' } });
    expect(() => openEventData('PartnerJoined', sealed, present(otherKey))).toThrow(SealedValueError);
  });

  it('leaves plaintext (events written before sealing) and events with no personal field as they are', () => {
    expect(openEventData('PartnerJoined', joined, present(key))).toBe(joined);
    // Hidden, not erased, once the partner's key was erased: the bytes stay in the store.
    const hidden = openEventData('PartnerJoined', joined, () => ({ state: 'erased', erasedAt: 'x' }));
    expect(hidden).toMatchObject({ name: ERASED_MARKER, payee: { iban: ERASED_MARKER, method: 'wise' } });
    const status = { partnerId: 'p', status: 'active', previousStatus: 'suspended', reason: 'r' };
    expect(sealEventData('PartnerStatusChanged', 'e', status, key, 'k')).toBe(status);
  });
});

describe('key stores', () => {
  it('create a key once, destroy it for good, and refuse to make a new one after erasure', async () => {
    const changes: unknown[] = [];
    const store = cachingKeyStore(createInMemoryKeyStore({ onChange: async (c) => void changes.push(c) }));
    const first = await store.getOrCreate('partner:a');
    expect(first).toHaveLength(32);
    expect(await store.getOrCreate('partner:a')).toEqual(first);
    await store.destroy('partner:a', '2026-01-01T00:00:00.000Z');
    expect(await store.get('partner:a')).toEqual({ state: 'erased', erasedAt: '2026-01-01T00:00:00.000Z' });
    await expect(store.getOrCreate('partner:a')).rejects.toThrow(KeyErasedError);
    expect(await store.get('partner:b')).toEqual({ state: 'missing' });
    expect(JSON.stringify(changes.at(-1))).not.toContain(Buffer.from(first).toString('base64'));
  });

  it('keep the time of the first erasure when a key is destroyed again (in memory, cached, and as written)', async () => {
    const first = '2026-01-01T00:00:00.000Z';
    const later = '2026-03-01T00:00:00.000Z';
    const written: Array<Record<string, string>> = [];
    const inner = createInMemoryKeyStore({ onChange: async (c) => void written.push(c.erased) });
    const cached = cachingKeyStore(inner);
    await cached.getOrCreate('partner:a');
    await cached.destroy('partner:a', first);
    await cached.destroy('partner:a', later);
    expect(await cached.get('partner:a')).toEqual({ state: 'erased', erasedAt: first });
    expect(await inner.get('partner:a')).toEqual({ state: 'erased', erasedAt: first });
    expect(written.at(-1)).toEqual({ 'partner:a': first });
    // A key never made can be recorded as erased too, and keeps its first time as well.
    await inner.destroy('partner:b', later);
    await inner.destroy('partner:b', first);
    expect(await inner.get('partner:b')).toEqual({ state: 'erased', erasedAt: later });
  });
});
