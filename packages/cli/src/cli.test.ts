import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from './cli';
import { EXIT, UsageError } from './exit';
import type { CliIo } from './io';
import { renderMainHelp, renderVerbHelp } from './verb';
import type { Verb } from './verb';
import { VERBS } from './verbs';
import { VERSION } from './version';

const capture = () => {
  const out = { stdout: '', stderr: '' };
  const stream = (key: 'stdout' | 'stderr') => {
    const s = new PassThrough();
    s.on('data', (chunk: Buffer) => (out[key] += chunk.toString('utf8')));
    return s;
  };
  const io: CliIo = {
    stdout: stream('stdout'),
    stderr: stream('stderr'),
    stdin: new PassThrough(),
    env: {},
    cwd: '/nowhere',
    now: () => new Date('2026-01-01T00:00:00.000Z'),
  };
  return { io, out };
};

const echo: Verb = {
  name: 'echo',
  summary: 'Echoes.',
  usage: 'echo WORD',
  description: 'Writes WORD.',
  options: {},
  examples: [['partner-ledger echo hi', 'Says hi']],
  run: async (io, args) => {
    if (args[0] === 'bad') throw new UsageError('echo: bad word', 'Try another.');
    if (args[0] === 'boom') throw new Error('disk on fire');
    io.stdout.write(`${args.join(' ')}\n`);
    return EXIT.ok;
  },
};

describe('the command line', () => {
  it('lists the verbs with --help on stdout, and on stderr with exit 2 when no verb is given', async () => {
    const help = capture();
    expect(await runCli(['--help'], help.io, [echo])).toBe(0);
    expect(help.out.stdout).toContain('echo    Echoes.');
    const none = capture();
    expect(await runCli([], none.io, [echo])).toBe(2);
    expect(none.out.stdout).toBe('');
    expect(none.out.stderr).toContain('Usage: partner-ledger <verb>');
  });

  it('suggests the verb that was probably meant', async () => {
    const { io, out } = capture();
    expect(await runCli(['ecko'], io, [echo])).toBe(2);
    expect(out.stderr).toContain('unknown verb "ecko" (did you mean echo?)');
  });

  it("prints a verb's help, with its examples, instead of running it", async () => {
    const { io, out } = capture();
    expect(await runCli(['echo', 'boom', '--help'], io, [echo])).toBe(0);
    expect(out.stdout).toContain('Usage: partner-ledger echo WORD');
    expect(out.stdout).toContain('# Says hi\n  partner-ledger echo hi');
    expect(out.stdout).toContain('--store STORE');
  });

  it('turns usage errors and faults into a message on stderr and exit 2', async () => {
    const bad = capture();
    expect(await runCli(['echo', 'bad'], bad.io, [echo])).toBe(2);
    expect(bad.out.stderr).toBe('partner-ledger: echo: bad word\nTry another.\n');
    const boom = capture();
    expect(await runCli(['echo', 'boom'], boom.io, [echo])).toBe(2);
    expect(boom.out.stderr).toBe('partner-ledger: echo: disk on fire\n');
  });

  it('gives every verb a help text with examples', () => {
    for (const verb of VERBS) {
      expect(verb.examples.length).toBeGreaterThan(0);
      for (const [command] of verb.examples)
        expect(command).toMatch(new RegExp(`^partner-ledger ${verb.name}\\b`));
    }
  });

  // A newcomer reads `copy --help`, sees --store among the options, gives it, and is refused.
  it('lists --store in the help of no verb that refuses it, and the main help names those verbs', async () => {
    const refused = async (args: string[]): Promise<string> => {
      const { io, out } = capture();
      expect(await runCli(args, io)).toBe(2);
      return out.stderr;
    };
    expect(await refused(['copy', '--from', 'a', '--to', 'b', '--store', 'c'])).toContain(
      'copy: name the ledgers with --from and --to, not --store',
    );
    expect(await refused(['project', '--from', 'a', '--to', 'postgres://x@h/db', '--store', 'c'])).toContain(
      'project: name the ledger with --from, not --store',
    );
    for (const verb of VERBS) {
      const refuses = verb.name === 'copy' || verb.name === 'project';
      expect({ verb: verb.name, listsStore: /^ +--store [A-Z]+ /m.test(renderVerbHelp(verb)) }).toEqual({
        verb: verb.name,
        listsStore: !refuses,
      });
    }
    const main = renderMainHelp(VERBS, '0.0.0');
    expect(main).not.toContain('Every verb takes --store');
    expect(main).toContain('Every verb but copy and project takes --store STORE');
  });

  it('reports the version of its package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
    const { io, out } = capture();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(out.stdout).toBe(`${pkg.version}\n`);
  });
});

describe('docs/cli.md', () => {
  it('holds the --help of every verb, as the command prints it', () => {
    const book = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'cli.md'), 'utf8');
    for (const verb of VERBS)
      expect(book).toContain(`## ${verb.name}\n\n\`\`\`\n${renderVerbHelp(verb)}\`\`\``);
  });
});
