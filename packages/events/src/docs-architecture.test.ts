/**
 * docs/architecture.md's folder tree is the map of the packages: it must name every package of packages/
 * and nothing else, so that a package added, renamed or removed fails here until the doc says so.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY } from './testing/packed';

/** The package names of the tree: the indented `name/` lines of the block that starts with `packages/`. */
const packagesOfTree = (markdown: string): string[] => {
  const start = markdown.indexOf('```\npackages/\n');
  if (start === -1) throw new Error('docs/architecture.md: no folder tree starting with packages/');
  const end = markdown.indexOf('```', start + 3);
  return markdown
    .slice(start, end)
    .split('\n')
    .flatMap((line) => /^ {2}([a-z0-9-]+)\/(?:\s|$)/.exec(line)?.[1] ?? []);
};

describe('docs/architecture.md', () => {
  it('reads the package lines of the tree, and only those', () => {
    const doc = ['```', 'packages/', '  a/     x', '  b-c/', 'examples/   y', '```', '  d/'].join('\n');
    expect(packagesOfTree(doc)).toEqual(['a', 'b-c']);
  });

  it('names every package of packages/ in its folder tree, and no other', () => {
    const actual = readdirSync(join(REPOSITORY, 'packages'), { withFileTypes: true })
      .filter(
        (entry) =>
          entry.isDirectory() && existsSync(join(REPOSITORY, 'packages', entry.name, 'package.json')),
      )
      .map((entry) => entry.name)
      .sort();
    const documented = packagesOfTree(readFileSync(join(REPOSITORY, 'docs', 'architecture.md'), 'utf8'));
    expect([...documented].sort()).toEqual(actual);
    expect(new Set(documented).size).toBe(documented.length);
  });
});
