import { createHash } from 'node:crypto';
import * as fc from 'fast-check';
import canonicalize from 'canonicalize';
import { GENESIS_DIGEST, canonicalJson, computeEventHash, nextDigest, sameEventBody } from './hash';

const base = {
  id: 'e-1',
  type: 'PartnerJoined',
  schemaVersion: 1,
  stream: 'partner-p-1',
  revision: 0,
  occurredAt: '2026-01-01T00:00:00.000Z',
  recordedAt: '2026-01-01T00:00:01.000Z',
  actor: 'user:ana',
  correlationId: 'c-1',
  causationId: null,
  data: { partnerId: 'p-1', name: 'Acme Affiliates', amount: '10.00' },
  prevHash: null,
};

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys and drops insignificant white space', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: '1.50', y: 2 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":"1.50"}}',
    );
  });

  it('is byte for byte what the canonicalize package (by the RFC 8785 author) writes (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 2000 },
    );
    const awkward = {
      '\u20ac': 1,
      '\r': 2,
      '\ud83d\ude00': 3,
      a: [1e21, 1e-7, -0, 0.1 + 0.2, 'l\u2028s', '\u0000', 'lone \ud800', '\udfff\ud800', 'q"\\'],
      z: { y: undefined },
    };
    expect(canonicalJson(awkward)).toBe(canonicalize(awkward));
  });

  it('refuses values that have no JSON form', () => {
    expect(() => canonicalJson(undefined)).toThrow('no JSON form');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow('cannot canonicalize the number NaN');
    expect(() => canonicalJson({ n: 1n })).toThrow('bigint');
  });

  it('is independent of key order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(record));
      }),
    );
  });
});

describe('event hashes', () => {
  it('is a 64-digit SHA-256 and stable for the same event', () => {
    expect(computeEventHash(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(
      computeEventHash({ ...base, data: { amount: '10.00', name: 'Acme Affiliates', partnerId: 'p-1' } }),
    ).toBe(computeEventHash(base));
  });

  it.each([
    ['an amount', { data: { ...base.data, amount: '10.01' } }],
    ['the predecessor', { prevHash: 'a'.repeat(64) }],
    ['the revision', { revision: 1 }],
    ['the stream', { stream: 'partner-p-2' }],
    ['recordedAt', { recordedAt: '2026-01-01T00:00:02.000Z' }],
    ['the actor', { actor: 'user:bob' }],
  ])('changes when %s changes', (_what, change) => {
    expect(computeEventHash({ ...base, ...change })).not.toBe(computeEventHash(base));
  });

  it("is SHA-256 of the canonicalize package's text of the envelope, with or without canonical data given (property)", () => {
    const text = fc.string({ unit: 'binary' });
    const envelope = fc.record({
      id: text,
      type: text,
      schemaVersion: fc.oneof(fc.nat(), fc.double({ noNaN: true, noDefaultInfinity: true })),
      stream: text,
      revision: fc.oneof(fc.nat(), fc.integer({ min: -5, max: -1 })),
      occurredAt: text,
      recordedAt: text,
      actor: text,
      correlationId: text,
      causationId: fc.option(text, { nil: null }),
      data: fc.jsonValue(),
      prevHash: fc.option(text, { nil: null }),
    });
    fc.assert(
      fc.property(envelope, (event) => {
        const expected = createHash('sha256').update(canonicalize(event)!, 'utf8').digest('hex');
        expect(computeEventHash(event)).toBe(expected);
        expect(computeEventHash(event, canonicalJson(event.data))).toBe(expected);
      }),
    );
  });

  it('does not cover the global position, which each store assigns itself', () => {
    expect(computeEventHash({ ...base, position: 7 } as never)).toBe(
      computeEventHash({ ...base, position: 9 } as never),
    );
  });
});

describe('digests', () => {
  it('folds hashes in order: a different order or a missing hash gives another digest', () => {
    const [h1, h2] = ['1'.repeat(64), '2'.repeat(64)];
    const forward = nextDigest(nextDigest(GENESIS_DIGEST, h1), h2);
    expect(forward).toMatch(/^[0-9a-f]{64}$/);
    expect(nextDigest(nextDigest(GENESIS_DIGEST, h2), h1)).not.toBe(forward);
    expect(nextDigest(GENESIS_DIGEST, h2)).not.toBe(forward);
  });
});

describe('sameEventBody', () => {
  it('treats a retry with another recordedAt or actor as the same fact', () => {
    expect(sameEventBody(base, { ...base, recordedAt: '2026-02-01T00:00:00.000Z', actor: 'retry' })).toBe(
      true,
    );
  });

  it('treats other data or another occurrence time as another fact', () => {
    expect(sameEventBody(base, { ...base, data: { ...base.data, amount: '11.00' } })).toBe(false);
    expect(sameEventBody(base, { ...base, occurredAt: '2026-01-02T00:00:00.000Z' })).toBe(false);
  });
});
