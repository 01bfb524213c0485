import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_DIRECTORY } from './commands/demo';
import { commandLine, DOCS_URL, linkDocs } from './invocation';
import { renderMainHelp, renderVerbHelp } from './verb';
import { VERBS } from './verbs';

describe('how the command says to run itself again', () => {
  it('says npx partner-ledger after npx, node <script> in a clone, partner-ledger on the PATH', () => {
    expect(
      commandLine({ npm_command: 'exec' }, '/home/u/p/node_modules/.bin/partner-ledger', '/home/u/p'),
    ).toBe('npx partner-ledger');
    expect(commandLine({}, '/home/u/p/node_modules/@partner-ledger/cli/dist/bin.js', '/home/u/p')).toBe(
      'npx partner-ledger',
    );
    expect(commandLine({ npm_command: 'run-script' }, '/repo/packages/cli/dist/bin.js', '/repo')).toBe(
      'node packages/cli/dist/bin.js',
    );
    expect(commandLine({}, '/usr/local/bin/partner-ledger', '/home/u/p')).toBe('partner-ledger');
    expect(commandLine({}, undefined, '/home/u/p')).toBe('partner-ledger');
  });
});

describe('--help', () => {
  it('links the docs by URL, since the package does not ship them', () => {
    expect(linkDocs('see docs/projections.md and docs/cli.md.')).toBe(
      `see ${DOCS_URL}/projections.md and ${DOCS_URL}/cli.md.`,
    );
    const texts = [renderMainHelp(VERBS, '0.0.0'), ...VERBS.map((verb) => renderVerbHelp(verb))];
    for (const text of texts) expect(text).not.toMatch(/(?<![\w/])docs\/[\w-]+\.md/);
    expect(texts[0]).toContain(`${DOCS_URL}/README.md`);
  });

  it('tells the truth about where the demo writes', () => {
    const demo = renderVerbHelp(VERBS.find((verb) => verb.name === 'demo')!);
    expect(DEMO_DIRECTORY).toBe(join(tmpdir(), 'partner-ledger-demo'));
    expect(demo).toContain(`--store DIRECTORY`);
    expect(demo.replace(/\s+/g, ' ')).toContain(`Default ${DEMO_DIRECTORY}, emptied at every run`);
    expect(demo).not.toContain('default ./.partner-ledger');
  });
});
