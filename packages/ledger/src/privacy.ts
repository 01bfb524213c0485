import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import {
  PSEUDONYM_PREFIX,
  VISITOR_PSEUDONYM_KEY_ID,
  decodeStoredEvent,
  newEvent,
  partnerKeyId,
  pseudonymOf,
} from '@partner-ledger/events';
import type { KeyStore, LedgerEvent } from '@partner-ledger/events';
import type { EventStore } from '@partner-ledger/store';
import type { LedgerCommand } from './commands';
import type { PreparedCommand } from './ledger';
import type { Outcome } from './ledger-api';
import { eventIdFor, streams } from './naming';
import { reject } from './rejection';
import type { LedgerRejection } from './rejection';

/**
 * The subject id that names every visitor at once (`{ kind: 'visitor', id: ALL_VISITORS }`): erasing it
 * destroys the key of the visitors' pseudonyms, so that no visitor id can be linked to its pseudonym any
 * more; new visitors get pseudonyms under a new key (`visitors.2`, then `visitors.3`, ...).
 */
export const ALL_VISITORS = '*';

/** The key id of the visitors' pseudonyms of a generation: `visitors`, then `visitors.2`, ... */
const visitorKeyIdOf = (generation: number): string =>
  generation === 1 ? VISITOR_PSEUDONYM_KEY_ID : `${VISITOR_PSEUDONYM_KEY_ID}.${generation}`;

/**
 * The key id visitors are pseudonymized with now: the first generation whose key was not erased, and the
 * generation before it when that one's key was never made (the key erased last, for a repeated erasure).
 */
const visitorKeyIds = async (keys: KeyStore): Promise<{ current: string; lastErased: string | null }> => {
  for (let generation = 1; ; generation += 1) {
    const keyId = visitorKeyIdOf(generation);
    if ((await keys.get(keyId)).state !== 'erased')
      return { current: keyId, lastErased: generation === 1 ? null : visitorKeyIdOf(generation - 1) };
  }
};

/**
 * A `prepareCommand` for createLedger: the visitor id of `trackClick` and `recordConversion` is replaced by
 * its pseudonym (`vp-...`, a keyed HMAC under the key store's current visitors' key), so that raw visitor
 * ids never reach the store, not even in stream names, while a visitor's clicks and its conversions still
 * match.
 *
 * The key is made on first use (the first visitor ever, or the first after an erasure of every visitor),
 * and kept only when a command made with it is recorded: a refused click (its partner not joined, or a
 * click id recorded before under the erased key) leaves no key behind, so that only a new visitor makes
 * the next generation's key (docs/privacy.md), and `export-subject` and `erase --visitor` still find none.
 * The commands deciding with a key made here are counted, and the key is discarded when the last of them
 * was refused and none was recorded. Looking the key up and settling a command take turns, so that no
 * command picks up a key while it is being discarded.
 */
export const pseudonymizeVisitors = (keys: KeyStore) => {
  const fresh = new Map<string, { key: Uint8Array; deciding: number; recorded: boolean }>();
  let turn: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const done = turn.then(work);
    turn = done.catch(() => undefined);
    return done;
  };
  const settle = (keyId: string) => (recorded: boolean) =>
    inTurn(async () => {
      const made = fresh.get(keyId)!;
      made.deciding -= 1;
      made.recorded ||= recorded;
      if (made.deciding > 0) return;
      fresh.delete(keyId);
      if (!made.recorded) await keys.discard?.(keyId, made.key);
    });
  return async (command: LedgerCommand): Promise<LedgerCommand | PreparedCommand> => {
    if (command.command !== 'trackClick' && command.command !== 'recordConversion') return command;
    const visitorId = command.visitorId;
    if (visitorId === undefined || visitorId === null) return command;
    const { keyId, key, made } = await inTurn(async () => {
      const { current } = await visitorKeyIds(keys);
      const making = fresh.get(current);
      if (making !== undefined) {
        making.deciding += 1;
        return { keyId: current, key: making.key, made: true };
      }
      const found = await keys.get(current);
      if (found.state === 'present') return { keyId: current, key: found.key, made: false };
      const key = await keys.getOrCreate(current);
      fresh.set(current, { key, deciding: 1, recorded: false });
      return { keyId: current, key, made: true };
    });
    const prepared = { ...command, visitorId: pseudonymOf(key, visitorId) };
    return made ? { command: prepared, settled: settle(keyId) } : prepared;
  };
};

