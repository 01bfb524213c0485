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

/** Sorted entries of a map, for deterministic output. */
export const sortedEntries = <V>(map: ReadonlyMap<string, V>): Array<[string, V]> =>
  [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

/** A bigint map as sorted [key, decimal string] pairs, and back. */
export const saveBigintMap = (map: ReadonlyMap<string, bigint>): Array<[string, string]> =>
  sortedEntries(map).map(([key, value]) => [key, value.toString()]);

export const loadBigintMap = (json: unknown): Map<string, bigint> =>
  new Map((json as Array<[string, string]>).map(([key, value]) => [key, BigInt(value)]));
