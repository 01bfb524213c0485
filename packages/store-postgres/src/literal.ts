/**
 * A string as an SQL literal, exactly as node-postgres's `escapeLiteral` writes it (quotes doubled; when
 * there is a backslash, backslashes doubled and the ` E'...'` form), but with two whole-string replaces
 * instead of a loop that appends one character at a time: the one-round-trip append writes every value
 * of its events into the statement, and that loop was the largest single cost of building it in a CPU
 * profile of the store (appends of 1,000 events).
 */
export const quoteLiteral = (value: string): string => {
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? ` E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
};

/** An element of an array's text form: double-quoted, with `"` and `\` escaped by a backslash. */
const arrayElement = (value: string | null): string =>
  value === null ? 'NULL' : `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/**
 * Strings as one `text[]` literal (`'{"a",NULL}'::text[]`): the server reads it with the array type's
 * input function, where `ARRAY['a',NULL]::text[]` is an expression of one literal and one cast per element
 * that the server parses, analyses and plans for each statement (about a fifth of the server's CPU time per
 * single-event append in a profile of the one-round-trip append, docs/benchmarks.md).
 */
export const textArrayLiteral = (values: readonly (string | null)[]): string =>
  `${quoteLiteral(`{${values.map(arrayElement).join(',')}}`)}::text[]`;

/** Integers as one `integer[]` literal (`'{1,2}'::integer[]`). */
export const integerArrayLiteral = (values: readonly number[]): string => {
  if (!values.every(Number.isSafeInteger)) throw new RangeError(`not integers: ${values.join(',')}`);
  return `'{${values.join(',')}}'::integer[]`;
};
