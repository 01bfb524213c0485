import * as fc from 'fast-check';
import { crc32, crc32InJavaScript, crc32OfText } from './crc';
import {
  checkFrame,
  frameEndsAppend,
  frameHead,
  frameJson,
  frameSize,
  frameSizeBound,
  idFingerprint,
  recordSuffixLength,
  writeFrame,
  writeRecordFrame,
} from './frame';
import type { FrameFields } from './frame';

const fields = fc.record({
  position: fc.integer({ min: 0, max: 2 ** 40 }),
  revision: fc.integer({ min: 0, max: 2 ** 31 }),
  stream: fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }),
  id: fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }),
  json: fc.json(),
  endsAppend: fc.boolean(),
});

const framed = (f: FrameFields): Buffer => {
  const buffer = Buffer.alloc(frameSize(f));
  expect(writeFrame(buffer, 0, f)).toBe(buffer.length);
  return buffer;
};

describe('frames', () => {
  it('read back exactly what was written, for any stream, id and JSON (UTF-8 included)', () => {
    fc.assert(
      fc.property(fields, (f) => {
        const buffer = framed(f);
        const check = checkFrame(buffer, 0, buffer.length);
        expect(check).toEqual({ kind: 'ok', end: buffer.length });
        expect(frameHead(buffer, 0)).toMatchObject({
          position: f.position,
          revision: f.revision,
          stream: f.stream,
          id: f.id,
        });
        expect(frameJson(buffer, 0, buffer.length)).toBe(f.json);
        expect(frameEndsAppend(buffer, 0)).toBe(f.endsAppend);
      }),
    );
  });

  it('a frame cut short anywhere is incomplete, never ok', () => {
    fc.assert(
      fc.property(fields, fc.nat(), (f, cut) => {
        const buffer = framed(f);
        const end = cut % buffer.length;
        expect(checkFrame(buffer, 0, end).kind).toBe('incomplete');
      }),
    );
  });

  it('any single flipped bit anywhere in a frame is caught', () => {
    fc.assert(
      fc.property(fields, fc.nat(), fc.integer({ min: 0, max: 7 }), (f, at, bit) => {
        const buffer = framed(f);
        const offset = at % buffer.length;
        buffer[offset]! ^= 1 << bit;
        expect(checkFrame(buffer, 0, buffer.length).kind).not.toBe('ok');
      }),
    );
  });
});

const hexHash = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });

describe('the frame of an appended event', () => {
  it('is byte for byte the frame of its text with the last brace replaced by hash and position, within the bound', () => {
    fc.assert(
      fc.property(
        fields,
        fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, 9, 10, 99, 100, 2 ** 32, Number.MAX_SAFE_INTEGER)),
        fc.dictionary(fc.string({ unit: 'grapheme' }), fc.json(), { minKeys: 1 }),
        // The store's hashes are hex; any other text is written as it is too (the same bytes as a template).
        fc.oneof(hexHash, fc.string({ unit: 'grapheme' })),
        (f, position, object, hash) => {
          const text = JSON.stringify(object);
          const suffix = `,"hash":"${hash}","position":${position}}`;
          expect(recordSuffixLength(hash, position)).toBe(suffix.length);
          const expected = framed({ ...f, position, json: text.slice(0, -1), jsonSuffix: suffix });
          const bound = frameSizeBound(f.stream, f.id, text.length + suffix.length);
          expect(bound).toBeGreaterThanOrEqual(expected.length);
          const target = Buffer.alloc(bound + 10, 0xee);
          const end = writeRecordFrame(
            target,
            10,
            position,
            f.revision,
            f.stream,
            f.id,
            text,
            hash,
            f.endsAppend,
          );
          expect(end - 10).toBe(expected.length);
          expect(target.subarray(10, end).equals(expected)).toBe(true);
          if (/^[0-9a-f]*$/.test(hash))
            expect(JSON.parse(frameJson(target, 10, end))).toEqual({ ...object, hash, position });
        },
      ),
    );
  });

  it('writes names that turn out not to be ASCII half-way, and long ones, as UTF-8 (the byte-by-byte path gives way)', () => {
    for (const [stream, id] of [
      ['partner-é', 'évènement-1'],
      ['a'.repeat(95) + '€', 'b'.repeat(97)],
      ['x'.repeat(200), 'id-😀'],
    ] as const) {
      const text = '{"a":1}';
      const hash = 'f'.repeat(64);
      const suffix = `,"hash":"${hash}","position":7}`;
      const expected = framed({
        position: 7,
        revision: 3,
        stream,
        id,
        json: '{"a":1',
        jsonSuffix: suffix,
        endsAppend: true,
      });
      const target = Buffer.alloc(frameSizeBound(stream, id, text.length + suffix.length), 0xee);
      const end = writeRecordFrame(target, 0, 7, 3, stream, id, text, hash, true);
      expect(target.subarray(0, end).equals(expected)).toBe(true);
      expect(frameHead(target, 0)).toMatchObject({ stream, id });
    }
  });
});

describe('crc32', () => {
  it('of a text (the id fingerprint) is the CRC-32 of its UTF-8 bytes, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (text) => {
        expect(crc32OfText(text)).toBe(crc32(Buffer.from(text)));
        expect(idFingerprint(text)).toBe(idFingerprint(Buffer.from(text)));
        expect(crc32OfText(text)).toBe(crc32InJavaScript(Buffer.from(text)));
      }),
    );
  });

  it('the JavaScript fallback agrees with the native one, also when chained', () => {
    expect(crc32InJavaScript(Buffer.from('123456789'))).toBe(0xcbf43926); // the standard check value
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
        expect(crc32InJavaScript(a)).toBe(crc32(a));
        expect(crc32InJavaScript(b, crc32InJavaScript(a))).toBe(crc32(b, crc32(a)));
      }),
    );
  });
});
