import { expectedOutput, missingLines, snippetsOf } from './snippets';

const doc = [
  '# A doc',
  '```ts runnable esm cjs',
  'console.log(1); // => 1',
  '```',
  '```sh illustrative',
  'npm install x',
  '```',
  '```sh',
  'echo unmarked',
  '```',
  '```sh runnable',
  'echo a',
  '# => a',
  '```',
  '```json',
  '{}',
  '```',
].join('\n');

describe('the snippets of a document', () => {
  it('reads each TypeScript and shell block with its marker, and nothing else', () => {
    const found = snippetsOf('doc.md', doc);
    expect(found.map((s) => [s.line, s.language, s.mode, s.esm, s.cjs])).toEqual([
      [2, 'ts', 'runnable', true, true],
      [5, 'sh', 'illustrative', false, false],
      [8, 'sh', 'unmarked', false, false],
      [11, 'sh', 'runnable', false, false],
    ]);
    expect(expectedOutput(found[0]!)).toEqual(['1']);
    expect(expectedOutput(found[3]!)).toEqual(['a']);
  });

  it('finds what a snippet says it prints in order, and names what is missing', () => {
    expect(missingLines('x\na\ny\nb\n', ['a', 'b'])).toEqual([]);
    expect(missingLines('b\na\n', ['a', 'b'])).toEqual(['b']);
    expect(missingLines('a\n', ['a', 'c'])).toEqual(['c']);
  });

  it('refuses a block that is never closed', () => {
    expect(() => snippetsOf('doc.md', '```sh runnable\necho\n')).toThrow(
      'doc.md:1: a code block that is never closed',
    );
  });
});
