import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { SEALED_PREFIX } from './personal';

/** What a report shows in place of a personal field whose subject's key was destroyed. */
export const ERASED_MARKER = '[erased]';
/** What a reader without the subject's key (an auditor, a replica) shows in place of a sealed field. */
export const SEALED_MARKER = '[sealed]';

/** The length in bytes of every key: AES-256 and HMAC-SHA-256 keys alike. */
export const KEY_BYTES = 32;

const b64 = (bytes: Buffer): string => bytes.toString('base64url');

/** A sealed value that cannot be opened: a wrong key, or a ciphertext that was changed. Never garbage. */
export class SealedValueError extends Error {
  override readonly name = 'SealedValueError';
  constructor(
    readonly keyId: string,
    reason: string,
  ) {
    super(`a sealed value of key ${JSON.stringify(keyId)} cannot be opened: ${reason}`);
  }
}

/**
 * Encrypts a personal value with AES-256-GCM. The IV is derived from the key, the context (event id and
 * field path) and the value (as in SIV modes), so the same event sealed twice is byte-identical (a retried
 * command stays idempotent) and two events never share an IV unless they seal the same value at the same
 * place. The key id is stored beside the ciphertext; the key id, the context and the format version are
 * authenticated with it.
 */
export const sealValue = (key: Uint8Array, keyId: string, context: string, plaintext: string): string => {
  const iv = createHmac('sha256', key)
    .update(`iv\u0000${context}\u0000${plaintext}`, 'utf8')
    .digest()
    .subarray(0, 12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const keyPart = b64(Buffer.from(keyId, 'utf8'));
  cipher.setAAD(Buffer.from(`${SEALED_PREFIX}${keyPart}`, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${SEALED_PREFIX}${keyPart}.${b64(iv)}.${b64(ciphertext)}.${b64(cipher.getAuthTag())}`;
};

/** The parts of a sealed value, or undefined when it is not one (a malformed one included). */
export const parseSealed = (
  sealed: string,
): { keyId: string; iv: Buffer; ciphertext: Buffer; tag: Buffer; keyPart: string } | undefined => {
  if (!sealed.startsWith(SEALED_PREFIX)) return undefined;
  const parts = sealed.slice(SEALED_PREFIX.length).split('.');
  if (parts.length !== 4 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  const [keyPart, iv, ciphertext, tag] = parts as [string, string, string, string];
  return {
    keyId: Buffer.from(keyPart, 'base64url').toString('utf8'),
    keyPart,
    iv: Buffer.from(iv, 'base64url'),
    ciphertext: Buffer.from(ciphertext, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
  };
};

/** The key id a sealed value names, or undefined when it is not a well-formed sealed value. */
export const sealedKeyId = (sealed: string): string | undefined => parseSealed(sealed)?.keyId;

/**
 * Decrypts a sealed value. A malformed value, a wrong key or a changed ciphertext is a SealedValueError
 * naming the key id: authenticated encryption never returns garbage.
 */
export const openSealedValue = (key: Uint8Array, sealed: string): string => {
  const parts = parseSealed(sealed);
  if (parts === undefined) throw new SealedValueError('?', 'it is not a well-formed sealed value');
  if (parts.iv.length !== 12 || parts.tag.length !== 16)
    throw new SealedValueError(parts.keyId, 'its IV or authentication tag has the wrong length');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv);
    decipher.setAAD(Buffer.from(`${SEALED_PREFIX}${parts.keyPart}`, 'utf8'));
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedValueError(
      parts.keyId,
      'wrong key, or the ciphertext was changed (authentication failed)',
    );
  }
};

/** The prefix of every visitor pseudonym. */
export const PSEUDONYM_PREFIX = 'vp-';

/**
 * A visitor's pseudonym: `vp-` and a keyed HMAC-SHA-256 of its id (128 bits, hex). The same id always
 * gives the same pseudonym under one key, so attribution still matches clicks with conversions; without the
 * key, the id cannot be recovered nor a guessed id checked.
 */
export const pseudonymOf = (key: Uint8Array, visitorId: string): string =>
  visitorId.startsWith(PSEUDONYM_PREFIX)
    ? visitorId
    : `${PSEUDONYM_PREFIX}${createHmac('sha256', key).update(visitorId, 'utf8').digest('hex').slice(0, 32)}`;
