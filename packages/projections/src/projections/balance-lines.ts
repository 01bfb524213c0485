// The open commission lines of the balances projection: packed into strings, saved in checkpoints as they are
// kept, and split on save so that a report resumed from a checkpoint reads only the lines that can still
// count as pending or held.

/**
 * A commission line with something outstanding: amount - reversed - settled, as the ledger counts it. It is
 * negative after a reversal of a paid line (a clawback, until a payout recovers it). Lines with nothing
 * outstanding are dropped, so that memory follows the open lines, not the history.
 */
export interface OpenLine {
  readonly partnerId: string;
  readonly currency: string;
  remaining: bigint;
  readonly payableAt: string;
  held: boolean;
  /** How many of the partner's recent payouts settled part of it (a failure of one of them restores it). */
  inPayouts: number;
  /** occurredAt of the conversion that earned it; "" for a clawback of a line already paid in full. */
  readonly earnedAt: string;
}

/**
 * lineId -> the line, packed into one string (see packLine): lines are many, and touched rarely. Those loaded
 * from a checkpoint stay as saved (id, packed line, id, packed line..., sorted by id, never changed), under the
 * lines stored since (the packed line, or null for a saved line dropped since): loading a checkpoint costs
 * nothing per line, and a saved line is found by binary search. A replay from the start keeps every line in
 * `changed`.
 *
 * The saved lines come in two parts. `cold`: those that can never again count as pending or held, being not
 * held and either with nothing outstanding or payable (payableAt) by `coldBefore`, the latest occurredAt the
 * state had applied when saved; a result as of that moment or later (every result of a state resumed from
 * it: its asOf is the latest occurredAt applied, or the effectiveAt bound, which the checkpoint's events are
 * within) counts them only as open lines, `coldOpen` of them. `saved`: all the others.
 */
export interface Lines {
  readonly saved: readonly string[];
  readonly cold: readonly string[];
  readonly coldOpen: number;
  readonly coldBefore: string | null;
  readonly changed: Map<string, string | null>;
}

export const emptyLines = (): Lines => ({
  saved: [],
  cold: [],
  coldOpen: 0,
  coldBefore: null,
  changed: new Map(),
});

// A line packed into one flat string takes a fraction of the memory of an object holding a bigint and
// four strings of its own; tabs cannot occur in identifiers or timestamps.
export const packLine = (l: OpenLine): string =>
  `${l.remaining}\t${l.held ? 1 : 0}\t${l.inPayouts}\t${l.payableAt}\t${l.partnerId}\t${l.currency}\t${l.earnedAt}`;

/** The fields of a packed line as text, in packLine's order, for readers that need only some of them. */
export type PackedFields = [
  remaining: string,
  held: string,
  inPayouts: string,
  payableAt: string,
  partnerId: string,
  currency: string,
  earnedAt: string,
];
export const packedFields = (packed: string): PackedFields => packed.split('\t') as PackedFields;

export const unpackLine = (packed: string): OpenLine => {
  const [remaining, held, inPayouts, payableAt, partnerId, currency, earnedAt] = packedFields(packed);
  return {
    remaining: BigInt(remaining),
    held: held === '1',
    inPayouts: Number(inPayouts),
    payableAt,
    partnerId,
    currency,
    earnedAt,
  };
};

/** Whether a packed line has nothing outstanding: BigInt's text of zero is "0". */
const isZero = (packed: string): boolean => packed.charCodeAt(0) === 48 && packed.charCodeAt(1) === 9;

/** The index in `saved` (id, packed, id, packed..., sorted by id) of the line's id, or -1. */
const indexOf = (saved: readonly string[], lineId: string): number => {
  let low = 0;
  let high = saved.length / 2 - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const id = saved[middle * 2]!;
    if (id === lineId) return middle * 2;
    if (id < lineId) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
};

