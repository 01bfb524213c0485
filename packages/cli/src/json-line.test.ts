import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, parseJsonLine } from './json-line';

describe('reading one NDJSON line', () => {
  it('refuses a key repeated in one object, naming it', () => {
    expect(parseJsonLine('{"command":"issuePayout","amount":"1.00","amount":"99999.00"}')).toEqual(
      E.left({ field: 'amount', message: expect.stringContaining('appears twice') }),
    );
    expect(parseJsonLine('{"a":{"b":[{"c":1},{"c":2,"c":3}]}}')).toEqual(
      E.left(expect.objectContaining({ field: 'a.b[1].c' })),
    );
    // The same key in two objects, or in a string, is no repeat.
    expect(parseJsonLine('{"a":{"x":1},"b":{"x":2},"c":"\\"a\\":1,\\"a\\":2"}')).toEqual(
      E.right({ a: { x: 1 }, b: { x: 2 }, c: '"a":1,"a":2' }),
    );
    // Keys written with escapes are compared as the strings they denote.
    expect(parseJsonLine('{"amount":1,"\\u0061mount":2}')).toEqual(
      E.left(expect.objectContaining({ field: 'amount' })),
    );
  });

  it('refuses nesting 200,000 deep with a message of its own, not a stack overflow', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(parseJsonLine(deep)).toEqual(
      E.left({ field: '(line)', message: expect.stringContaining(`deeper than ${MAX_JSON_DEPTH} levels`) }),
    );
    expect(parseJsonLine(`{"a":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`)).toEqual(
      E.right(expect.anything()),
    );
  });

  it('reads any JSON value without repeated keys exactly as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        expect(parseJsonLine(text)).toEqual(E.right(JSON.parse(text)));
      }),
    );
  });

  it('says what is not JSON', () => {
    expect(parseJsonLine('{"a":')).toEqual(
      E.left({ field: '(line)', message: expect.stringMatching(/^not JSON: /) }),
    );
  });
});