/** Whose personal data: a partner (by id) or a visitor (by its id as the caller knows it, or its pseudonym). */
export interface PersonalDataSubject {
  readonly kind: 'partner' | 'visitor';
  readonly id: string;
}

/** What `erasePersonalData` takes. */
export interface ErasureRequest {
  readonly subject: PersonalDataSubject;
  /** Who asked: a reference to the request (a ticket, a role), not a person's name. */
  readonly requestedBy: string;
  /** Why (`GDPR art. 17 request`, ...). */
  readonly reason: string;
  /** Default: the clock's now. */
  readonly occurredAt?: string;
  /** Default: the ledger's actor. */
  readonly actor?: string;
}

/** Everything the ledger holds about a subject, its personal fields opened (the right of access). */
export interface SubjectExport {
  readonly subject: PersonalDataSubject;
  /**
   * The visitor's pseudonym, for a visitor. Absent when the current visitors' key was never made (no
   * visitor recorded since every visitor was erased, or ever): then nothing held names the visitor, and
   * `events` is empty.
   */
  readonly pseudonym?: string;
  /**
   * A partner's key (that seals its fields) or, for a visitor, the current key of the visitors' pseudonyms;
   * and whether the key store holds it, erased it or lacks it. Exporting never makes a key.
   */
  readonly key: { readonly keyId: string; readonly state: 'present' | 'erased' | 'missing' };
  /** Every event of its streams, and every conversion naming the visitor, as read (opened). */
  readonly events: readonly LedgerEvent[];
}

/** Erasure and access, over a ledger's store (a sealing one, to read opened fields) and its key store. */
export interface PersonalDataOperations {
  /**
   * Erases a subject's personal data: records PersonalDataErased (who asked, when, why) in the stream
   * `erasure-<kind>-<id>`, then destroys the subject's key. A partner's sealed fields read as `[erased]`
   * from then on; money, structure and the hash links are untouched. A visitor has no key of its own (its
   * pseudonym's key is shared): the erasure is recorded against its pseudonym and nothing is destroyed.
   * Every visitor at once ({@link ALL_VISITORS}): recorded in `erasure-visitors`, then the pseudonyms' key
   * is destroyed (new visitors get a new key, and no longer match clicks made before). Running it again
   * after a failure is safe: the record is recognised and the key destroyed.
   */
  readonly erasePersonalData: (request: ErasureRequest) => TE.TaskEither<LedgerRejection, Outcome>;
  /** Everything held about a subject, opened with its key when the key store holds it. */
  readonly exportSubject: (subject: PersonalDataSubject) => Promise<SubjectExport>;
}

/** What {@link createPersonalDataOperations} needs. */
export interface PersonalDataOptions {
  /** The ledger's store: give the sealing store, so that exports are opened. */
  readonly store: EventStore;
  /** The ledger's key store: erasure destroys a partner's key in it. */
  readonly keys: KeyStore;
  /** The time of an erasure. Default: the system clock. */
  readonly clock?: () => Date;
  /** The actor of an erasure whose request names none. Default `service:partner-ledger`. */
  readonly actor?: string;
  /** The correlation id of an erasure. Default: derived from its subject. */
  readonly ids?: () => string;
}

const collect = async (events: AsyncIterable<{ type: string }>): Promise<LedgerEvent[]> => {
  const out: LedgerEvent[] = [];
  for await (const event of events) out.push(decodeStoredEvent(event as never));
  return out;
};

