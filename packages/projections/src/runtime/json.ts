/** A JSON value: what results and checkpoint states are made of. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A copy of a JSON value with every object's keys in sorted order (arrays keep their order), so that
 * `JSON.stringify` of a result is the same bytes whatever order the projection filled its maps in.
 */
export const sortKeys = <T>(value: T): T => {
  if (Array.isArray(value)) return value.map((item: unknown) => sortKeys(item)) as T;
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
    return sorted as T;
  }
  return value;
};

/**
 * `sortKeys` for a result the projection has just built: the same value, but an object whose keys are already
 * in order and whose values need no change is returned as it is, not copied. Results are built mostly in
 * sorted order, so this skips most of the copying (a large revenue result has tens of thousands of small
 * objects). Never mutates its input; only for values nobody else holds, since the output may share them.
 */
export const sortedResult = <T>(value: T): T => sortedValue(value) as T;

const sortedValue = (value: unknown): unknown => {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      const sorted = sortedValue(item);
      if (sorted !== item) {
        copy ??= value.slice();
        copy[i] = sorted;
      }
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let inOrder = true;
  for (let i = 1; i < keys.length && inOrder; i += 1) if (keys[i - 1]! > keys[i]!) inOrder = false;
  if (!inOrder) keys.sort();
  let changed = !inOrder;
  const values = new Array<unknown>(keys.length);
  for (let i = 0; i < keys.length; i += 1) {
    const item = record[keys[i]!];
    values[i] = sortedValue(item);
    if (values[i] !== item) changed = true;
  }
  if (!changed) return value;
  const sorted: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i += 1) sorted[keys[i]!] = values[i];
  return sorted;
};

/** Sorted entries of a map, for deterministic output. */
export const sortedEntries = <V>(map: ReadonlyMap<string, V>): Array<[string, V]> =>
  [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

/** A bigint map as sorted [key, decimal string] pairs, and back. */
export const saveBigintMap = (map: ReadonlyMap<string, bigint>): Array<[string, string]> =>
  sortedEntries(map).map(([key, value]) => [key, value.toString()]);

export const loadBigintMap = (json: unknown): Map<string, bigint> =>
  new Map((json as Array<[string, string]>).map(([key, value]) => [key, BigInt(value)]));
