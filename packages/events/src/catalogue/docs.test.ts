import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGUE } from './events';

/** docs/events.md documents every event and every field of its data; this keeps the two from drifting. */
const docs = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'events.md'), 'utf8');

const sectionOf = (type: string): string => {
  const start = docs.search(new RegExp(`^### ${type}\\b`, 'm'));
  if (start < 0) return '';
  const next = docs.slice(start + 4).search(/^#{2,3} /m);
  return next < 0 ? docs.slice(start) : docs.slice(start, start + 4 + next);
};

const fieldsOf = (codec: unknown): string[] => {
  // struct() builds on io-ts `type`/`partial`; their props are reachable through the validate closure only,
  // so the fields are read back from a decode of an empty object: each missing field is one error path.
  const result = (
    codec as { decode: (u: unknown) => { _tag: string; left?: Array<{ context: Array<{ key: string }> }> } }
  ).decode({});
  return [...new Set((result.left ?? []).map((e) => e.context[1]?.key).filter((k): k is string => !!k))];
};

describe('docs/events.md', () => {
  it.each(Object.keys(CATALOGUE))('documents %s and every field of its data', (type) => {
    const section = sectionOf(type);
    expect(section).not.toBe('');
    const fields = fieldsOf(CATALOGUE[type as keyof typeof CATALOGUE].data);
    expect(fields.length).toBeGreaterThan(0);
    const missing = fields.filter((field) => !section.includes(`\`${field}\``));
    expect(missing).toEqual([]);
  });
});
