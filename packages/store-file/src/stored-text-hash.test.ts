import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS_DIGEST, computeEventHash, hashEvent, nextDigest } from '@partner-ledger/events';
import type { RecordedEvent } from '@partner-ledger/events';
import { STORED_TEXT_HASH, computeDigest, verifyStore } from '@partner-ledger/store';
import type { ChainLink, EventStore } from '@partner-ledger/store';
import * as fc from 'fast-check';
import { crc32 } from './crc';
import { verifyFileStore } from './verify';
import { openFileStore } from './store';
import type { FileEventStore } from './store';
import { adjustment, at } from './testing/adjustment';
import { rewriteLedger } from './testing/rewrite';

/**
 * verifyStore on the file store hashes each record's stored bytes (the canonical text the event's hash
 * covers) instead of serialising the parsed event again: these tests hold that shortcut to the verdicts and
 * digests of hashing every event from its content.
 */

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};
const flat = async <T>(pages: AsyncIterable<readonly T[]>): Promise<T[]> => (await collect(pages)).flat();

/** The digest of hashing every event from its content: what verify computed before the shortcut. */
const contentDigest = (events: readonly RecordedEvent[]): string =>
  events.reduce((digest, event) => nextDigest(digest, computeEventHash(event)), GENESIS_DIGEST);

/** The record as the store writes it: the hashed canonical text, then the hash and the position. */
const canonicalRecord = (event: RecordedEvent): string =>
  `${hashEvent(event).canonicalText.slice(0, -1)},"hash":"${event.hash}","position":${event.position}}`;

const storedTextHash = (event: RecordedEvent | ChainLink): string | undefined =>
  (event as { [STORED_TEXT_HASH]?: string })[STORED_TEXT_HASH];

let directory: string;
let store: FileEventStore | undefined;
beforeEach(async () => {
  directory = await fs.mkdtemp(join(tmpdir(), 'pl-stored-text-'));
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  await fs.rm(directory, { recursive: true, force: true });
});

const written = async (count: number): Promise<RecordedEvent[]> => {
  const writer = await openFileStore({ directory });
  const events: RecordedEvent[] = [];
  for (let n = 0; n < count; n++)
    events.push(...(await writer.append(n % 2 === 0 ? 'a' : 'b', [adjustment(n)])).events);
  await writer.close();
  return events;
};
const reopened = async (): Promise<FileEventStore> => {
  store = await openFileStore({ directory, readOnly: true });
  return store;
};

describe("verify hashes the file store's stored bytes", () => {
  it('every intact record is hashed from its bytes, to its stored hash; plain readAll carries nothing', async () => {
    const events = await written(12);
    const reader = await reopened();
    const verified = await flat(reader.readAllForVerify());
    expect(verified.map(storedTextHash)).toEqual(events.map((e) => e.hash));
    // Intact records come as their chain links, read from the bytes without parsing them.
    expect(verified).toEqual(
      events.map(({ position, id, stream, revision, prevHash, hash }) => ({
        position,
        id,
        stream,
        revision,
        prevHash,
        hash,
        [STORED_TEXT_HASH]: hash,
      })),
    );
    expect((await collect(reader.readAll())).map(storedTextHash)).toEqual(events.map(() => undefined));
    expect(await collect(reader.readAll())).toEqual(events);
  });

  it('gives the digest of hashing every event from its content, whole and up to each position', async () => {
    const events = await written(12);
    const reader = await reopened();
    expect(await verifyStore(reader)).toMatchObject({
      ok: true,
      eventsChecked: 12,
      digest: contentDigest(events),
    });
    for (const upTo of [0, 5, 11])
      expect((await computeDigest(reader, { upToPosition: upTo })).digest).toBe(
        contentDigest(events.slice(0, upTo + 1)),
      );
  });

  it('a record changed in place (checksum recomputed) is hashed from its content and named', async () => {
    const events = await written(8);
    await rewriteLedger(
      directory,
      (all) => all.map((e, i) => (i === 5 ? { ...e, data: { ...(e.data as object), amount: '999.00' } } : e)),
      canonicalRecord,
    );
    const reader = await reopened();
    const marks = (await flat(reader.readAllForVerify())).map(storedTextHash);
    expect(marks[5]).toBeUndefined();
    expect(marks.filter((m) => m !== undefined)).toHaveLength(7);
    const report = await verifyStore(reader);
    expect(report).toMatchObject({ ok: false, eventsChecked: 5, digest: contentDigest(events.slice(0, 5)) });
    if (report.ok) throw new Error('unreachable');
    expect(report.firstProblem).toMatchObject({ position: 5, eventId: 'e-5', kind: 'hash-mismatch' });
  });

  it('a record holding more than its hashed text (a second "data" after the hash) is hashed from its content', async () => {
    await written(4);
    const forged = (event: RecordedEvent): string =>
      event.position === 2
        ? `${canonicalRecord(event).slice(0, -1)},"data":{"amount":"1000000.00"}}`
        : canonicalRecord(event);
    await rewriteLedger(directory, (all) => all, forged);
    const reader = await reopened();
    const read = await flat(reader.readAllForVerify());
    expect((read[2] as RecordedEvent).data).toEqual({ amount: '1000000.00' }); // what a reader of the record sees
    expect(storedTextHash(read[2]!)).toBeUndefined();
    const report = await verifyStore(reader);
    if (report.ok) throw new Error('verify missed the forged data');
    expect(report.firstProblem).toMatchObject({ position: 2, kind: 'hash-mismatch' });
  });

  it('records not in canonical form (same content) are hashed from their content: same verdict, same digest', async () => {
    const events = await written(6);
    // The type first: the same content, the keys out of canonical order, the hash and position still last.
    await rewriteLedger(
      directory,
      (all) => all,
      ({ type, ...rest }) => JSON.stringify({ type, ...rest }),
    );
    const reader = await reopened();
    expect((await flat(reader.readAllForVerify())).map(storedTextHash)).toEqual(events.map(() => undefined));
    expect(await verifyStore(reader)).toMatchObject({
      ok: true,
      eventsChecked: 6,
      digest: contentDigest(events),
    });
  });

  it('reading for verify leaves the bytes as they were (the brace stands in for the comma only while hashing)', async () => {
    await written(10);
    const reader = await reopened();
    const first = await flat(reader.readAllForVerify({ pageSize: 3 }));
    const again = await flat(reader.readAllForVerify());
    expect(again).toEqual(first);
    expect(again.map(storedTextHash)).toEqual(first.map(storedTextHash));
    expect((await verifyStore(reader, { pageSize: 2 })).ok).toBe(true);
  });
});

