import { createHash } from 'node:crypto';

/**
 * The projector's checkpoint as parts, so that a commit writes only the parts that changed, not the whole
 * state (which grows with the history: every commission line, every payout).
 *
 * `splitState` serialises a JSON value as a small root text in which every large array or object is replaced
 * by a reference to a chain of chunks. A large container's entries (elements, or `[key, value]` pairs of an
 * object) are cut into chunks at content-defined boundaries: an entry starts a new chunk when a hash of its
 * key (an object's property name, an array element's first item if that is a string or number, else the
 * element's JSON) falls on a fixed residue. A chunk is named after its container's path and its first
 * entry's key, and holds the name of the next chunk: inserting, changing or removing one entry rewrites one
 * chunk (two when a boundary appears), whatever the size of the container. Entries that are themselves
 * large containers are split the same way under their own path.
 *
 * `joinState` reassembles the value from the root text and the parts.
 */

/** Tuning of the split; the defaults suit the projector, tests use smaller ones. */
export interface SplitOptions {
  /** A container whose JSON is longer than this is split (default 4,096 characters). */
  readonly maxInline?: number;
  /** An entry starts a chunk when the hash of its key is 0 modulo this (default 16: ~16 entries a chunk). */
  readonly entriesPerChunk?: number;
}

/** A split value: the root text and its parts by id (each part's text). */
export interface SplitState {
  readonly root: string;
  readonly parts: Map<string, string>;
}

// The reference's property: NUL cannot occur in the events' strings (the stores refuse it), so in no state.
const REF = '\u0000parts';

/**
 * FNV-1a with a final mix: a stable, well-spread 32-bit hash of a key's first 64 characters (keys are ids,
 * or entries whose first characters are their id: a packed line is hundreds of characters, hashed whole at
 * every commit for nothing).
 */
