import { parseAsOf } from './as-of';
import { parseCurrency, parseInteger, parseMoment, parseVerbArgs } from './args';
import { UsageError } from './exit';
import { runInProcess } from './testing/in-process';
import { resolveStoreSpec, describeStoreSpec } from './store-spec';

describe('arguments', () => {
  const options = { partners: { type: 'string', description: 'n' } } as const;

  it('parses flags and positionals strictly', () => {
    expect(parseVerbArgs('simulate', ['--partners', '5', 'x'], options)).toEqual({
      options: { partners: '5' },
      positionals: ['x'],
    });
    expect(() => parseVerbArgs('simulate', ['--partner', '5'], options)).toThrow(UsageError);
    expect(() => parseVerbArgs('simulate', ['--partners'], options)).toThrow(
      /simulate: Option '--partners <value>' argument missing/,
    );
  });

  it("names an unknown flag, and the flag it most likely meant, instead of parseArgs's text", async () => {
    const typo = await runInProcess(['import', '--atomc', 'x.ndjson']);
    expect(typo).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'partner-ledger: import: unknown option --atomc (did you mean --atomic?)\n' +
        'Run `partner-ledger import --help` for the options.\n',
    });
    const thrown = (args: string[]) => {
      try {
        parseVerbArgs('simulate', args, options);
      } catch (error) {
        return (error as UsageError).message;
      }
      throw new Error(`${args.join(' ')} was accepted`);
    };
    // A value given with `=`, a common flag (--store), a short flag, and a word near nothing.
    expect(thrown(['--partnrs=5'])).toBe('simulate: unknown option --partnrs (did you mean --partners?)');
    expect(thrown(['--stor', 'x'])).toBe('simulate: unknown option --stor (did you mean --store?)');
    expect(thrown(['-x'])).toBe('simulate: unknown option -x');
    expect(thrown(['--zzzzzzz'])).toBe('simulate: unknown option --zzzzzzz');
  });

  it('refuses a one-value flag given twice instead of silently taking the last', () => {
    expect(() => parseVerbArgs('report', ['--partners', '5', '--partners=6'], options)).toThrow(
      'report: --partners was given more than once; give it once',
    );
    const many = { partner: { type: 'string', multiple: true, description: 'p' } } as const;
    expect(parseVerbArgs('report', ['--partner', 'a', '--partner', 'b'], many).options).toEqual({
      partner: ['a', 'b'],
    });
    expect(parseVerbArgs('report', ['--help', '--help'], options).options).toEqual({ help: true });
  });

  it('takes a negative number as the value of a flag, so that the flag names the problem', () => {
    expect(parseVerbArgs('simulate', ['--partners', '-5'], options).options).toEqual({ partners: '-5' });
    expect(() =>
      parseInteger('partners', parseVerbArgs('simulate', ['--partners', '-5'], options).options.partners!, {
        min: 5,
        max: 10,
      }),
    ).toThrow('--partners: expected a whole number, got "-5"');
  });

  it('accepts whole numbers within bounds only', () => {
    expect(parseInteger('events', '1000', { min: 1, max: 10 ** 7 })).toBe(1000);
    for (const bad of ['-5', '1e3', '1.5', '', '0x10']) {
      expect(() => parseInteger('events', bad, { min: 1, max: 10 })).toThrow(UsageError);
    }
    expect(() => parseInteger('events', '11', { min: 1, max: 10 })).toThrow('from 1 to 10');
  });

  it('accepts ISO 4217 codes only as a currency: three capital letters are not enough', () => {
    expect(parseCurrency('currency', 'EUR')).toBe('EUR');
    for (const bad of ['XYZ', 'usd', 'US', ''])
      expect(() => parseCurrency('currency', bad)).toThrow(
        `--currency: expected an ISO 4217 code such as USD, got ${JSON.stringify(bad)}`,
      );
  });

  it.each([
    ['report revenue', ['report', 'revenue', '--store', '/nonexistent/ledger']],
    ['report book', ['report', 'book', '--out', 'book.html', '--store', '/nonexistent/ledger']],
    ['project', ['project', '--from', '/nonexistent/ledger', '--to', 'postgres://localhost/x', '--once']],
    ['init', ['init', '--store', '/nonexistent/ledger']],
  ])('%s refuses --currency XYZ before opening any store', async (_, args) => {
    const result = await runInProcess([...args, '--currency', 'XYZ']);
    expect(result.stderr).toContain('--currency: expected an ISO 4217 code such as USD, got "XYZ"');
    expect(result.code).toBe(2);
  });

  // balances and statements are in each line's and payout's own currency: --currency used to be taken and
  // ignored, so `report balances --currency EUR` printed USD figures under a request for euros.
  it.each([
    ['balances', ['report', 'balances']],
    ['statements', ['report', 'statements']],
    ['statements --format html', ['report', 'statements', '--format', 'html', '--out', 'pages']],
  ])('report %s refuses --currency, which it cannot apply', async (name, args) => {
    const result = await runInProcess([...args, '--currency', 'EUR', '--store', '/nonexistent/ledger']);
    expect(result.stderr).toContain(
      `--currency: the ${name.split(' ')[0]} report is in the currency of each line and payout`,
    );
    expect(result.code).toBe(2);
  });

  it('reads a date as the end of the day for as-of flags and the start for --start', () => {
    expect(parseMoment('as-of', '2026-03-31', 'endOfDay')).toBe('2026-03-31T23:59:59.999Z');
    expect(parseMoment('start', '2026-03-31', 'startOfDay')).toBe('2026-03-31T00:00:00.000Z');
    expect(parseMoment('as-of', '2026-03-31T12:00:00+02:00', 'endOfDay')).toBe('2026-03-31T10:00:00.000Z');
    for (const bad of ['2026-02-30', '2026-03-31T12:00:00', 'yesterday', '1711843200']) {
      expect(() => parseMoment('as-of', bad, 'endOfDay')).toThrow(UsageError);
    }
  });

  it('reads --known-at as a global position or a moment', () => {
    expect(parseAsOf({ 'known-at': '41999' })).toEqual({ knownAt: { position: 41999 } });
    expect(parseAsOf({ 'as-of': '2026-01-31', 'known-at': '2026-02-05' })).toEqual({
      effectiveAt: '2026-01-31T23:59:59.999Z',
      knownAt: { recordedAt: '2026-02-05T23:59:59.999Z' },
    });
  });

  it('names the store: flag, then environment, then ./.partner-ledger', () => {
    expect(resolveStoreSpec(undefined, {}, '/srv')).toEqual({
      kind: 'file',
      directory: '/srv/.partner-ledger',
    });
    expect(resolveStoreSpec(undefined, { PARTNER_LEDGER_STORE: 'books' }, '/srv')).toEqual({
      kind: 'file',
      directory: '/srv/books',
    });
    expect(resolveStoreSpec('/data/l', { PARTNER_LEDGER_STORE: 'books' }, '/srv')).toEqual({
      kind: 'file',
      directory: '/data/l',
    });
    const cluster = resolveStoreSpec('esdb+discover://admin:changeit@db1:2113,db2:2113?tls=true', {}, '/srv');
    expect(cluster).toEqual({
      kind: 'eventstoredb',
      connectionString: 'esdb+discover://admin:changeit@db1:2113,db2:2113?tls=true',
    });
    expect(describeStoreSpec(cluster)).toBe('esdb+discover://***@db1:2113,db2:2113?tls=true');
  });
});