describe('readAll a page at a time', () => {
  it('gives the events of readAll, in order, in non-empty pages, for every option', async () => {
    const events = await written(23);
    const reader = await reopened();
    const cases = [
      {},
      { pageSize: 4 },
      { fromPosition: 7 },
      { fromPosition: 30 },
      { asKnownAt: { position: 11 } },
      { asKnownAt: { recordedAt: at(9) }, pageSize: 5 },
      { fromPosition: 3, asKnownAt: { position: 15, recordedAt: at(12) } },
    ];
    for (const options of cases) {
      const pages = await collect(reader.readAllPages(options));
      expect(pages.every((page) => page.length > 0)).toBe(true);
      expect(pages.flat()).toEqual(await collect(reader.readAll(options)));
    }
    expect((await flat(reader.readAllPages())).map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('checks its options as readAll does', async () => {
    await written(2);
    const reader = await reopened();
    await expect(collect(reader.readAllPages({ pageSize: 0 }))).rejects.toThrow(/pageSize/);
    await expect(collect(reader.readAllPages({ fromPosition: -1 }))).rejects.toThrow(/fromPosition/);
  });
});

describe('verify reports any change to a record', () => {
  const segment = (): string => join(directory, 'segments', 'segment-00000000.log');
  /** The records of a segment: where each starts, where its JSON starts, where it ends. */
  const recordsOf = (bytes: Buffer): { start: number; jsonStart: number; end: number }[] => {
    const records: { start: number; jsonStart: number; end: number }[] = [];
    for (let start = 32; start < bytes.length;) {
      const end = start + 8 + bytes.readUInt32LE(start + 4);
      const jsonStart = start + 28 + bytes.readUInt16LE(start + 20) + bytes.readUInt16LE(start + 22);
      records.push({ start, jsonStart, end });
      start = end;
    }
    return records;
  };
  /** What a verify concluded, or that it threw. */
  const verdictOf = async (run: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await run();
    } catch (error) {
      return { threw: (error as Error).name };
    }
  };
  /** verifyStore hashing every event from its parsed content (a store offering readAll only). */
  const byContent = async () => {
    const reader = await openFileStore({ directory, readOnly: true, tolerateDamage: true });
    try {
      return await verdictOf(() => verifyStore({ readAll: reader.readAll.bind(reader) } as EventStore));
    } finally {
      await reader.close();
    }
  };

  it('any byte of any record changed by a tamperer (checksum recomputed): the verdict of parsing and hashing every event', async () => {
    await written(6);
    const pristine = await fs.readFile(segment());
    const records = recordsOf(pristine);
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (which, where, mask) => {
        const bytes = Buffer.from(pristine);
        const { start, jsonStart, end } = records[which % records.length]!;
        bytes[jsonStart + (where % (end - jsonStart))]! ^= mask;
        bytes.writeUInt32LE(crc32(bytes.subarray(start + 4, end)), start);
        await fs.writeFile(segment(), bytes);
        const fast = await verdictOf(async () => {
          const report = await verifyFileStore({ directory });
          if (report.chains !== null) return report.chains;
          // A record that no longer parses: a read throws StoreCorruptionError, which verify reports as
          // damage at that record's position.
          expect(report).toMatchObject({ ok: false, firstProblem: { position: which % records.length } });
          return { threw: 'StoreCorruptionError' };
        });
        expect(fast).toEqual(await byContent());
      }),
      { numRuns: 60 },
    );
  });

  it('any byte of any record damaged, or the segment cut short anywhere in its records: verify is not ok', async () => {
    await written(6);
    const pristine = await fs.readFile(segment());
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: pristine.length - 33 }),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        async (at, mask, cut) => {
          const bytes = Buffer.from(pristine);
          if (!cut) bytes[32 + at]! ^= mask;
          await fs.writeFile(segment(), cut ? bytes.subarray(0, 32 + at) : bytes);
          const report = await verifyFileStore({ directory });
          expect(report.ok).toBe(false);
          expect(report.firstProblem).not.toBeNull();
        },
      ),
      { numRuns: 80 },
    );
  });
});
