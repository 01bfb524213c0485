import type * as t from 'io-ts';
import { boundedText, describeValue } from '../money/amount';

/** One problem found while decoding, with the path of the offending field. */
export interface DecodeProblem {
  /** Where: `ConversionAttributed.data.credits[2].amount`. */
  readonly path: string;
  /** What: `expected a decimal string with at most 2 decimals for USD, got 12.345`. */
  readonly message: string;
}

/**
 * The path segments of an io-ts context. Unions and intersections add an entry keyed by the member's index;
 * those are not fields of the value, so they are left out. Array indices become numbers.
 */
const pathOf = (context: t.Context): Array<string | number> => {
  const segments: Array<string | number> = [];
  for (let i = 1; i < context.length; i += 1) {
    const parent = context[i - 1]!;
    const tag = (parent.type as { _tag?: string })._tag;
    if (tag === 'UnionType' || tag === 'IntersectionType') continue;
    // A key is the input's too: an unknown field named by megabytes is named by its start and length.
    segments.push(Array.isArray(parent.actual) ? Number(context[i]!.key) : boundedText(context[i]!.key));
  }
  return segments;
};

export const joinPath = (prefix: string, segments: ReadonlyArray<string | number>): string =>
  segments.reduce<string>(
    (path, segment) =>
      typeof segment === 'number' ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment,
    prefix,
  );

/** Turns io-ts's raw errors into one readable line per distinct problem. */
export const toDecodeProblems = (prefix: string, errors: t.Errors): DecodeProblem[] => {
  const problems = errors.map((error) => {
    const leaf = error.context[error.context.length - 1];
    const expected = leaf?.type.name ?? 'a valid value';
    return {
      path: joinPath(prefix, pathOf(error.context)),
      message: error.message ?? `expected ${expected}, got ${describeValue(error.value)}`,
    };
  });
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
};

/** The problems of a decode as text, one line each, every line naming its field. */
export const formatProblems = (problems: readonly DecodeProblem[]): string =>
  problems.map((p) => `${p.path}: ${p.message}`).join('\n');
