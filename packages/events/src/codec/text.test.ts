import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { isId, isNullableText } from '../catalogue/guards';
import { Id, Text, isWellFormedText } from './primitives';

const codeUnits = fc
  .array(fc.integer({ min: 0x20, max: 0xffff }), { minLength: 1, maxLength: 8 })
  .map((units) => String.fromCharCode(...units));

describe('ids and texts are valid Unicode', () => {
  it('refuse a lone surrogate, naming it', () => {
    for (const bad of ['a\ud800', '\udc00b', 'x\ud800y', '\udbff\udbff']) {
      expect(Id.is(bad)).toBe(false);
      expect(Id.decode(bad)).toEqual(
        E.left([expect.objectContaining({ message: expect.stringContaining('lone surrogate') })]),
      );
      expect(E.isLeft(Text.decode(bad))).toBe(true);
    }
    expect(Id.is('emoji-\ud83d\ude00')).toBe(true);
    expect(E.isRight(Text.decode('caf\u00e9 \ud83d\ude00'))).toBe(true);
  });

  it('the hand-written guards take exactly what the codecs take', () => {
    fc.assert(
      fc.property(codeUnits, (s) => {
        expect(isId(s)).toBe(Id.is(s));
        expect(isNullableText(s)).toBe(Text.is(s));
        if (!isWellFormedText(s)) expect(Id.is(s) || Text.is(s)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