/** Erasure and access for a ledger (see {@link PersonalDataOperations}). */
export const createPersonalDataOperations = (options: PersonalDataOptions): PersonalDataOperations => {
  const { store, keys } = options;
  const clock = options.clock ?? ((): Date => new Date());
  /**
   * A visitor's pseudonym under the current key, and that key's id and state. Reading never makes a key:
   * when none was made (no visitor recorded since the last erasure of every visitor, or ever), no event
   * can name the visitor, and making one here would give a repeated `--all-visitors` a key to destroy.
   */
  const pseudonymFor = async (
    visitorId: string,
  ): Promise<{ pseudonym: string | null; keyId: string; state: 'present' | 'missing' }> => {
    const { current } = await visitorKeyIds(keys);
    const found = await keys.get(current);
    // visitorKeyIds returns the first generation not erased: `erased` cannot happen but for a race.
    const key = found.state === 'present' ? found.key : null;
    const state = key === null ? 'missing' : 'present';
    if (visitorId.startsWith(PSEUDONYM_PREFIX)) return { pseudonym: visitorId, keyId: current, state };
    return { pseudonym: key === null ? null : pseudonymOf(key, visitorId), keyId: current, state };
  };

  const erasePersonalData =
    (request: ErasureRequest): TE.TaskEither<LedgerRejection, Outcome> =>
    async () => {
      const { subject } = request;
      const now = clock().toISOString();
      if (subject.kind === 'partner') {
        const joined = await collect(store.readStream(streams.partner(subject.id), { maxCount: 1 }));
        if (joined.length === 0)
          return E.left(
            reject('PARTNER_NOT_FOUND', `No partner ${JSON.stringify(subject.id)} has joined the program`, {
              field: 'subject.id',
            }),
          );
      }
      const all = subject.kind === 'visitor' && subject.id === ALL_VISITORS;
      // Every visitor: the current generation's key, or (repeated after it was destroyed, no visitor since)
      // the one destroyed last, so that the repeat is recognised by its event id.
      const visitorKeys = all ? await visitorKeyIds(keys) : undefined;
      const pseudonym =
        subject.kind === 'visitor' && !all ? (await pseudonymFor(subject.id)).pseudonym : null;
      if (subject.kind === 'visitor' && !all && pseudonym === null)
        return E.left(
          reject(
            'VISITOR_NOT_FOUND',
            `no visitor has been recorded under the current visitors' key (none since every visitor was erased, or none ever): nothing held can be linked to visitor ${JSON.stringify(subject.id)}, and nothing was recorded`,
            { field: 'subject.id' },
          ),
        );
      const id = all ? ALL_VISITORS : subject.kind === 'partner' ? subject.id : pseudonym!;
      const keyId =
        subject.kind === 'partner'
          ? partnerKeyId(id)
          : visitorKeys === undefined
            ? null
            : visitorKeys.lastErased !== null && (await keys.get(visitorKeys.current)).state === 'missing'
              ? visitorKeys.lastErased
              : visitorKeys.current;
      const stream = all ? 'erasure-visitors' : `erasure-${subject.kind}-${id}`;
      const event = newEvent(
        'PersonalDataErased',
        {
          subject: { kind: subject.kind, id },
          keyId,
          requestedBy: request.requestedBy,
          reason: request.reason,
        },
        {
          id: all
            ? eventIdFor('PersonalDataErased', subject.kind, id, keyId!)
            : eventIdFor('PersonalDataErased', subject.kind, id),
          occurredAt: request.occurredAt ?? now,
          recordedAt: now,
          actor: request.actor ?? options.actor ?? 'service:partner-ledger',
          correlationId: options.ids?.() ?? `erasure-${subject.kind}-${id}`.slice(0, 200),
          causationId: null,
        },
      );
      const result = await store.append(stream.slice(0, 200), [event], { expectedRevision: 'any' });
      if (keyId !== null) await keys.destroy(keyId, now);
      return E.right({
        stream: result.stream,
        events: result.events.map((e) => decodeStoredEvent(e)),
        alreadyRecorded: result.alreadyStored,
      });
    };

  const erasuresOf = (kind: PersonalDataSubject['kind'], id: string): Promise<LedgerEvent[]> =>
    collect(store.readStream(`erasure-${kind}-${id}`.slice(0, 200)));

  const exportSubject = async (subject: PersonalDataSubject): Promise<SubjectExport> => {
    if (subject.kind === 'partner') {
      const id = subject.id;
      const keyId = partnerKeyId(id);
      const found = await keys.get(keyId);
      const events = await collect(store.readStream(streams.partner(id)));
      return {
        subject,
        key: { keyId, state: found.state },
        events: [...events, ...(await erasuresOf('partner', id))],
      };
    }
    const { pseudonym: id, keyId, state } = await pseudonymFor(subject.id);
    if (id === null) return { subject, key: { keyId, state }, events: [] };
    const erasures = await erasuresOf('visitor', id);
    const clicks = await collect(store.readStream(streams.visitor(id)));
    const conversions: LedgerEvent[] = [];
    for await (const event of store.readAll())
      if (event.type === 'ConversionAttributed' && (event.data as { visitorId?: unknown }).visitorId === id)
        conversions.push(decodeStoredEvent(event));
    return {
      subject,
      pseudonym: id,
      key: { keyId, state },
      events: [...clicks, ...conversions, ...erasures],
    };
  };

  return { erasePersonalData, exportSubject };
};
