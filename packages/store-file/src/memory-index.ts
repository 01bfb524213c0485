/**
 * The in-memory part of the index, rebuilt from the segments on every open (and cross-checked against
 * index/positions.idx). Compact typed arrays, 25 to 40 bytes per event for a writer, so that a ledger of
 * millions of events opens without millions of objects.
 */

const CHUNK = 1 << 16;

/** A growable list of unsigned 32-bit integers in fixed chunks (no copying as it grows). */
export interface Uint32List {
  readonly length: number;
  push(value: number): void;
  get(index: number): number;
  truncate(length: number): void;
}

export const createUint32List = (): Uint32List => {
  const chunks: Uint32Array[] = [];
  let length = 0;
  return {
    get length() {
      return length;
    },
    push(value) {
      const chunk = length >>> 16;
      if (chunk === chunks.length) chunks.push(new Uint32Array(CHUNK));
      chunks[chunk]![length & (CHUNK - 1)] = value;
      length++;
    },
    get(index) {
      return chunks[index >>> 16]![index & (CHUNK - 1)]!;
    },
    truncate(newLength) {
      length = Math.min(length, newLength);
      chunks.length = Math.ceil(length / CHUNK);
    },
  };
};

/**
 * Event id -> positions, by a 32-bit fingerprint of the id: open addressing over two Int32Arrays. A lookup
 * returns the positions whose fingerprint matches; the caller reads those events to compare the ids (a
 * false match is rare, about one in 4 billion per stored event).
 */
export interface IdTable {
  readonly size: number;
  add(fingerprint: number, position: number): void;
  candidates(fingerprint: number): number[];
  /** Whether any position has this fingerprint (no array is made: the common answer on append is no). */
  hasCandidate(fingerprint: number): boolean;
}

const mix = (fingerprint: number): number => Math.imul(fingerprint ^ (fingerprint >>> 15), 0x2c1b3c6d) >>> 0;

export const createIdTable = (initialCapacity = 1 << 12): IdTable => {
  let capacity = initialCapacity;
  let fingerprints = new Int32Array(capacity);
  let positions = new Int32Array(capacity); // position + 1; 0 marks a free slot
  let size = 0;
  const insert = (fingerprint: number, storedPosition: number): void => {
    const mask = capacity - 1;
    let slot = mix(fingerprint) & mask;
    while (positions[slot] !== 0) slot = (slot + 1) & mask;
    fingerprints[slot] = fingerprint;
    positions[slot] = storedPosition;
  };
  return {
    get size() {
      return size;
    },
    add(fingerprint, position) {
      if ((size + 1) * 2 > capacity) {
        const oldFingerprints = fingerprints;
        const oldPositions = positions;
        capacity *= 2;
        fingerprints = new Int32Array(capacity);
        positions = new Int32Array(capacity);
        for (let i = 0; i < oldPositions.length; i++)
          if (oldPositions[i] !== 0) insert(oldFingerprints[i]!, oldPositions[i]!);
      }
      insert(fingerprint | 0, position + 1);
      size++;
    },
    hasCandidate(fingerprint) {
      const wanted = fingerprint | 0;
      const mask = capacity - 1;
      for (let slot = mix(wanted) & mask; positions[slot] !== 0; slot = (slot + 1) & mask)
        if (fingerprints[slot] === wanted) return true;
      return false;
    },
    candidates(fingerprint) {
      const wanted = fingerprint | 0;
      const mask = capacity - 1;
      const found: number[] = [];
      for (let slot = mix(wanted) & mask; positions[slot] !== 0; slot = (slot + 1) & mask)
        if (fingerprints[slot] === wanted) found.push(positions[slot]! - 1);
      return found;
    },
  };
};