const hashKey = (key: string): number => {
  let h = 0x811c9dc5;
  const end = Math.min(key.length, 64);
  for (let i = 0; i < end; i += 1) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

const keyOfElement = (element: unknown): string => {
  if (typeof element === 'string') return element;
  if (Array.isArray(element) && (typeof element[0] === 'string' || typeof element[0] === 'number'))
    return String(element[0]);
  const text = JSON.stringify(element);
  return text.length <= 100 ? text : digestOf(text);
};

/**
 * Whether the JSON text of a value is surely longer than `budget` characters: a lower bound of its length
 * (escapes aside, the text is at least this long), counted only until it passes the budget. It saves
 * `splitState` from serialising a large container whole just to find it too large to inline, once for every
 * level above its chunks (the checkpoint, its states, each state: the whole state, four or five times over).
 */
const longerThan = (node: unknown, budget: number): boolean => {
  let left = budget;
  const walk = (value: unknown): boolean => {
    if (value === null) left -= 4;
    else if (typeof value === 'string') left -= value.length + 2;
    else if (typeof value === 'number') left -= String(value).length;
    else if (typeof value === 'boolean') left -= 4;
    else if (Array.isArray(value)) {
      left -= 2 + Math.max(0, value.length - 1);
      for (let i = 0; i < value.length && left >= 0; i += 1) if (walk(value[i])) return true;
    } else if (typeof value === 'object') {
      const keys = Object.keys(value);
      left -= 2 + Math.max(0, keys.length - 1);
      for (let i = 0; i < keys.length && left >= 0; i += 1) {
        const key = keys[i]!;
        left -= key.length + 3;
        if (walk((value as Record<string, unknown>)[key])) return true;
      }
    }
    return left < 0;
  };
  return walk(node);
};

/** Splits a JSON value (no undefined, no functions) into a root text and parts. */
export const splitState = (value: unknown, options: SplitOptions = {}): SplitState => {
  const maxInline = options.maxInline ?? 4_096;
  const every = options.entriesPerChunk ?? 16;
  const parts = new Map<string, string>();

  const encode = (node: unknown, path: string): string => {
    if (node === null || typeof node !== 'object') return JSON.stringify(node);
    const isArray = Array.isArray(node);
    const keys: string[] = isArray ? (node as unknown[]).map(keyOfElement) : Object.keys(node);
    const values: unknown[] = isArray
      ? (node as unknown[])
      : keys.map((k) => (node as Record<string, unknown>)[k]);
    // A small container is written inline as it is: one stringify, no walk.
    if (keys.length <= 64 && !longerThan(node, maxInline)) {
      const text = JSON.stringify(node);
      if (text.length <= maxInline) return text;
    }
    // Keys of array elements need not be unique: a repeated key gets its occurrence appended.
    if (isArray) {
      const seen = new Map<string, number>();
      for (let i = 0; i < keys.length; i += 1) {
        const n = seen.get(keys[i]!) ?? 0;
        seen.set(keys[i]!, n + 1);
        if (n > 0) keys[i] = `${keys[i]!}\u0001${n}`;
      }
    }
    const texts = values.map((v, i) => encode(v, `${path}/${JSON.stringify(keys[i])}`));
    let size = 2;
    for (const text of texts) size += text.length + 1;
    if (!isArray) for (const key of keys) size += key.length + 4;
    if (size <= maxInline)
      return isArray
        ? `[${texts.join(',')}]`
        : `{${keys.map((k, i) => `${JSON.stringify(k)}:${texts[i]!}`).join(',')}}`;
    // Chunks: [start, end) ranges of entries.
    const starts: number[] = [];
    for (let i = 0; i < keys.length; i += 1) if (i === 0 || hashKey(keys[i]!) % every === 0) starts.push(i);
    const ids = starts.map((start) => `${path}#${JSON.stringify(keys[start])}`);
    starts.forEach((start, c) => {
      const end = starts[c + 1] ?? keys.length;
      const entries: string[] = [];
      for (let i = start; i < end; i += 1)
        entries.push(isArray ? texts[i]! : `[${JSON.stringify(keys[i])},${texts[i]!}]`);
      parts.set(ids[c]!, `[${JSON.stringify(ids[c + 1] ?? null)},[${entries.join(',')}]]`);
    });
    return `{${JSON.stringify(REF)}:${JSON.stringify(ids[0] ?? null)},"array":${isArray}}`;
  };

  return { root: encode(value, ''), parts };
};

/** Reassembles the value `splitState` split; a missing part is an error naming it. */
export const joinState = (root: string, parts: ReadonlyMap<string, string>): unknown => {
  const resolve = (node: unknown): unknown => {
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i += 1) node[i] = resolve(node[i]);
      return node;
    }
    const record = node as Record<string, unknown>;
    if (REF in record) {
      const isArray = record.array === true;
      const array: unknown[] = [];
      const object: Record<string, unknown> = {};
      for (let id = record[REF] as string | null; id !== null;) {
        const text = parts.get(id);
        if (text === undefined)
          throw new Error(`The projector checkpoint lacks its part ${JSON.stringify(id)}`);
        const [next, entries] = JSON.parse(text) as [string | null, unknown[]];
        for (const entry of entries)
          if (isArray) array.push(resolve(entry));
          else {
            const [key, value] = entry as [string, unknown];
            object[key] = resolve(value);
          }
        id = next;
      }
      return isArray ? array : object;
    }
    for (const key of Object.keys(record)) record[key] = resolve(record[key]);
    return record;
  };
  return resolve(JSON.parse(root));
};

/** A digest of a part's text, kept instead of the text to tell which parts changed. */
export const digestOf = (text: string): string => createHash('sha1').update(text).digest('base64');

/** What a commit must do to turn the stored parts (id -> digest) into the new ones. */
export const diffParts = (
  stored: ReadonlyMap<string, string>,
  parts: ReadonlyMap<string, string>,
): { upserts: Array<[id: string, text: string, digest: string]>; deletes: string[] } => {
  const upserts: Array<[string, string, string]> = [];
  for (const [id, text] of parts) {
    const digest = digestOf(text);
    if (stored.get(id) !== digest) upserts.push([id, text, digest]);
  }
  const deletes: string[] = [];
  for (const id of stored.keys()) if (!parts.has(id)) deletes.push(id);
  return { upserts, deletes };
};
