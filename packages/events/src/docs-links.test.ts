/**
 * Every link between the project's own documents leads somewhere: a relative link names a file of the
 * repository, and a `#fragment` names a heading of the file it points to (GitHub's anchors). A reader who
 * follows the docs word for word clicks these; a renamed heading or a moved file fails here first.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPOSITORY } from './testing/packed';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export const anchorsOf = (markdown: string): Set<string> => {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading
      .replace(/`([^`]*)`/g, '$1')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
};

/** The relative links of a markdown text (outside code), with their line numbers. */
export const linksOf = (markdown: string): { target: string; line: number }[] => {
  const links: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((line, index) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) return;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1] as string;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
      links.push({ target, line: index + 1 });
    }
  });
  return links;
};

const markdownFiles = (): string[] => {
  const files = [join(REPOSITORY, 'README.md')];
  for (const folder of ['docs', 'examples', 'packages']) {
    const walk = (directory: string): void => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) {
        if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
        const path = join(directory, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.md')) files.push(path);
      }
    };
    walk(join(REPOSITORY, folder));
  }
  return files;
};

describe('links between the docs', () => {
  it('reads anchors as GitHub makes them, and links outside code only', () => {
    const doc = [
      '# Replay and verify (issue #17): what changed (2026-12-05/06)',
      '## `copy` between stores',
      '## Notes',
      '## Notes',
      '```',
      '# not a heading [x](nowhere.md)',
      '```',
      'See [a](a.md#notes-1), `[b](b.md)` and [web](https://example.com).',
    ].join('\n');
    expect([...anchorsOf(doc)]).toEqual([
      'replay-and-verify-issue-17-what-changed-2026-12-0506',
      'copy-between-stores',
      'notes',
      'notes-1',
    ]);
    expect(linksOf(doc)).toEqual([{ target: 'a.md#notes-1', line: 8 }]);
  });

  it('every relative link of README.md, docs/, examples/ and packages/ leads to a file and heading that exist', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(file, 'utf8');
      for (const { target, line } of linksOf(text)) {
        const [path = '', fragment] = target.split('#');
        const linked = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        const where = `${relative(REPOSITORY, file)}:${line}: ${target}`;
        if (!existsSync(linked)) {
          broken.push(`${where} (no such file)`);
          continue;
        }
        if (
          fragment === undefined ||
          fragment === '' ||
          !statSync(linked).isFile() ||
          !linked.endsWith('.md')
        )
          continue;
        if (!anchorsOf(readFileSync(linked, 'utf8')).has(decodeURIComponent(fragment).toLowerCase()))
          broken.push(`${where} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