/** The saved (packed) form of a line, from either part; undefined when it was not saved. */
export const savedForm = (lines: Lines, lineId: string): string | undefined => {
  for (const part of [lines.saved, lines.cold]) {
    if (part.length === 0) continue;
    const index = indexOf(part, lineId);
    if (index >= 0) return part[index + 1];
  }
  return undefined;
};

/** The line as stored now, packed; undefined when there is none. */
export const packedLine = (lines: Lines, lineId: string): string | undefined => {
  const changed = lines.changed.get(lineId);
  if (changed !== undefined) return changed ?? undefined;
  return savedForm(lines, lineId);
};

/** Stores a line, packed, or drops it (null): a saved line is then hidden, any other forgotten. */
export const storeLine = (lines: Lines, lineId: string, packed: string | null): void => {
  if (packed !== null) lines.changed.set(lineId, packed);
  else if (savedForm(lines, lineId) !== undefined) lines.changed.set(lineId, null);
  else lines.changed.delete(lineId);
};

/**
 * The lines a result as of `asOf` must read (packed), and how many open lines it need not read: the cold
 * ones, unchanged since saved, when asOf is at or after `coldBefore`; every line otherwise.
 */
export const linesForFigures = (
  lines: Lines,
  asOf: string | null,
): { readonly read: Iterable<string>; readonly openUnread: number } => {
  const { saved, cold, changed } = lines;
  const skipCold = asOf !== null && lines.coldBefore !== null && asOf >= lines.coldBefore;
  let openUnread = 0;
  if (skipCold) {
    openUnread = lines.coldOpen;
    // A cold line changed since it was saved is read in its new form, and no longer counted as saved.
    for (const id of changed.keys()) {
      const index = cold.length === 0 ? -1 : indexOf(cold, id);
      if (index >= 0 && !isZero(cold[index + 1]!)) openUnread -= 1;
    }
  }
  const read = function* (): Generator<string> {
    for (const part of skipCold ? [saved] : [saved, cold])
      if (changed.size === 0) for (let i = 1; i < part.length; i += 2) yield part[i]!;
      else for (let i = 0; i < part.length; i += 2) if (!changed.has(part[i]!)) yield part[i + 1]!;
    for (const packed of changed.values()) if (packed !== null) yield packed;
  };
  return { read: read(), openUnread };
};

/** Whether the line can count as pending or held in a result as of `latest` or later. */
const mayCount = (packed: string, latest: string | null): boolean => {
  if (isZero(packed)) return false;
  if (latest === null) return true;
  const t1 = packed.indexOf('\t');
  if (packed.charCodeAt(t1 + 1) === 49) return true; // held
  const t3 = packed.indexOf('\t', packed.indexOf('\t', t1 + 1) + 1);
  return packed.slice(t3 + 1, packed.indexOf('\t', t3 + 1)) > latest;
};

/** The lines as a checkpoint saves them, split as of `latest` (the latest occurredAt the state applied). */
export const saveLines = (
  lines: Lines,
  latest: string | null,
): { lines: string[]; coldLines: string[]; coldOpen: number } => {
  const entries: Array<[string, string]> = [];
  for (const part of [lines.saved, lines.cold])
    for (let i = 0; i < part.length; i += 2)
      if (!lines.changed.has(part[i]!)) entries.push([part[i]!, part[i + 1]!]);
  for (const [id, packed] of lines.changed) if (packed !== null) entries.push([id, packed]);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const warm: string[] = [];
  const coldLines: string[] = [];
  let coldOpen = 0;
  for (const [id, packed] of entries)
    if (mayCount(packed, latest)) warm.push(id, packed);
    else {
      coldLines.push(id, packed);
      if (!isZero(packed)) coldOpen += 1;
    }
  return { lines: warm, coldLines, coldOpen };
};

/** The lines as saved by saveLines (the checkpoint's checksum vouches that they are as saved: sorted). */
export const loadLines = (
  saved: readonly string[],
  cold: readonly string[],
  coldOpen: number,
  coldBefore: string | null,
): Lines => ({ saved, cold, coldOpen, coldBefore, changed: new Map() });
