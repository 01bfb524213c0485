import * as fc from 'fast-check';
import { checkFrame, frameSize, writeFrame } from './frame';
import { checkedFrameEnd } from './verify-chunk';

/**
 * The one-pass verify checks each frame with checkedFrameEnd instead of checkFrame (no object, no Buffer
 * view per frame): it must give checkFrame's verdict on any frame, whole, damaged or cut short.
 */
const fields = fc.record({
  position: fc.integer({ min: 0, max: 2 ** 40 }),
  revision: fc.integer({ min: 0, max: 2 ** 31 }),
  stream: fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
  id: fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
  json: fc.json({ maxDepth: 2 }),
  endsAppend: fc.boolean(),
});

const verdictOf = (buffer: Buffer, at: number, length: number): number => {
  const check = checkFrame(buffer, at, length);
  return check.kind === 'ok' ? check.end : -1;
};

describe('checkedFrameEnd', () => {
  it("gives checkFrame's verdict on any frame, with any byte changed, and cut short anywhere", () => {
    const change = fc.record({
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
      cut: fc.nat(),
      kind: fc.constantFrom('none', 'replace', 'cut', 'both'),
    });
    fc.assert(
      fc.property(fields, fc.nat({ max: 7 }), change, (f, before, { at, byte, cut, kind }) => {
        // The frame at an offset of a larger buffer, as in a chunk.
        const buffer = Buffer.alloc(before + frameSize(f) + 3);
        const end = writeFrame(buffer, before, f);
        expect(checkedFrameEnd(buffer, before, end)).toBe(end);
        if (kind === 'replace' || kind === 'both')
          buffer[before + (at % (end - before))] =
            byte === buffer[before + (at % (end - before))] ? byte ^ 1 : byte;
        const length = kind === 'cut' || kind === 'both' ? before + (cut % (end - before)) : end;
        expect(checkedFrameEnd(buffer, before, length)).toBe(verdictOf(buffer, before, length));
        expect(checkedFrameEnd(buffer, before, length + 3)).toBe(verdictOf(buffer, before, length + 3));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a frame whose checksum, length or names do not check out', () => {
    const buffer = Buffer.alloc(200);
    const end = writeFrame(buffer, 0, {
      position: 7,
      revision: 1,
      stream: 's',
      id: 'e',
      json: '{"a":1}',
      endsAppend: true,
    });
    expect(checkedFrameEnd(buffer, 0, end)).toBe(end);
    for (const offset of [0, 4, 8, 20, 22, end - 1]) {
      const damaged = Buffer.from(buffer);
      damaged[offset] = damaged[offset]! ^ 0x10;
      expect(checkedFrameEnd(damaged, 0, end)).toBe(-1);
    }
    expect(checkedFrameEnd(buffer, 0, end - 1)).toBe(-1);
    expect(checkedFrameEnd(buffer, 0, 7)).toBe(-1);
  });
});
