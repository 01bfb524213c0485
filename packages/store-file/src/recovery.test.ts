import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import { positionsIndexFile, SEGMENT_HEADER_BYTES, SEGMENTS_DIR, segmentName } from './layout';
import { openFileStore } from './store';
import type { FileEventStore } from './store';
import { verifyFileStore } from './verify';
import { rewriteLedger } from './testing/rewrite';
import { StoreCorruptionError } from '@partner-ledger/store';

// Recovery reports every byte it drops, and damage at the end of a segment that is not the last is named at
// its record, not at the start of the next segment.

const adjustment = (id: string, n: number): NewEvent => ({
  id,
  type: 'ManualAdjustmentRecorded',
  schemaVersion: 1,
  data: {
    adjustmentId: id,
    partnerId: `partner-${n % 3}`,
    amount: `${100 + n}.00`,
    currency: 'USD',
    reason: 'goodwill',
  },
  occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  recordedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  actor: 'user:auditor@vendor.example',
  correlationId: `corr-${n}`,
  causationId: null,
});

let directory: string;
const segmentFile = (n: number) => join(directory, SEGMENTS_DIR, segmentName(n));
beforeEach(async () => {
  directory = await fs.mkdtemp(join(tmpdir(), 'pl-recovery-'));
});
afterEach(async () => fs.rm(directory, { recursive: true, force: true }));

const fill = async (store: FileEventStore, count: number): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for (let n = 0; n < count; n++)
    events.push(...(await store.append(n % 2 === 0 ? 'a' : 'b', [adjustment(`e-${n}`, n)])).events);
  return events;
};

const recordOffsets = async (): Promise<{ segment: number; offset: number }[]> => {
  const bytes = await fs.readFile(positionsIndexFile(directory));
  return Array.from({ length: bytes.length / 8 }, (_, i) => ({
    segment: bytes.readUInt32LE(i * 8),
    offset: bytes.readUInt32LE(i * 8 + 4),
  }));
};

describe('recovery reports what it drops', () => {
  it('100 KB of garbage after the last record: the open says what was cut, where and how many bytes, every time', async () => {
    const store = await openFileStore({ directory });
    const kept = await fill(store, 5);
    await store.close();
    const end = (await fs.stat(segmentFile(0))).size;
    await fs.appendFile(segmentFile(0), Buffer.alloc(100 * 1024, 0x41));
    for (let i = 0; i < 2; i++) {
      const reader = await openFileStore({ directory, readOnly: true });
      expect(reader.openReport.tornTail).toEqual({
        file: segmentFile(0),
        offset: end,
        bytesDropped: 100 * 1024,
        reason: expect.stringContaining(`the record at offset ${end} (position 5)`),
        truncated: false,
      });
      await reader.close();
    }
    const writer = await openFileStore({ directory });
    expect(writer.openReport.tornTail).toMatchObject({
      offset: end,
      bytesDropped: 100 * 1024,
      truncated: true,
    });
    const read: RecordedEvent[] = [];
    for await (const e of writer.readAll()) read.push(e);
    expect(read).toEqual(kept);
    await writer.close();
    expect((await fs.stat(segmentFile(0))).size).toBe(end);
  });
});

