import { parseArgs } from 'node:util';
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
      'The ledger: a directory (embedded file store, default ./.partner-ledger), an esdb:// or ' +
      'esdb+discover:// connection string, or a postgres:// or postgresql:// one (?schema=NAME picks the ' +
      'schema, default partner_ledger). Default: $PARTNER_LEDGER_STORE, then ./.partner-ledger.',
  },
  help: { type: 'boolean', short: 'h', description: 'Print this help and exit.' },
} as const satisfies OptionSpecs;

/**
 * Parses a verb's arguments strictly: an unknown flag, a missing value or a stray positional is a
 * UsageError (exit 2) whose message says which, instead of being ignored.
 */
export const parseVerbArgs = <O extends OptionSpecs>(
  verb: string,
  args: readonly string[],
  options: O,
): { options: ParsedOptions<O & typeof COMMON_OPTIONS>; positionals: string[] } => {
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
  try {
    const parsed = parseArgs({ args: [...args], options: config, allowPositionals: true, strict: true });
    return {
      options: parsed.values as ParsedOptions<O & typeof COMMON_OPTIONS>,
      positionals: parsed.positionals,
    };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(
        `${verb}: ${(error as Error).message}`,
        `Run \`partner-ledger ${verb} --help\` for the options.`,
      );
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
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A moment from a flag, in the ledger's one stored form (`2026-03-31T23:59:59.999Z`). A date alone means
 * the END of that day in UTC when `dateMeans` is `endOfDay` (as-of flags: "as of March 31" includes the 31st),
 * and its start otherwise (`--start`). A time must name its zone, so that a report does not depend on the
 * machine it runs on.
 */
export const parseMoment = (flag: string, value: string, dateMeans: 'startOfDay' | 'endOfDay'): string => {
  let date: Date;
  if (DATE_ONLY.test(value)) {
    date = new Date(`${value}T${dateMeans === 'endOfDay' ? '23:59:59.999' : '00:00:00.000'}Z`);
    if (!Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) !== value) date = new Date(NaN);
  } else if (DATE_TIME.test(value)) {
    date = new Date(value);
  } else {
    date = new Date(NaN);
  }
  if (Number.isNaN(date.getTime()))
    throw new UsageError(
      `--${flag}: expected a date (2026-03-31) or a time with its zone (2026-03-31T12:00:00Z), got ${JSON.stringify(value)}`,
    );
  return date.toISOString();
};

/** One of a fixed set of words. */
export const parseChoice = <const C extends readonly string[]>(
  flag: string,
  value: string,
  choices: C,
): C[number] => {
  if (!choices.includes(value))
    throw new UsageError(`--${flag}: expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  return value as C[number];
};
