import { createRecentRecords } from './recent-records';

/** A record of about `size` bytes of JSON for `position`, with non-ASCII text in it. */
const record = (position: number, size: number): Buffer =>
  Buffer.from(
    JSON.stringify({ position, id: `e-${position}`, note: 'é'.padEnd(Math.max(1, size - 40), 'x') }),
  );

describe('the recent records ring', () => {
  it('gives back each kept record as it was written, and nothing for positions it never kept', () => {
    const ring = createRecentRecords(8, 4096);
    for (let position = 0; position < 5; position++) {
      const bytes = Buffer.concat([Buffer.from('junk'), record(position, 100), Buffer.from('more')]);
      ring.remember(position, bytes, 4, bytes.length - 4);
    }
    for (let position = 0; position < 5; position++)
      expect(ring.get(position)).toEqual(JSON.parse(record(position, 100).toString('utf8')));
    expect(ring.get(5)).toBeUndefined();
    expect(ring.has(5)).toBe(false);
  });

  it('forgets a record whose slot was taken by a later position', () => {
    const ring = createRecentRecords(4, 4096);
    for (let position = 0; position < 6; position++) {
      const bytes = record(position, 50);
      ring.remember(position, bytes, 0, bytes.length);
    }
    expect(ring.has(1)).toBe(false);
    expect(ring.get(1)).toBeUndefined();
    expect(ring.get(5)).toEqual(JSON.parse(record(5, 50).toString('utf8')));
  });

  it('never serves a record whose bytes were written over, though its slot still names it', () => {
    // 64 slots but room for about 10 records of 400 bytes: the slots outlive the bytes.
    const ring = createRecentRecords(64, 4096);
    for (let position = 0; position < 30; position++) {
      const bytes = record(position, 400);
      ring.remember(position, bytes, 0, bytes.length);
    }
    for (let position = 0; position < 30; position++) {
      const kept = ring.get(position);
      if (kept !== undefined) expect(kept).toEqual(JSON.parse(record(position, 400).toString('utf8')));
    }
    expect(ring.get(29)).toBeDefined();
    expect(ring.get(0)).toBeUndefined();
    expect(ring.has(15)).toBe(false);
  });

  it('does not keep a record larger than a quarter of the ring, nor serve the one its slot held before', () => {
    const ring = createRecentRecords(4, 4096);
    const small = record(0, 100);
    ring.remember(0, small, 0, small.length);
    const large = record(4, 2000);
    ring.remember(4, large, 0, large.length);
    expect(ring.get(4)).toBeUndefined();
    expect(ring.get(0)).toBeUndefined();
  });
});
