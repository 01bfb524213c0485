import { createHash } from 'node:crypto';
import * as fc from 'fast-check';
import canonicalize from 'canonicalize';
import {
  GENESIS_DIGEST,
  canonicalJson,
  canonicalJsonByStrings,
  computeEventHash,
  encodeHashedText,
  hashEvent,
  hashOfEncodedText,
  nextDigest,
  sameEventBody,
} from './hash';

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

  describe('the serializer that writes into a scratch buffer', () => {
    // Strings mostly of plain ASCII (copied character by character) with now and then a character that
    // must be escaped or is not ASCII (JSON.stringify's escaping, Buffer#write), in keys and values.
    const plain = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7f }).map((c) => String.fromCharCode(c)),
    });
    const odd = fc
      .tuple(
        plain,
        fc.oneof(
          fc.integer({ min: 0, max: 0x1f }),
          fc.constantFrom(0x22, 0x5c, 0x7f, 0x80, 0xe9, 0x2028, 0xd800, 0xdfff, 0xfffd),
        ),
        plain,
      )
      .map(([before, code, after]) => before + String.fromCharCode(code) + after);
    const text = fc.oneof({ weight: 5, arbitrary: plain }, { weight: 1, arbitrary: odd });
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        text,
        fc.double(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.array(tie('value')),
        fc.dictionary(text, tie('value')),
      ),
    }));

    it('writes what the string-building serializer and the canonicalize package write (property)', () => {
      fc.assert(
        fc.property(
          fc
            .dictionary(text, value)
            .filter((record) =>
              Object.values(record).every((member) => typeof member !== 'number' || Number.isFinite(member)),
            ),
          (record) => {
            let expected: string;
            try {
              expected = canonicalJsonByStrings(record);
            } catch (error) {
              expect(() => canonicalJson(record)).toThrow((error as Error).message);
              return;
            }
            expect(canonicalJson(record)).toBe(expected);
            expect(canonicalJson(record)).toBe(canonicalize(record));
          },
        ),
        { numRuns: 3000 },
      );
    });

    it('grows for a large value, stays usable after a refusal, and serves a toJSON that canonicalises in turn', () => {
      const large = {
        items: Array.from({ length: 5000 }, (_, i) => ({ i, name: `é-${i}`, tag: 'x'.repeat(20) })),
      };
      expect(canonicalJson(large)).toBe(canonicalize(large));
      expect(() => canonicalJson({ a: 'x', n: Number.POSITIVE_INFINITY })).toThrow(
        'cannot canonicalize the number',
      );
      expect(canonicalJson({ b: 'y', a: 'x' })).toBe('{"a":"x","b":"y"}');
      const nested = { z: 1, inner: { toJSON: () => canonicalJson({ d: 2, c: 'é' }) } };
      expect(canonicalJson(nested)).toBe(`{"inner":${JSON.stringify('{"c":"é","d":2}')},"z":1}`);
      expect(canonicalJson({ a: undefined, b: [undefined, () => 1], c: Symbol('s') })).toBe(
        '{"b":[null,null]}',
      );
    });
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

  describe('encodeHashedText and hashOfEncodedText (the text written as bytes, hashed where it lies)', () => {
    // Envelopes of both kinds: fields of ASCII with nothing to escape (written byte by byte) and fields of
    // any UTF-16 text, lone surrogates, quotes, backslashes and control characters included (hashedText).
    const plainText = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7f }).map((c) => String.fromCharCode(c)),
    });
    // Plain text with one character that is not plain, or is at the edge of what is (0x1f, 0x7f, 0x80).
    const oddText = fc
      .tuple(
        plainText,
        fc.oneof(
          fc.integer({ min: 0, max: 0x1f }),
          fc.constantFrom(0x22, 0x5c, 0x7f, 0x80, 0xe9, 0x2028, 0xd800, 0xdfff, 0xfffd),
        ),
        plainText,
      )
      .map(([before, code, after]) => before + String.fromCharCode(code) + after);
    const anyText = fc.oneof(plainText, fc.string({ unit: 'binary' }), oddText);
    // Mostly plain with now and then one odd field: the byte-by-byte path must notice it and step aside.
    const mostlyPlain = fc.oneof({ weight: 6, arbitrary: plainText }, { weight: 1, arbitrary: oddText });
    const envelopes = () => fc.oneof(envelope(plainText), envelope(mostlyPlain), envelope(anyText));
    const envelope = (text: fc.Arbitrary<string>) =>
      fc.record({
        id: text,
        type: text,
        schemaVersion: fc.oneof(
          fc.nat(),
          fc.integer({ min: -1000, max: -1 }),
          fc.constant(-0),
          fc.constant(Number.MAX_SAFE_INTEGER),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
        ),
        stream: text,
        revision: fc.oneof(fc.nat(), fc.integer({ min: -5, max: -1 }), fc.constant(Number.MIN_SAFE_INTEGER)),
        occurredAt: text,
        recordedAt: text,
        actor: text,
        correlationId: text,
        causationId: fc.option(text, { nil: null }),
        data: fc.jsonValue(),
        prevHash: fc.option(text, { nil: null }),
      });

    it("writes the UTF-8 of hashEvent's text, and its hash is the event's hash, at any offset (property)", () => {
      fc.assert(
        fc.property(envelopes(), fc.nat(40), fc.boolean(), (event, offset, given) => {
          const { canonicalText, hash } = hashEvent(event);
          const expected = Buffer.from(canonicalize(event)!, 'utf8');
          expect(Buffer.from(canonicalText, 'utf8').equals(expected)).toBe(true);
          const target = Buffer.alloc(offset + 3 * canonicalText.length + 512, 0xaa);
          const end = encodeHashedText(event, given ? canonicalJson(event.data) : undefined, target, offset);
          expect(end).toBe(offset + expected.length);
          expect(target.subarray(offset, end).equals(expected)).toBe(true);
          expect(target.subarray(0, offset).every((byte) => byte === 0xaa)).toBe(true);
          expect(hashOfEncodedText(target, offset, end)).toBe(hash);
          expect(hash).toBe(createHash('sha256').update(expected).digest('hex'));
        }),
        { numRuns: 1500 },
      );
    });

    it('says -1 when the target may lack the room, and never writes past its end (property)', () => {
      fc.assert(
        fc.property(envelopes(), fc.nat(2000), (event, size) => {
          const expected = Buffer.from(hashEvent(event).canonicalText, 'utf8');
          const backing = Buffer.alloc(size + 16, 0xaa);
          const target = backing.subarray(0, size);
          const end = encodeHashedText(event, undefined, target, 0);
          if (end === -1) expect(size).toBeLessThan(3 * expected.length + 256);
          else expect(target.subarray(0, end).equals(expected)).toBe(true);
          expect(backing.subarray(size).every((byte) => byte === 0xaa)).toBe(true);
        }),
        { numRuns: 1000 },
      );
    });

    it('writes a bench-like event byte by byte, and text with a quote, a non-ASCII letter or a lone surrogate as hashEvent does', () => {
      const event = { ...base, causationId: 'c-0', prevHash: 'f'.repeat(64), revision: 12, schemaVersion: 3 };
      for (const change of [
        {},
        { actor: 'user:"ana"' },
        { stream: 'partner-é' },
        { id: 'e-\ud800' },
        { type: 'T\u0001' },
        { causationId: 'a\\b' },
        { revision: -0 },
      ]) {
        const changed = { ...event, ...change };
        const target = Buffer.alloc(4096);
        const end = encodeHashedText(changed, undefined, target, 7);
        expect(target.toString('utf8', 7, end)).toBe(hashEvent(changed).canonicalText);
        expect(hashOfEncodedText(target, 7, end)).toBe(computeEventHash(changed));
      }
    });
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
