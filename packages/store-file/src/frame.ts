import { crc32, crc32OfText } from './crc';

/**
 * The on-disk framing of one event.
 *
 *   frame  = u32 checksum | u32 bodyLength | body            (little-endian)
 *   body   = f64 position | u32 revision | u16 streamBytes | u16 idBytes | u32 flags | stream | id | json
 *
 * Flag bit 0 marks the last event of an append. An append is atomic: recovery drops the events of an append
 * whose last event never reached the disk, as it drops a torn record.
 *
 * The checksum is CRC-32 over everything after it (the length and the body), so a damaged length is caught
 * as surely as a damaged body. The small binary head repeats the position, revision, stream and id that the JSON holds,
 * so that an open can check and index every record without parsing its JSON (the expensive part).
 */
export const FRAME_HEADER_BYTES = 8;
export const BODY_HEAD_BYTES = 20;
const ENDS_APPEND = 1;
/** A frame larger than this is refused on append and treated as damage on read. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface FrameFields {
  readonly position: number;
  readonly revision: number;
  readonly stream: string;
  readonly id: string;
  readonly json: string;
  /**
   * Written right after `json`: the record's JSON is json + jsonSuffix. The append path writes the hashed
   * canonical text and the fields added after hashing this way, without building the joined string.
   */
  readonly jsonSuffix?: string;
  /** This is the last event of its append. */
  readonly endsAppend: boolean;
}

export const frameSize = (fields: FrameFields): number =>
  FRAME_HEADER_BYTES +
  BODY_HEAD_BYTES +
  Buffer.byteLength(fields.stream) +
  Buffer.byteLength(fields.id) +
  Buffer.byteLength(fields.json) +
  (fields.jsonSuffix === undefined ? 0 : Buffer.byteLength(fields.jsonSuffix));

/** Writes one frame at `offset` of `target` (which must have frameSize(fields) bytes free); returns its end. */
export const writeFrame = (target: Buffer, offset: number, fields: FrameFields): number => {
  const names = offset + FRAME_HEADER_BYTES + BODY_HEAD_BYTES;
  const streamBytes = target.write(fields.stream, names, 'utf8');
  const idBytes = target.write(fields.id, names + streamBytes, 'utf8');
  let cursor = names + streamBytes + idBytes;
  cursor += target.write(fields.json, cursor, 'utf8');
  if (fields.jsonSuffix !== undefined) cursor += target.write(fields.jsonSuffix, cursor, 'utf8');
  return sealFrame(
    target,
    offset,
    cursor,
    fields.position,
    fields.revision,
    streamBytes,
    idBytes,
    fields.endsAppend,
  );
};

/**
 * At most the bytes a frame of these strings takes (a UTF-16 code unit is at most 3 UTF-8 bytes): room to
 * write it without measuring every string first, as frameSize does.
 */
export const frameSizeBound = (stream: string, id: string, textLength: number): number =>
  FRAME_HEADER_BYTES + BODY_HEAD_BYTES + 3 * (stream.length + id.length + textLength);

/** The record JSON's members after the hashed text: `,"hash":"<hash>","position":<position>}`. */
const HASH_OPENING = ',"hash":"';
const POSITION_OPENING = '","position":';

/** How many digits a position (a non-negative safe integer) takes in decimal. */
const decimalDigits = (value: number): number => {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
};

/**
 * The length (in characters, and in bytes for a hex hash) of what stands in for the closing brace of an
 * appended event's hashed text in its record: `,"hash":"<hash>","position":<position>}`.
 */
export const recordSuffixLength = (hash: string, position: number): number =>
  HASH_OPENING.length + hash.length + POSITION_OPENING.length + decimalDigits(position) + 1;

/**
 * Writes `text` as UTF-8 at `at`; returns the bytes written. Short ASCII text (stream names, ids, the
 * constant pieces and the hash of a record) byte by byte: for a few dozen characters that costs about half
 * of Buffer#write, which is a call into C++ with its own checks. Anything else, or a text found not to be
 * ASCII half-way (its bytes so far are written over), through Buffer#write.
 */
const writeUtf8 = (target: Buffer, text: string, at: number): number => {
  if (text.length <= 96) {
    let i = 0;
    for (; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) break;
      target[at + i] = code;
    }
    if (i === text.length) return i;
  }
  return target.write(text, at, 'utf8');
};

/** Writes a non-negative safe integer in decimal at `at` (its digits, last first); returns its end. */
const writeDecimal = (target: Buffer, value: number, at: number): number => {
  const end = at + decimalDigits(value);
  let rest = value;
  for (let i = end - 1; i >= at; i--) {
    const next = Math.floor(rest / 10);
    target[i] = 0x30 + (rest - next * 10);
    rest = next;
  }
  return end;
};

