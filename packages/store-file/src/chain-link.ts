import { STORED_TEXT_HASH } from '@partner-ledger/store';
import type { ChainLink } from '@partner-ledger/store';
import {
  KEY_BYTES,
  SCAN_END,
  SCAN_HASH,
  SCAN_ID,
  SCAN_OCCURRED,
  SCAN_POSITION,
  SCAN_PREV_HASH,
  SCAN_RECORDED,
  SCAN_REVISION,
  SCAN_SCHEMA,
  SCAN_SLOTS,
  SCAN_STREAM,
  SCAN_TYPE,
  digitsValue,
  scanChainLink,
} from './chain-scan';

export { isCompactJsonValue } from './chain-scan';

/*
 * What verifyStore reads of an event (ChainLink: its position, id, stream, revision and the two hashes),
 * taken from a record's bytes without parsing its JSON, for the records the file store writes: the canonical text the
 * event's hash covers with `,"hash":"<hash>","position":<position>}` in place of its closing brace.
 *
 * The record is accepted only when its bytes are exactly
 *
 *   {"actor":S,"causationId":null|S,"correlationId":S,"data":V,"id":S,"occurredAt":S,"prevHash":null|S,
 *    "recordedAt":S,"revision":N,"schemaVersion":N,"stream":S,"type":S,"hash":H,"position":N}
 *
 * (no white space) where each S is a string with nothing escaped (no `"`, no `\`, no byte below 0x20), each
 * N a non-negative integer of at most 15 digits without a leading zero, V one JSON value (checked by the
 * full JSON grammar, so that JSON.parse would accept the record), and H 64 characters equal to the SHA-256,
 * in lower-case hex, of the bytes before `,"hash"` followed by `}` (the canonical text). Such a record is
 * valid JSON whose parse gives exactly the fields returned: strings without escapes are their bytes decoded
 * as UTF-8, each key appears once, and the data is one value that cannot hide another key. Anything else
 * (an escaped id, white space, a hash that does not match because the record was changed) gives undefined,
 * and the caller parses the record and hashes it from its content as any store does, with the same verdict
 * and message as before.
 */

/**
 * The chain link of a record that scanChainLink (chain-scan.ts) accepted, from the offsets it left at
 * scanned[at...] and the record's bytes in `buffer`. The hash is the stored one: the scan found it equal,
 * byte for byte, to the lower-case hex SHA-256 of the canonical text.
 */
export const linkFromScan = (
  buffer: Buffer,
  scanned: Int32Array,
  at: number,
  /** False: the link's id is left empty (a caller that never reports the event spares the string). */
  withId: boolean,
): ChainLink => {
  const hashOpen = scanned[at + SCAN_HASH]!;
  const prevHashAt = scanned[at + SCAN_PREV_HASH]!;
  const typeAt = scanned[at + SCAN_TYPE]!;
  // Latin-1 is exact here: the scan found these 64 bytes to be hex digits.
  const hash = buffer.toString('latin1', hashOpen + 1, hashOpen + 65);
  return {
    position: digitsValue(buffer, scanned[at + SCAN_POSITION]!, scanned[at + SCAN_END]! - 1),
    id: withId
      ? buffer.toString('utf8', scanned[at + SCAN_ID]! + KEY_BYTES.id, scanned[at + SCAN_OCCURRED]! - 1)
      : '',
    stream: buffer.toString('utf8', scanned[at + SCAN_STREAM]! + KEY_BYTES.stream, typeAt - 1),
    revision: digitsValue(
      buffer,
      scanned[at + SCAN_REVISION]! + KEY_BYTES.revision,
      scanned[at + SCAN_SCHEMA]!,
    ),
    prevHash:
      prevHashAt < 0
        ? null
        : buffer.toString('utf8', prevHashAt + KEY_BYTES.prevHash, scanned[at + SCAN_RECORDED]! - 1),
    hash,
    [STORED_TEXT_HASH]: hash,
  };
};

const scratch = new Int32Array(SCAN_SLOTS);

/**
 * The chain link of the record whose JSON is bytes start..end of `buffer`, marked with its hash under
 * STORED_TEXT_HASH; undefined when the record is not exactly as described above (see ChainLink). The
 * buffer is changed for the time of the hash (the suffix's comma stands in for the closing brace) and put
 * back.
 */
export const readChainLink = (
  buffer: Buffer,
  start: number,
  end: number,
  /** False: the link's id is left empty (a caller that never reports the event spares the string). */
  withId = true,
): ChainLink | undefined =>
  scanChainLink(buffer, start, end, scratch, 0) ? linkFromScan(buffer, scratch, 0, withId) : undefined;