describe('damage in the last record of a segment that is not the last', () => {
  it('verify names the damaged record (position, event, file, offset), not the next segment', async () => {
    const store = await openFileStore({ directory, segmentBytes: 4096 });
    const events = await fill(store, 60);
    await store.close();
    const offsets = await recordOffsets();
    const position = offsets.findIndex((entry, i) => entry.segment === 0 && offsets[i + 1]?.segment === 1);
    expect(position).toBeGreaterThan(0);
    const bytes = await fs.readFile(segmentFile(0));
    const amountAt = bytes.indexOf(`"amount":"${100 + position}.00"`, offsets[position]!.offset) + 10;
    bytes[amountAt]! ^= 0x08;
    await fs.writeFile(segmentFile(0), bytes);

    const report = await verifyFileStore({ directory });
    expect(report.ok).toBe(false);
    expect(report.firstProblem).toMatchObject({
      position,
      eventId: events[position]!.id,
      file: segmentFile(0),
      offset: offsets[position]!.offset,
    });
    // Only the damage of that record: the next segment follows on.
    expect(report.damage.map((d) => d.position)).toEqual([position]);
  });

  it('a damaged record in mid-segment is named at its own offset, apart from the next good one', async () => {
    const store = await openFileStore({ directory });
    await fill(store, 5);
    await store.close();
    const offsets = await recordOffsets();
    const bytes = await fs.readFile(segmentFile(0));
    bytes[bytes.indexOf('"amount":"102.00"', offsets[2]!.offset) + 10]! ^= 0x08;
    await fs.writeFile(segmentFile(0), bytes);

    const report = await verifyFileStore({ directory });
    // The message used to end "...the next good record is at offset B (FILE at offset A)", which reads as if
    // the next good record were at A: the damaged record's own offset comes first, by its position.
    expect(report.firstProblem?.message).toContain(
      `in the record of position 2 at offset ${offsets[2]!.offset} (event e-2?); the next good record is at offset ${offsets[3]!.offset}`,
    );
  });

  it('a record cut inside its id is not given an id read from the bytes past the cut', async () => {
    const store = await openFileStore({ directory, segmentBytes: 4096 });
    const events = await fill(store, 60);
    await store.close();
    const offsets = await recordOffsets();
    const position = offsets.findIndex((entry, i) => entry.segment === 0 && offsets[i + 1]?.segment === 1);
    const bytes = await fs.readFile(segmentFile(0));
    const idAt = bytes.indexOf(events[position]!.id, offsets[position]!.offset);
    expect(idAt).toBeGreaterThan(offsets[position]!.offset);
    await fs.truncate(segmentFile(0), idAt + 1);

    const report = await verifyFileStore({ directory });
    expect(report.ok).toBe(false);
    expect(report.firstProblem).toMatchObject({ position, eventId: null, file: segmentFile(0) });
    expect(report.firstProblem?.message).not.toContain('(event ');
  });
});

describe('a record whose checksum holds but whose JSON does not', () => {
  // Someone who edits a record and recomputes its CRC-32 (anyone can) leaves a frame that checks out and a
  // JSON text that does not parse. Reading it used to throw JSON.parse's bare SyntaxError ("Expected
  // double-quoted property name in JSON at position 60"), naming no record, file or offset, and verify exited
  // as if the store could not be opened at all.
  const forgeUnparsable = async (position: number) =>
    rewriteLedger(
      directory,
      (events) => events,
      (event) => {
        const json = JSON.stringify(event);
        return event.position === position ? json.replace('{"', '{') : json;
      },
    );

  it('a read names the position, the event, the file and the offset', async () => {
    const store = await openFileStore({ directory });
    const events = await fill(store, 5);
    await store.close();
    await forgeUnparsable(2);
    // The rewrite removed the index: the records' offsets from the frames' lengths.
    const bytes = await fs.readFile(segmentFile(0));
    const offsets: { offset: number }[] = [];
    for (let at = SEGMENT_HEADER_BYTES; at < bytes.length; at += 8 + bytes.readUInt32LE(at + 4))
      offsets.push({ offset: at });

    const reader = await openFileStore({ directory, readOnly: true });
    try {
      const failureOf = async (events: AsyncIterable<RecordedEvent>): Promise<unknown> => {
        try {
          for await (const event of events) void event;
        } catch (error) {
          return error;
        }
        return undefined;
      };
      // The replay path (a page at a time) and the path that reads records one by one (a stream).
      for (const error of [await failureOf(reader.readAll()), await failureOf(reader.readStream('a'))]) {
        expect(error).toBeInstanceOf(StoreCorruptionError);
        expect(error).toMatchObject({ position: 2, file: segmentFile(0), offset: offsets[2]!.offset });
        expect((error as Error).message).toContain(
          `the record of position 2 (event ${events[2]!.id}?) is not JSON`,
        );
      }
    } finally {
      await reader.close();
    }
  });

  it('verify names it as damage at its position', async () => {
    const store = await openFileStore({ directory });
    const events = await fill(store, 5);
    await store.close();
    await forgeUnparsable(3);

    const report = await verifyFileStore({ directory });
    expect(report.ok).toBe(false);
    expect(report.firstProblem).toMatchObject({ position: 3, file: segmentFile(0) });
    expect(report.firstProblem?.message).toContain(`(event ${events[3]!.id}?) is not JSON`);
  });
});