/** At most the bytes of `,"hash":"<hash>","position":<position>}` for a hex SHA-256 and any safe position. */
export const RECORD_SUFFIX_MAX_BYTES = HASH_OPENING.length + 64 + POSITION_OPENING.length + 16 + 1;

/**
 * Writes the stream and id of an appended event's frame at `offset` of `target` (which must have
 * FRAME_HEADER_BYTES + BODY_HEAD_BYTES + 3 * (stream.length + id.length) bytes free), and their lengths in
 * the binary head; returns where the record's JSON starts. The JSON is written there next (the canonical
 * text the event's hash covers, closing brace included), then sealRecordFrame finishes the frame.
 */
export const writeRecordNames = (target: Buffer, offset: number, stream: string, id: string): number => {
  const bodyStart = offset + FRAME_HEADER_BYTES;
  const names = bodyStart + BODY_HEAD_BYTES;
  const streamBytes = writeUtf8(target, stream, names);
  const idBytes = writeUtf8(target, id, names + streamBytes);
  target.writeUInt16LE(streamBytes, bodyStart + 12);
  target.writeUInt16LE(idBytes, bodyStart + 14);
  return names + streamBytes + idBytes;
};

/**
 * Finishes the frame that writeRecordNames began at `offset`, whose JSON text (a JSON object with members:
 * the canonical text the event's hash covers) ends at `textEnd`: its closing brace is replaced by
 * `,"hash":"<hash>","position":<position>}` (the members added after hashing; `target` must have
 * RECORD_SUFFIX_MAX_BYTES free from `textEnd - 1`), then the binary head and the checksum are written.
 * Returns the frame's end. The hash is written between quotes as it is, as a template literal would (it is hex).
 */
export const sealRecordFrame = (
  target: Buffer,
  offset: number,
  textEnd: number,
  position: number,
  revision: number,
  hash: string,
  endsAppend: boolean,
): number => {
  let cursor = textEnd - 1; // over the closing brace (one byte in UTF-8)
  cursor += writeUtf8(target, HASH_OPENING, cursor);
  cursor += writeUtf8(target, hash, cursor);
  cursor += writeUtf8(target, POSITION_OPENING, cursor);
  cursor = writeDecimal(target, position, cursor);
  target[cursor++] = 0x7d; // }
  const bodyStart = offset + FRAME_HEADER_BYTES;
  return sealFrame(
    target,
    offset,
    cursor,
    position,
    revision,
    target.readUInt16LE(bodyStart + 12),
    target.readUInt16LE(bodyStart + 14),
    endsAppend,
  );
};

/**
 * Writes the frame of an appended event at `offset` of `target` (which must have frameSizeBound bytes free
 * for the text and recordSuffixLength); returns its end: writeRecordNames, `text` as UTF-8, sealRecordFrame.
 * The append path writes the text itself (encodeHashedText, events package) and hashes it in the frame;
 * this is the same frame from a text string, and what the tests compare with the generic writeFrame.
 */
export const writeRecordFrame = (
  target: Buffer,
  offset: number,
  position: number,
  revision: number,
  stream: string,
  id: string,
  text: string,
  hash: string,
  endsAppend: boolean,
): number => {
  const jsonStart = writeRecordNames(target, offset, stream, id);
  const textEnd = jsonStart + target.write(text, jsonStart, 'utf8');
  return sealRecordFrame(target, offset, textEnd, position, revision, hash, endsAppend);
};

/** The binary head, the length and the checksum of a frame whose names and JSON end at `end`. */
const sealFrame = (
  target: Buffer,
  offset: number,
  end: number,
  position: number,
  revision: number,
  streamBytes: number,
  idBytes: number,
  endsAppend: boolean,
): number => {
  const bodyStart = offset + FRAME_HEADER_BYTES;
  target.writeDoubleLE(position, bodyStart);
  target.writeUInt32LE(revision, bodyStart + 8);
  target.writeUInt16LE(streamBytes, bodyStart + 12);
  target.writeUInt16LE(idBytes, bodyStart + 14);
  target.writeUInt32LE(endsAppend ? ENDS_APPEND : 0, bodyStart + 16);
  target.writeUInt32LE(end - bodyStart, offset + 4);
  // Over a plain view of the bytes: Buffer#subarray builds a Buffer (its constructor chain) for each frame.
  target.writeUInt32LE(
    crc32(new Uint8Array(target.buffer, target.byteOffset + offset + 4, end - offset - 4)),
    offset,
  );
  return end;
};

/** The body length a frame header states (not yet checked). */
export const frameBodyLength = (buffer: Buffer, offset: number): number => buffer.readUInt32LE(offset + 4);

