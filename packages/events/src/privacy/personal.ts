import * as t from 'io-ts';
import { shapeOf, withShape } from '../codec/primitives';

/**
 * How a personal field is protected. `sealed`: stored encrypted with its subject's key (crypto-shredding:
 * destroying the key erases it). `pseudonym`: stored as a keyed HMAC of the value, never the value itself,
 * so that equal values still match (a visitor's clicks and its conversions).
 */
export type PersonalKind = 'sealed' | 'pseudonym';

/** The prefix of a sealed value as stored: `sealed.v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts). */
export const SEALED_PREFIX = 'sealed.v1.';

/** Whether a stored value is a sealed (encrypted) one. */
export const isSealedValue = (u: unknown): u is string =>
  typeof u === 'string' && u.startsWith(SEALED_PREFIX);

const KINDS = new WeakMap<t.Mixed, PersonalKind>();

/**
 * Marks a field's codec as personal data. A `sealed` field also accepts its sealed form (the ciphertext is
 * longer than the plaintext bound), so that events read back without a key still decode.
 */
export const personal = <C extends t.Mixed>(kind: PersonalKind, codec: C): C => {
  const marked =
    kind === 'sealed'
      ? (new t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown>(
          codec.name,
          (u): u is t.TypeOf<C> => isSealedValue(u) || codec.is(u),
          (u, c) => (isSealedValue(u) ? t.success(u as t.TypeOf<C>) : codec.validate(u, c)),
          codec.encode,
        ) as unknown as C)
      : (new t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown>(
          codec.name,
          codec.is,
          codec.validate,
          codec.encode,
        ) as unknown as C);
  KINDS.set(marked, kind);
  const shape = shapeOf(codec);
  return shape === undefined ? marked : withShape(marked, shape);
};

/** The personal-data marker of a codec, or undefined when it is not marked. */
export const personalKindOf = (codec: t.Mixed): PersonalKind | undefined => KINDS.get(codec);

/** A field of a codec, with its path (`payee.iban`, `credits[].partnerId`) and its marker. */
export interface CodecField {
  readonly path: string;
  /** The field's own name: the last part of its path. */
  readonly name: string;
  readonly personal: PersonalKind | undefined;
}

const innerOf = (codec: t.Mixed): t.Mixed | undefined => {
  const shape = shapeOf(codec);
  if (shape?.kind === 'nullable') return shape.inner;
  if (shape?.kind === 'same') return shape.as;
  if (codec instanceof t.ArrayType) return codec.type as t.Mixed;
  return undefined;
};

/** Every field of a codec, nested ones included: what the catalogue's personal-data test walks. */
export const fieldsOf = (codec: t.Mixed, prefix = ''): CodecField[] => {
  const inner = innerOf(codec);
  if (inner !== undefined) return fieldsOf(inner, codec instanceof t.ArrayType ? `${prefix}[]` : prefix);
  const shape = shapeOf(codec);
  if (shape?.kind === 'tagged')
    return Object.values(shape.members).flatMap((member) => fieldsOf(member, prefix));
  if (shape?.kind !== 'struct') return [];
  return Object.entries({ ...shape.required, ...shape.optional }).flatMap(([name, field]) => {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    return [{ path, name, personal: personalKindOf(field) }, ...fieldsOf(field, path)];
  });
};

/**
 * Applies `change` to every personal field of `value` (decoded with `codec`) that holds a string, and
 * returns the new value; the value itself is never modified, and parts with no personal field are shared.
 */
export const mapPersonal = (
  codec: t.Mixed,
  value: unknown,
  change: (kind: PersonalKind, value: string, path: string) => string,
  path = '',
): unknown => {
  const kind = personalKindOf(codec);
  if (kind !== undefined && typeof value === 'string') return change(kind, value, path);
  if (value === null || typeof value !== 'object') return value;
  const inner = innerOf(codec);
  if (inner !== undefined) {
    if (!(codec instanceof t.ArrayType)) return mapPersonal(inner, value, change, path);
    if (!Array.isArray(value)) return value;
    let changed = false;
    const items = value.map((item, i) => {
      const next = mapPersonal(inner, item, change, `${path}[${i}]`);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? items : value;
  }
  const shape = shapeOf(codec);
  if (shape?.kind === 'tagged') {
    const member = Object.values(shape.members).find((m) => m.is(value));
    return member === undefined ? value : mapPersonal(member, value, change, path);
  }
  if (shape?.kind !== 'struct') return value;
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const [name, field] of Object.entries({ ...shape.required, ...shape.optional })) {
    if (!(name in record)) continue;
    const next = mapPersonal(field, record[name], change, path === '' ? name : `${path}.${name}`);
    if (next !== record[name]) (out ??= { ...record })[name] = next;
  }
  return out ?? value;
};

/** Whether a codec has a personal field anywhere: events without one are passed through untouched. */
export const hasPersonalFields = (codec: t.Mixed): boolean =>
  fieldsOf(codec).some((field) => field.personal !== undefined);
