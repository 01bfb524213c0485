import { SEALED_MARKER, isSealedValue } from '@partner-ledger/events';
import { streams } from '@partner-ledger/ledger';
import type { AsKnownAt, EventStore } from '@partner-ledger/store';
import type { Rows } from './table';

// Partners' names for the reports. The projections hold no personal data (their states are checkpointed,
// and a checkpoint must not keep a name after its erasure): the names are read after the replay, from each
// partner's own stream, through the store the report was given. Through a sealing store (a ledger with a
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
      if (event.type !== 'PartnerJoined' && event.type !== 'PartnerContactDetailsChanged') continue;
      if (effective !== undefined && Date.parse(event.occurredAt) > effective) continue;
      const given = (event.data as { name?: unknown }).name;
      if (typeof given === 'string') name = isSealedValue(given) ? SEALED_MARKER : given;
    }
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