export type FrameCheck =
  /** A whole frame that checks out; `end` is the offset just after it. */
  | { readonly kind: 'ok'; readonly end: number }
  /** The buffer ends before the frame does (`needed` bytes from the frame's start would hold it). */
  | { readonly kind: 'incomplete'; readonly needed: number }
  | { readonly kind: 'damaged'; readonly reason: string };

/** Checks the frame that starts at `offset`, looking at bytes up to `end` of `buffer`. */
export const checkFrame = (buffer: Buffer, offset: number, end: number): FrameCheck => {
  if (end - offset < FRAME_HEADER_BYTES) return { kind: 'incomplete', needed: FRAME_HEADER_BYTES };
  const bodyLength = buffer.readUInt32LE(offset + 4);
  if (bodyLength < BODY_HEAD_BYTES || bodyLength > MAX_BODY_BYTES)
    return { kind: 'damaged', reason: `implausible record length ${bodyLength}` };
  const frameEnd = offset + FRAME_HEADER_BYTES + bodyLength;
  if (frameEnd > end) return { kind: 'incomplete', needed: FRAME_HEADER_BYTES + bodyLength };
  if (crc32(buffer.subarray(offset + 4, frameEnd)) !== buffer.readUInt32LE(offset))
    return { kind: 'damaged', reason: 'checksum mismatch' };
  const bodyStart = offset + FRAME_HEADER_BYTES;
  const namesEnd =
    bodyStart + BODY_HEAD_BYTES + buffer.readUInt16LE(bodyStart + 12) + buffer.readUInt16LE(bodyStart + 14);
  if (namesEnd > frameEnd) return { kind: 'damaged', reason: 'stream and id overrun the record' };
  return { kind: 'ok', end: frameEnd };
};

/** The binary head of a frame (call only on a frame that checked out, or for a best-effort guess). */
export const frameHead = (
  buffer: Buffer,
  offset: number,
): { position: number; revision: number; stream: string; id: string; jsonStart: number; end: number } => {
  const bodyLength = buffer.readUInt32LE(offset + 4);
  const bodyStart = offset + FRAME_HEADER_BYTES;
  const streamStart = bodyStart + BODY_HEAD_BYTES;
  const idStart = streamStart + buffer.readUInt16LE(bodyStart + 12);
  const jsonStart = idStart + buffer.readUInt16LE(bodyStart + 14);
  return {
    position: buffer.readDoubleLE(bodyStart),
    revision: buffer.readUInt32LE(bodyStart + 8),
    stream: buffer.toString('utf8', streamStart, idStart),
    id: buffer.toString('utf8', idStart, jsonStart),
    jsonStart,
    end: bodyStart + bodyLength,
  };
};

/** The stream a checked frame's head names. */
export const frameStream = (buffer: Buffer, offset: number): string => {
  const streamStart = offset + FRAME_HEADER_BYTES + BODY_HEAD_BYTES;
  return buffer.toString(
    'utf8',
    streamStart,
    streamStart + buffer.readUInt16LE(offset + FRAME_HEADER_BYTES + 12),
  );
};

/** The id bytes of a checked frame, for the id index (no string is made). */
export const frameIdBytes = (buffer: Buffer, offset: number): Buffer => {
  const bodyStart = offset + FRAME_HEADER_BYTES;
  const idStart = bodyStart + BODY_HEAD_BYTES + buffer.readUInt16LE(bodyStart + 12);
  return buffer.subarray(idStart, idStart + buffer.readUInt16LE(bodyStart + 14));
};

/** The JSON text of a checked frame that ends at `frameEnd`. */
export const frameJson = (buffer: Buffer, offset: number, frameEnd: number): string => {
  const bodyStart = offset + FRAME_HEADER_BYTES;
  const jsonStart =
    bodyStart + BODY_HEAD_BYTES + buffer.readUInt16LE(bodyStart + 12) + buffer.readUInt16LE(bodyStart + 14);
  return buffer.toString('utf8', jsonStart, frameEnd);
};

/** Whether a frame is the last of its append. */
export const frameEndsAppend = (buffer: Buffer, offset: number): boolean =>
  (buffer.readUInt32LE(offset + FRAME_HEADER_BYTES + 16) & ENDS_APPEND) !== 0;

/** The position a frame's head states. */
export const framePosition = (buffer: Buffer, offset: number): number =>
  buffer.readDoubleLE(offset + FRAME_HEADER_BYTES);

/** The fingerprint of an event id in the id index: CRC-32 of its UTF-8 bytes. */
export const idFingerprint = (id: string | Buffer): number =>
  typeof id === 'string' ? crc32OfText(id) : crc32(id);
