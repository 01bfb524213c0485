import {
  ERASED_MARKER,
  SEALED_MARKER,
  isSealedValue,
  openSealedValue,
  sealedKeyId,
} from '@partner-ledger/events';
import type { KeyStore, LedgerEvent, RecordedEvent } from '@partner-ledger/events';
import { streams } from '@partner-ledger/ledger';
import type { JsonValue, Projection } from '@partner-ledger/projections';
import type { AsKnownAt, EventStore } from '@partner-ledger/store';
import type { Rows } from './table';

// Partners' names for the reports. The projections hold no personal data in a form anyone can read (their
// states are checkpointed, and a checkpoint must not keep a name after its erasure): the names are read after
// the replay, from each partner's own stream, through the store the report was given, or opened from the
// sealed form partnerNameEvents kept, with the keys as they are at the report (see namesAtRevisions). Through a sealing store (a ledger with a
// key file) a name reads as the plaintext, `[erased]` once the partner's key was destroyed, or `[sealed]`
// when the key file lacks the key; read from the store itself (no key file, an auditor's copy), a sealed
// name is shown as `[sealed]`, never as its ciphertext. A plaintext name written before the ledger had keys
// shows as written, until the partner is erased (the sealing store then hides it as `[erased]`).

/** Up to where the names are read: the report's position, and its as-of moments. */
export interface NamesAt {
  /** The report's position: events after it are not read. */
  readonly position: number;
  /** Only names given by events that occurred at or before this instant (the report's --as-of). */
  readonly effectiveAt?: string;
  /** Only names recorded by then (the report's --known-at). */
  readonly knownAt?: AsKnownAt;
}

/**
 * Each partner's name as of the report (its joining name, or the last one a change of contact details
 * gave), by partner id; a partner with no joining event up to then is left out. Deterministic: the same
 * events and the same keys give the same names.
 */
export const partnerNamesOf = async (
  store: EventStore,
  partnerIds: Iterable<string>,
  at: NamesAt,
): Promise<Record<string, string>> => {
  const position =
    at.knownAt?.position === undefined ? at.position : Math.min(at.position, at.knownAt.position);
  const asKnownAt: AsKnownAt = {
    position,
    ...(at.knownAt?.recordedAt === undefined ? {} : { recordedAt: at.knownAt.recordedAt }),
  };
  const effective = at.effectiveAt === undefined ? undefined : Date.parse(at.effectiveAt);
  const names: Record<string, string> = {};
  for (const partnerId of [...new Set(partnerIds)].sort()) {
    let name: string | undefined;
    for await (const event of store.readStream(streams.partner(partnerId), { asKnownAt })) {
      if (effective !== undefined && Date.parse(event.occurredAt) > effective) continue;
      name = nameGiven(event) ?? name;
    }
    if (name !== undefined) names[partnerId] = name;
  }
  return names;
};

/** The name an event gives its partner, as the reports show it; undefined when it gives none. */
const nameGiven = (event: RecordedEvent): string | undefined => {
  if (event.type !== 'PartnerJoined' && event.type !== 'PartnerContactDetailsChanged') return undefined;
  const given = (event.data as { name?: unknown }).name;
  if (typeof given !== 'string') return undefined;
  return isSealedValue(given) ? SEALED_MARKER : given;
};

const NAME_EVENTS_FORMAT = 'partnerNameEvents@3';

/**
 * Where a partner's name is: the event's revision in the partner's stream, and its global position; and,
 * when the event holds the name sealed (`sealed.v1....`, encrypted with the partner's key), that sealed form,
 * exactly as stored. Never a plaintext name: a name stored in plaintext (written before the ledger had keys),
 * or already opened by the store the replay read (`[erased]`, `[sealed]`, the plaintext), is left to be read
 * from the event.
 */
export type NameEvent =
  | readonly [revision: number, position: number]
  | readonly [revision: number, position: number, sealed: string];

/** The name field as the event holds it, when it is the sealed form: what a NameEvent may keep. */
const sealedNameOf = (event: RecordedEvent): string | undefined => {
  const given = (event.data as { name?: unknown }).name;
  return isSealedValue(given) ? given : undefined;
};

