import type * as t from 'io-ts';
import { CATALOGUE } from '../catalogue/events';
import type { EventType } from '../catalogue/events';
import { fieldsOf, hasPersonalFields, isSealedValue, mapPersonal } from './personal';
import type { KeyLookup } from './keys';
import { ERASED_MARKER, SEALED_MARKER, openSealedValue, sealValue, sealedKeyId } from './seal';

/** The key id of the program-wide key that makes visitors' pseudonyms. */
export const VISITOR_PSEUDONYM_KEY_ID = 'visitors';

/** The key id of a partner's own key: every sealed field of its events is encrypted with it. */
export const partnerKeyId = (partnerId: string): string => `partner:${partnerId}`;

const WITH_PERSONAL = new Set(
  (Object.keys(CATALOGUE) as EventType[]).filter((type) =>
    hasPersonalFields(CATALOGUE[type].data as t.Mixed),
  ),
);

/** Whether events of this type have a personal field. */
export const hasPersonalData = (type: string): boolean => WITH_PERSONAL.has(type as EventType);

const WITH_SEALED = new Set(
  (Object.keys(CATALOGUE) as EventType[]).filter((type) =>
    fieldsOf(CATALOGUE[type].data as t.Mixed).some((field) => field.personal === 'sealed'),
  ),
);

/**
 * Whether events of this type have a sealed field: the only ones a sealing store encrypts and opens (the
 * others, clicks and conversions among them, pass through untouched, so that a replay pays nothing for them).
 */
export const hasSealedFields = (type: string): boolean => WITH_SEALED.has(type as EventType);

const codecOf = (type: string): t.Mixed | undefined =>
  WITH_PERSONAL.has(type as EventType) ? (CATALOGUE[type as EventType].data as t.Mixed) : undefined;

/**
 * The key id that seals an event's personal fields: its partner's key. Undefined when the event has no
 * sealed field or no partner.
 */
export const sealingKeyIdOf = (type: string, data: unknown): string | undefined => {
  const codec = codecOf(type);
  if (codec === undefined || data === null || typeof data !== 'object') return undefined;
  let sealed = false;
  mapPersonal(codec, data, (kind, value) => {
    if (kind === 'sealed') sealed = true;
    return value;
  });
  const partnerId = (data as { partnerId?: unknown }).partnerId;
  return sealed && typeof partnerId === 'string' ? partnerKeyId(partnerId) : undefined;
};

/**
 * An event's data as it is stored: each `sealed` field encrypted with `key` (see sealValue; `eventId` and
 * the field's path are the context of its IV), and already sealed values kept. Pseudonyms are made when a
 * command is decided, not here (the visitor's stream is named by it).
 */
export const sealEventData = (
  type: string,
  eventId: string,
  data: unknown,
  key: Uint8Array,
  keyId: string,
): unknown => {
  const codec = codecOf(type);
  if (codec === undefined) return data;
  return mapPersonal(codec, data, (kind, value, path) =>
    kind === 'sealed' && !isSealedValue(value)
      ? sealValue(key, keyId, `${eventId}\u0000${path}`, value)
      : value,
  );
};

/** The key ids an event's sealed fields name (to fetch them before opening). */
export const sealedKeyIdsOf = (type: string, data: unknown): string[] => {
  const codec = codecOf(type);
  if (codec === undefined) return [];
  const ids = new Set<string>();
  mapPersonal(codec, data, (kind, value) => {
    const id = kind === 'sealed' && isSealedValue(value) ? sealedKeyId(value) : undefined;
    if (id !== undefined) ids.add(id);
    return value;
  });
  return [...ids];
};

/**
 * An event's data with its sealed fields opened: the plaintext when the key is there, `[erased]` when the
 * key was destroyed, `[sealed]` when this reader has no key for it. A wrong key or a changed ciphertext
 * throws a SealedValueError (never garbage). Plaintext fields (events written before sealing) are kept,
 * unless their subject's key (`sealingKeyIdOf`) was erased: they then read as `[erased]` too (hidden, not
 * erased: their bytes are still in the store).
 */
export const openEventData = (type: string, data: unknown, lookup: (keyId: string) => KeyLookup): unknown => {
  const codec = codecOf(type);
  if (codec === undefined) return data;
  const subjectKeyId = sealingKeyIdOf(type, data);
  const subjectErased = subjectKeyId !== undefined && lookup(subjectKeyId).state === 'erased';
  return mapPersonal(codec, data, (kind, value) => {
    if (kind !== 'sealed') return value;
    if (!isSealedValue(value)) return subjectErased ? ERASED_MARKER : value;
    const keyId = sealedKeyId(value);
    if (keyId === undefined) return openSealedValue(new Uint8Array(32), value); // throws: malformed
    const found = lookup(keyId);
    if (found.state === 'erased') return ERASED_MARKER;
    if (found.state === 'missing') return SEALED_MARKER;
    return openSealedValue(found.key, value);
  });
};
