import * as E from 'fp-ts/Either';
import { isCurrencyCode, parseTimestamp } from '@partner-ledger/events';
import type { CurrencyCode } from '@partner-ledger/events';
import { parseArgs } from 'node:util';
import { closest } from './closest';
import { UsageError } from './exit';

/** One flag of a verb, with what `--help` says about it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Shown in `--help` after the flag: `--partners N`. */
  readonly valueName?: string;
  readonly description: string;
  /** The flag may be repeated; its values are collected in order. */
  readonly multiple?: boolean;
}

/** A verb's flags by name (without the leading `--`). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export type ParsedOptions<O extends OptionSpecs> = {
  readonly [K in keyof O]?: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K] extends { readonly multiple: true }
      ? string[]
      : string;
};

/** The flags every verb accepts. */
export const COMMON_OPTIONS = {
  store: {
    type: 'string',
    valueName: 'STORE',
    description:
      'The ledger: a directory (the embedded file store) or a connection string: esdb://, kurrentdb:// ' +
      '(EventStoreDB / KurrentDB, with @partner-ledger/store-eventstoredb installed) or postgres:// (with ' +
      '@partner-ledger/store-postgres installed; ?schema=NAME picks the schema, default partner_ledger). Default: $PARTNER_LEDGER_STORE, then ./.partner-ledger.',
  },
  help: { type: 'boolean', short: 'h', description: 'Print this help and exit.' },
} as const satisfies OptionSpecs;

/**
 * The first flag of `args` that `all` does not define, as typed (`--atomc`, `-x`; without any `=value`):
 * found by parsing again leniently, which keeps unknown flags as tokens instead of throwing.
 */
const unknownOption = (
  args: string[],
  config: NonNullable<Parameters<typeof parseArgs>[0]>['options'],
  all: OptionSpecs,
): string | undefined => {
  const { tokens } = parseArgs({
    args,
    options: config,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const shorts = new Set(
    Object.values(all).flatMap((spec) => (spec.short === undefined ? [] : [spec.short])),
  );
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const known = token.rawName.startsWith('--') ? token.name in all : shorts.has(token.rawName.slice(1));
    if (!known) return token.rawName;
  }
  return undefined;
};

/**
 * Parses a verb's arguments strictly: an unknown flag, a missing value or a stray positional is a
 * UsageError (exit 2) whose message says which, instead of being ignored.
 */
export const parseVerbArgs = <O extends OptionSpecs>(
  verb: string,
  args: readonly string[],
  options: O,
): { options: ParsedOptions<Omit<typeof COMMON_OPTIONS, keyof O> & O>; positionals: string[] } => {
  const all = { ...COMMON_OPTIONS, ...options };
  const config = Object.fromEntries(
    Object.entries(all as OptionSpecs).map(([name, spec]) => [
      name,
      {
        type: spec.type,
        ...(spec.short === undefined ? {} : { short: spec.short }),
        ...(spec.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  // `--events -5`: parseArgs takes a value that starts with a dash for a flag, and says only that the
  // argument is ambiguous. A negative number is a value: pass it on, so that the flag's own check names
  // the flag and says what it expects.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const next = args[i + 1];
    const spec = arg.startsWith('--') ? (all as OptionSpecs)[arg.slice(2)] : undefined;
    if (spec?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i += 1;
    } else joined.push(arg);
  }
  try {
    const parsed = parseArgs({
      args: joined,
      options: config,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    // A flag that takes one value, given twice (`--as-of A ... --as-of B`), would silently mean the last:
    // say so instead, as a script that builds its arguments from two sources would not notice otherwise.
    const seen = new Set<string>();
    for (const token of parsed.tokens) {
      if (token.kind !== 'option') continue;
      const spec = (all as OptionSpecs)[token.name];
      if (spec === undefined || spec.type !== 'string' || spec.multiple) continue;
      if (seen.has(token.name))
        throw new UsageError(
          `${verb}: --${token.name} was given more than once; give it once`,
          `Run \`partner-ledger ${verb} --help\` for the options.`,
        );
      seen.add(token.name);
    }
    return {
      options: parsed.values as ParsedOptions<Omit<typeof COMMON_OPTIONS, keyof O> & O>,
      positionals: parsed.positionals,
    };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const hint = `Run \`partner-ledger ${verb} --help\` for the options.`;
    // parseArgs's own text for an unknown flag is long, speaks of positionals and leaves a quote open
    // (`'-- "--atomc"`): name the flag, and the one it most likely meant.
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const unknown = unknownOption(joined, config, all as OptionSpecs);
      if (unknown !== undefined) {
        const suggestion = unknown.startsWith('--') ? closest(unknown.slice(2), Object.keys(all)) : undefined;
        throw new UsageError(
          `${verb}: unknown option ${unknown}${suggestion === undefined ? '' : ` (did you mean --${suggestion}?)`}`,
          hint,
        );
      }
    }
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(`${verb}: ${(error as Error).message}`, hint);
    }
    throw error;
  }
};

/** A whole number within bounds, from a flag's text: `--partners 1e3` or `--events -5` is a usage error. */
export const parseInteger = (
  flag: string,
  value: string,
  bounds: { readonly min: number; readonly max: number },
): number => {
  if (!/^[0-9]+$/.test(value))
    throw new UsageError(`--${flag}: expected a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max)
    throw new UsageError(
      `--${flag}: expected a whole number from ${bounds.min} to ${bounds.max}, got ${value}`,
    );
  return n;
};

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A moment from a flag, in the ledger's one stored form (`2026-03-31T23:59:59.999Z`). A date alone means
 * the END of that day in UTC when `dateMeans` is `endOfDay` (as-of flags: "as of March 31" includes the 31st),
 * and its start otherwise (`--start`). A time is any RFC 3339 date-time with its zone (`Z` or an offset), so
 * that a report does not depend on the machine it runs on; read as commands and NDJSON lines read theirs.
 */
export const parseMoment = (flag: string, value: string, dateMeans: 'startOfDay' | 'endOfDay'): string => {
  const text = DATE_ONLY.test(value)
    ? `${value}T${dateMeans === 'endOfDay' ? '23:59:59.999' : '00:00:00.000'}Z`
    : value;
  const parsed = parseTimestamp(text);
  if (E.isLeft(parsed))
    throw new UsageError(
      `--${flag}: expected a date (2026-03-31) or an RFC 3339 time with its zone (2026-03-31T12:00:00Z, 2026-03-31T14:00:00+02:00): ${parsed.left.replace(JSON.stringify(text), JSON.stringify(value))}`,
    );
  return parsed.right;
};

/** One of a fixed set of words. */
/**
 * A currency flag's value: an ISO 4217 code the ledger knows. Three capital letters are not enough (XYZ would
 * give a report "in XYZ" with every conversion left out, and exit 0).
 */
export const parseCurrency = (flag: string, value: string): CurrencyCode => {
  if (!isCurrencyCode(value))
    throw new UsageError(`--${flag}: expected an ISO 4217 code such as USD, got ${JSON.stringify(value)}`);
  return value;
};

export const parseChoice = <const C extends readonly string[]>(
  flag: string,
  value: string,
  choices: C,
): C[number] => {
  if (!choices.includes(value))
    throw new UsageError(`--${flag}: expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  return value as C[number];
};