const byKey = <V>(entries: Iterable<[string, V]>): Array<[string, V]> =>
  [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const isPosition = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;

/**
 * Where each partner's name is, as of a replay: the revision, in the partner's stream, and the global position
 * of the last event that gave it a name (its joining, or a change of contact details with a name), by partner
 * id, with the name's sealed form when the event holds one (a replay of the store beneath a sealing store sees
 * it; one through the sealing store sees names opened, and keeps none). It holds no readable name, so its
 * state may be checkpointed: a sealed name is the ledger's own ciphertext, opened only with the key as it is
 * when a report reads it (an erased key opens nothing). A report resumed from a checkpoint then opens the
 * sealed names, or reads one event per partner (namesAtRevisions), instead of every partner's stream. The
 * replay's bounds (effectiveAt, known-at, its position) are those partnerNamesOf reads within.
 */
export const partnerNameEvents = (): Projection<Map<string, NameEvent>, Record<string, NameEvent>> => ({
  name: 'partnerNameEvents',
  eventTypes: ['PartnerJoined', 'PartnerContactDetailsChanged'],
  initialState: () => new Map(),
  apply: (state: Map<string, NameEvent>, event: LedgerEvent) => {
    if (nameGiven(event) === undefined) return state;
    const sealed = sealedNameOf(event);
    state.set(
      (event.data as { partnerId: string }).partnerId,
      sealed === undefined ? [event.revision, event.position] : [event.revision, event.position, sealed],
    );
    return state;
  },
  // Not sorted: only namesAtRevisions reads it (which sorts what it reads), and no report prints it.
  result: (state) => Object.fromEntries(state),
  save: (state) => ({
    format: NAME_EVENTS_FORMAT,
    events: Object.fromEntries(byKey(state).map(([id, event]) => [id, [...event]])),
  }),
  load: (json: JsonValue) => {
    const saved = json as { format?: unknown; events?: unknown };
    if (
      saved === null ||
      typeof saved !== 'object' ||
      saved.format !== NAME_EVENTS_FORMAT ||
      saved.events === null ||
      typeof saved.events !== 'object' ||
      Array.isArray(saved.events) ||
      !Object.values(saved.events).every(
        (e) =>
          Array.isArray(e) &&
          (e.length === 2 || (e.length === 3 && isSealedValue(e[2]))) &&
          isPosition(e[0]) &&
          isPosition(e[1]),
      )
    )
      throw new Error(
        `The saved partner name events are not of the format ${NAME_EVENTS_FORMAT}: replay from the start`,
      );
    return new Map(Object.entries(saved.events as Record<string, NameEvent>));
  },
});

/** How many partners' name events are read at once, one by one: the store may serve them in parallel. */
const NAMES_IN_FLIGHT = 32;

/**
 * Name events at most this many positions apart are read together, in one readAll over the range (the
 * events between them read and dropped): partners who joined together (an import, a simulated ledger: 2,000
 * partners in a row) cost one sequential read, not one read each. On a store with sparse positions
 * (EventStoreDB's commit positions are bytes apart), events are never that close, and are read one by one.
 */
const NAMES_GAP = 16;

/**
 * A sealed name opened as a sealing store over `keys` opens the event that holds it (openEventData, for a
 * sealed field): the plaintext with the key its sealed form names, `[erased]` once that key was destroyed,
 * `[sealed]` when the key store lacks it; a malformed value, a wrong key or a changed ciphertext throws a
 * SealedValueError. The keys are asked now, so an erasure made after the name was kept (in a checkpoint)
 * shows. Done here rather than through openEventData, which walks the event's codec twice (and the key ids
 * it needs two walks more) for the one field.
 */
const openedName = async (keys: KeyStore, sealed: string): Promise<string> => {
  const keyId = sealedKeyId(sealed);
  if (keyId === undefined) return openSealedValue(new Uint8Array(32), sealed); // throws: malformed
  const found = await keys.get(keyId);
  if (found.state === 'erased') return ERASED_MARKER;
  if (found.state === 'missing') return SEALED_MARKER;
  return openSealedValue(found.key, sealed);
};

/**
 * The names of the partners (partnerNamesOf's result) from where partnerNameEvents says they are. With
 * `keys`, the key store `store` opens sealed fields with (a sealing store), a name kept sealed is opened with
 * them (as `store` would open the event) and no event is read for it; any other name is one event read per
 * partner, through `store` (a sealing store opens them as partnerNamesOf does). Without `keys`, every name is
 * read: `store` may open what it reads with keys this function does not know. Events close together in the
 * log are read in runs (see NAMES_GAP); an event read in a run is taken only if it is the partner's, at the
 * revision recorded, else it is read by its revision like the others.
 */
export const namesAtRevisions = async (
  store: EventStore,
  partnerIds: Iterable<string>,
  events: Readonly<Record<string, NameEvent>>,
  keys?: KeyStore,
): Promise<Record<string, string>> => {
  const known = [...new Set(partnerIds)].filter((id) => Object.hasOwn(events, id)).sort();
  const names: Record<string, string> = {};
  const opened = new Map<string, string>();
  const wanted: string[] = [];
  for (const partnerId of known) {
    const sealed = events[partnerId]![2];
    if (keys === undefined || sealed === undefined) wanted.push(partnerId);
    else opened.set(partnerId, await openedName(keys, sealed));
  }
  const found: (string | undefined)[] = new Array(wanted.length);
  const order = wanted.map((_, i) => i).sort((a, b) => events[wanted[a]!]![1] - events[wanted[b]!]![1]);
  const positionOf = (i: number): number => events[wanted[i]!]![1];
  const single: number[] = [];
  const matched = new Set<number>();
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && positionOf(order[end]!) - positionOf(order[end - 1]!) <= NAMES_GAP) end += 1;
    const run = order.slice(start, end);
    start = end;
    if (run.length === 1) {
      single.push(run[0]!);
      continue;
    }
    // Each position's partners (one, unless a recorded position is wrong).
    const at = new Map<number, number[]>();
    for (const i of run) at.set(positionOf(i), [...(at.get(positionOf(i)) ?? []), i]);
    // The run's range through readAll (a sealing store opens the names in it): a run is a few
    // positions, so pages would save nothing here.
    for await (const event of store.readAll({
      fromPosition: positionOf(run[0]!),
      asKnownAt: { position: positionOf(run[run.length - 1]!) },
    }))
      for (const i of at.get(event.position) ?? []) {
        const partnerId = wanted[i]!;
        if (event.stream !== streams.partner(partnerId) || event.revision !== events[partnerId]![0]) continue;
        found[i] = nameGiven(event);
        matched.add(i);
      }
    // Not found where recorded (a wrong position): read by revision.
    for (const i of run) if (!matched.has(i)) single.push(i);
  }
  const readOne = async (i: number): Promise<void> => {
    const partnerId = wanted[i]!;
    for await (const event of store.readStream(streams.partner(partnerId), {
      fromRevision: events[partnerId]![0],
      maxCount: 1,
    }))
      found[i] = nameGiven(event);
  };
  for (let start = 0; start < single.length; start += NAMES_IN_FLIGHT)
    await Promise.all(single.slice(start, start + NAMES_IN_FLIGHT).map(readOne));
  const read = new Map<string, string>();
  wanted.forEach((partnerId, i) => {
    const name = found[i];
    if (name !== undefined) read.set(partnerId, name);
  });
  // In partner id order, as before (the JSON prints them sorted either way).
  for (const partnerId of known) {
    const name = opened.get(partnerId) ?? read.get(partnerId);
    if (name !== undefined) names[partnerId] = name;
  }
  return names;
};

/** The rows with a `name` column after their `partner` column (unchanged when they have none). */
export const withPartnerNames = (rows: Rows, names: Readonly<Record<string, string>>): Rows => {
  const at = rows.columns.indexOf('partner');
  if (at < 0) return rows;
  return {
    columns: [...rows.columns.slice(0, at + 1), 'name', ...rows.columns.slice(at + 1)],
    numeric: rows.numeric,
    rows: rows.rows.map((row) => {
      const partner = row['partner'];
      const name = partner !== undefined && Object.hasOwn(names, partner) ? names[partner]! : '';
      return { ...row, name };
    }),
  };
};
