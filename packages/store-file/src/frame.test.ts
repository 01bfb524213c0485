import * as fc from 'fast-check';
import { crc32, crc32InJavaScript } from './crc';
import { checkFrame, frameEndsAppend, frameHead, frameJson, frameSize, writeFrame } from './frame';
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

describe('crc32', () => {
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
