import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import { StoreCorruptionError, WrongExpectedRevisionError, verifyStore } from '@partner-ledger/store';
import { ReadOnlyStoreError, StoreFailedError, StoreLockedError } from './errors';
import { positionsIndexFile, SEGMENTS_DIR, segmentName } from './layout';
import { openFileStore } from './store';
import type { CommitInfo, FileEventStore, FileStoreOptions } from './store';
import { rewriteLedger } from './testing/rewrite';
import { verifyFileStore } from './verify';

const at = (seconds: number): string => new Date(Date.UTC(2026, 0, 1) + seconds * 1000).toISOString();

/** A ledger event with money in it, the kind of fact an auditor cares about. */
const adjustment = (id: string, n: number, amount = `${100 + n}.00`): NewEvent => ({
  id,
  type: 'ManualAdjustmentRecorded',
  schemaVersion: 1,
  data: { adjustmentId: id, partnerId: `partner-${n % 3}`, amount, currency: 'USD', reason: 'goodwill' },
  occurredAt: at(n),
  recordedAt: at(n),
  actor: 'user:auditor@vendor.example',
  correlationId: `corr-${n}`,
  causationId: null,
});

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

let directory: string;
const open = (options: FileStoreOptions = {}) => openFileStore({ directory, ...options });
const segmentFile = (n: number) => join(directory, SEGMENTS_DIR, segmentName(n));
const opened: FileEventStore[] = [];
/** Opens a store that the test's cleanup closes. */
const track = async (promise: Promise<FileEventStore>) => {
  const store = await promise;
  opened.push(store);
  return store;
};
const expectCorruption = async (promise: Promise<unknown>): Promise<StoreCorruptionError> => {
  const error: unknown = await promise.then(
    (value) => value,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreCorruptionError);
  return error as StoreCorruptionError;
};

/** Appends `count` events, one append each, to streams a and b in turn; returns them as stored. */
const fill = async (store: FileEventStore, count: number, first = 0): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for (let n = first; n < first + count; n++)
    events.push(...(await store.append(n % 2 === 0 ? 'a' : 'b', [adjustment(`e-${n}`, n)])).events);
  return events;
};

/** Offsets of every record, from the position index (entries: u32 segment, u32 offset). */
const recordOffsets = async (): Promise<{ segment: number; offset: number }[]> => {
  const bytes = await fs.readFile(positionsIndexFile(directory));
  return Array.from({ length: bytes.length / 8 }, (_, i) => ({
    segment: bytes.readUInt32LE(i * 8),
    offset: bytes.readUInt32LE(i * 8 + 4),
  }));
};

beforeEach(async () => {
  directory = await fs.mkdtemp(join(tmpdir(), 'pl-file-'));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  await fs.rm(directory, { recursive: true, force: true });
});

describe('the ledger directory', () => {
  it('is created on first open, survives reopening, and rolls segments at the configured size', async () => {
    const store = await open({ segmentBytes: 4096 });
    const written = await fill(store, 60);
    await store.close();
    const names = await fs.readdir(join(directory, SEGMENTS_DIR));
    expect(names.length).toBeGreaterThan(3);
    expect(names).toContain(segmentName(0));
    const again = await track(open({ segmentBytes: 4096 }));
    expect(again.openReport).toMatchObject({
      events: 60,
      segments: names.length,
      tornTail: null,
      damage: [],
    });
    expect(await collect(again.readAll())).toEqual(written);
    expect(await collect(again.readAll({ fromPosition: 37 }))).toEqual(written.slice(37));
    expect(await collect(again.readStream('b', { direction: 'backwards' }))).toEqual(
      written.filter((e) => e.stream === 'b').reverse(),
    );
    expect((await verifyStore(again)).ok).toBe(true);
  });

  it('rebuilds a missing position index from the segments', async () => {
    const store = await open();
    const written = await fill(store, 10);
    await store.close();
    await fs.rm(positionsIndexFile(directory));
    const again = await track(open());
    expect(again.openReport.indexEntriesWritten).toBe(10);
    expect(await collect(again.readAll())).toEqual(written);
    expect((await fs.stat(positionsIndexFile(directory))).size).toBe(10 * 8);
  });

  it('readAll streams a ledger larger than its read buffer, and records larger than the buffer', async () => {
    const store = await track(open({ readChunkBytes: 4096 }));
    const big: NewEvent = { ...adjustment('big', 5), data: { blob: 'x'.repeat(20_000) } };
    const first = await fill(store, 30);
    const middle = await store.append('c', [big]);
    const last = await fill(store, 30, 30);
    expect(await collect(store.readAll())).toEqual([...first, ...middle.events, ...last]);
    expect(await collect(store.readStream('c'))).toEqual(middle.events);
  });
  it('a chunk read serves several pages: every event in order, and damage deep in a chunk is reported at its record', async () => {
    const store = await open();
    const written: RecordedEvent[] = [];
    for (let first = 0; first < 700; first += 100) {
      const events = Array.from({ length: 100 }, (_, i) => adjustment(`e-${first + i}`, first + i));
      written.push(...(await store.append(`s-${first}`, events)).events);
    }
    await store.close();
    const reader = await track(open({ readOnly: true }));
    expect(await collect(reader.readAll())).toEqual(written);
    expect((await collect(reader.readAllPages())).flat()).toEqual(written);
    expect(await collect(reader.readAll({ fromPosition: 300, asKnownAt: { position: 650 } }))).toEqual(
      written.slice(300, 651),
    );
    // Damage after the open (which checked every record): the read stops at the damaged record, naming it,
    // after delivering exactly the events before it.
    const record = (await recordOffsets())[600]!.offset;
    const bytes = await fs.readFile(segmentFile(0));
    bytes[record + 60]! ^= 0x01;
    await fs.writeFile(segmentFile(0), bytes);
    const seen: number[] = [];
    const error = await expectCorruption(
      (async () => {
        for await (const event of reader.readAll()) seen.push(event.position);
      })(),
    );
    expect(error).toMatchObject({ file: segmentFile(0), offset: record });
    expect(seen).toEqual(written.slice(0, 600).map((event) => event.position));
  });
});

describe('opening', () => {
  it('refuses a directory given as a string, or anything but an options object, instead of opening the default ledger', async () => {
    const cwd = process.cwd();
    process.chdir(directory);
    try {
      for (const wrong of ['some-dir', null, 42, ['some-dir']]) {
        const refused = openFileStore(wrong as unknown as FileStoreOptions);
        await expect(refused).rejects.toThrow(TypeError);
        await expect(refused).rejects.toThrow(/an options object such as \{ directory: /);
      }
      await expect(openFileStore('some-dir' as unknown as FileStoreOptions)).rejects.toThrow(
        'got the string "some-dir"',
      );
      // Nothing was opened: neither the default ledger nor one named by the string.
      expect(await fs.readdir(directory)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('one writer process, many readers', () => {
  it('refuses a second writer, naming the holder (pid, host, since)', async () => {
    const clock = () => new Date('2026-03-01T10:00:00.000Z');
    await track(open({ clock }));
    const error: unknown = await open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreLockedError);
    expect(error).toMatchObject({
      code: 'STORE_LOCKED',
      holder: { pid: process.pid, hostname: hostname(), since: '2026-03-01T10:00:00.000Z' },
    });
    expect((error as Error).message).toContain(`pid ${process.pid}`);
    expect((error as Error).message).toContain('2026-03-01T10:00:00.000Z');
  });

  it('refuses a writer while another live process holds the lock', async () => {
    await fs.mkdir(directory, { recursive: true });
    const holder = { pid: process.ppid, hostname: hostname(), since: '2026-01-01T00:00:00.000Z' };
    await fs.writeFile(join(directory, 'LOCK'), JSON.stringify(holder));
    await expect(open()).rejects.toMatchObject({ code: 'STORE_LOCKED', holder });
  });

  it('takes over a stale lock left by a process that is gone', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await fs.mkdir(directory, { recursive: true });
    await fs.writeFile(
      join(directory, 'LOCK'),
      JSON.stringify({ pid: gone, hostname: hostname(), since: '2026-01-01T00:00:00.000Z' }),
    );
    const store = await track(open());
    await store.append('s', [adjustment('s-0', 0)]);
    expect(JSON.parse(await fs.readFile(join(directory, 'LOCK'), 'utf8'))).toMatchObject({
      pid: process.pid,
    });
  });

  it('releases the lock on close, so the next writer can open', async () => {
    const first = await open();
    await first.close();
    await expect(fs.stat(join(directory, 'LOCK'))).rejects.toMatchObject({ code: 'ENOENT' });
    await track(open());
  });

  it('read-only opens work while the writer runs, see what is committed, and cannot write', async () => {
    const writer = await track(open());
    const committed = await fill(writer, 5);
    const reader = await track(open({ readOnly: true }));
    expect(reader.openReport).toMatchObject({ readOnly: true, events: 5 });
    expect(await collect(reader.readAll())).toEqual(committed);
    await expect(reader.append('s', [adjustment('x', 9)])).rejects.toBeInstanceOf(ReadOnlyStoreError);
    // The writer goes on; a new reader sees the new events.
    const more = await fill(writer, 3, 5);
    const later = await track(open({ readOnly: true }));
    expect(await collect(later.readAll())).toEqual([...committed, ...more]);
  });
});

describe('recovery: a torn tail', () => {
  /**
   * Four events, then `lastAppend`, whose bytes are then cut at each of `cutsWithin(size of the append)`
   * (offsets from its start): each cut must recover to the four events, report exactly the bytes it drops,
   * and leave a ledger that goes on from there.
   */
  const tear = async (lastAppend: NewEvent[], cutsWithin: (bytes: number, records: number[]) => number[]) => {
    const store = await open();
    const kept = await fill(store, 4);
    await store.close();
    const before = (await fs.stat(segmentFile(0))).size;
    const again = await open();
    await again.append('torn', lastAppend);
    await again.close();
    const whole = await fs.readFile(segmentFile(0));
    const index = await fs.readFile(positionsIndexFile(directory));
    const records = (await recordOffsets()).slice(kept.length).map((entry) => entry.offset - before);
    const cuts = cutsWithin(whole.length - before, records);
    expect(cuts.length).toBeGreaterThan(0);
    for (const [i, within] of cuts.entries()) {
      const cut = before + within;
      await fs.writeFile(segmentFile(0), whole.subarray(0, cut));
      // A crash mid-write never reaches the index write, which follows the fsync.
      await fs.writeFile(positionsIndexFile(directory), index.subarray(0, kept.length * 8));
      const recovered = await open();
      try {
        expect(recovered.openReport.tornTail).toEqual(
          cut === before
            ? null
            : {
                file: segmentFile(0),
                offset: before,
                bytesDropped: cut - before,
                reason: expect.any(String),
                truncated: true,
              },
        );
        expect(await collect(recovered.readAll())).toEqual(kept);
        expect((await fs.stat(segmentFile(0))).size).toBe(before);
        if (i % 50 === 0 || i === cuts.length - 1) {
          // The ledger goes on from there.
          const next = await recovered.append('torn', lastAppend);
          expect(next.events[0]).toMatchObject({ position: kept.length, revision: 0, prevHash: null });
        }
      } finally {
        await recovered.close();
      }
    }
  };
  const everyByte = (bytes: number) => Array.from({ length: bytes }, (_, i) => i);

  it('the last record cut at every byte offset is cut off, reported, and only that record is lost', async () => {
    await tear([{ ...adjustment('last', 99), data: { amount: '1.00' } }], everyByte);
  });

  it('an append of several events cut anywhere loses the whole append, never a part of it', async () => {
    const events = [adjustment('x-0', 1), adjustment('x-1', 2), adjustment('x-2', 3)];
    // Every 10th byte, and each side of the boundaries between the append's records.
    await tear(events, (bytes, records) => {
      expect(records).toHaveLength(3);
      const around = records.slice(1).flatMap((start) => [start - 1, start, start + 1]);
      return [...new Set([...everyByte(bytes).filter((b) => b % 10 === 0), ...around])];
    });
  });

  it('a torn record that the index says was committed is not cut off: the open stops instead', async () => {
    const store = await open();
    await fill(store, 5);
    await store.close();
    const size = (await fs.stat(segmentFile(0))).size;
    await fs.truncate(segmentFile(0), size - 10);
    const error = await expectCorruption(open());
    expect(error.file).toBe(segmentFile(0));
    expect(error.offset).toBe((await recordOffsets())[4]!.offset);
    expect(error.message).toContain('position 4');
    expect((await fs.stat(segmentFile(0))).size).toBe(size - 10);
  });

  it('a read-only open ignores a torn tail without removing it (a writer may be writing it)', async () => {
    const store = await open();
    const kept = await fill(store, 3);
    await store.close();
    await fs.appendFile(segmentFile(0), Buffer.from([200, 1, 0, 0, 7, 7]));
    const size = (await fs.stat(segmentFile(0))).size;
    const reader = await track(open({ readOnly: true }));
    expect(reader.openReport.tornTail).toMatchObject({ bytesDropped: 6, truncated: false });
    expect(await collect(reader.readAll())).toEqual(kept);
    expect((await fs.stat(segmentFile(0))).size).toBe(size);
  });
});

describe('recovery: damage is never repaired silently', () => {
  /** Ten events; returns them and the offsets of their records. */
  const tenEvents = async () => {
    const store = await open();
    const events = await fill(store, 10);
    await store.close();
    return { events, offsets: await recordOffsets() };
  };
  const flipBits = async (file: string, offset: number, mask: number) => {
    const bytes = await fs.readFile(file);
    bytes[offset]! ^= mask;
    await fs.writeFile(file, bytes);
  };

  it('a flipped byte mid-segment stops the open (file and offset), for writing and reading; verify names the event', async () => {
    const { events, offsets } = await tenEvents();
    const record = offsets[5]!.offset;
    const amountAt = (await fs.readFile(segmentFile(0))).indexOf('"amount":"105.00"', record) + 10;
    await flipBits(segmentFile(0), amountAt, 0x08); // "105.00" -> "905.00"
    const sizeBefore = (await fs.stat(segmentFile(0))).size;

    const error = await expectCorruption(open());
    expect(error).toMatchObject({ file: segmentFile(0), offset: record });
    expect(error.message).toContain(segmentFile(0));
    expect(error.message).toContain(`offset ${record}`);
    expect(error.message).toContain('position 5');
    await expectCorruption(open({ readOnly: true }));
    expect((await fs.stat(segmentFile(0))).size).toBe(sizeBefore);
    // No lock is left behind by the refused open.
    await expect(fs.stat(join(directory, 'LOCK'))).rejects.toMatchObject({ code: 'ENOENT' });

    const report = await verifyFileStore({ directory });
    expect(report.ok).toBe(false);
    expect(report.firstProblem).toMatchObject({
      position: 5,
      eventId: events[5]!.id,
      file: segmentFile(0),
      offset: record,
    });
    // The chains agree: the content of event 5 no longer matches its hash.
    expect(report.chains).toMatchObject({ ok: false, firstProblem: { position: 5, kind: 'hash-mismatch' } });
  });

  it('a flipped byte that leaves no readable JSON: verify still names the event, from the damage', async () => {
    const { events, offsets } = await tenEvents();
    const quoteAt = (await fs.readFile(segmentFile(0))).indexOf('"amount"', offsets[6]!.offset);
    await flipBits(segmentFile(0), quoteAt, 0x01); // '"' -> '#': the JSON no longer parses
    const report = await verifyFileStore({ directory });
    expect(report.chains).toBeNull();
    expect(report.firstProblem).toMatchObject({
      position: 6,
      eventId: events[6]!.id,
      offset: offsets[6]!.offset,
    });
  });

  it('damage to a record length (framing lost) is reported at that record; verify still names it', async () => {
    const { events, offsets } = await tenEvents();
    await flipBits(segmentFile(0), offsets[3]!.offset + 6, 0x20); // the record's length
    const error = await expectCorruption(open());
    expect(error).toMatchObject({ file: segmentFile(0), offset: offsets[3]!.offset });
    const report = await verifyFileStore({ directory });
    expect(report.firstProblem).toMatchObject({
      position: 3,
      eventId: events[3]!.id,
      offset: offsets[3]!.offset,
    });
  });

  it('a missing segment stops the open, naming it', async () => {
    const store = await open({ segmentBytes: 4096 });
    await fill(store, 60);
    await store.close();
    await fs.rm(segmentFile(1));
    const error = await expectCorruption(open());
    expect(error.file).toBe(segmentFile(1));
    expect(error.message).toContain('missing');
  });

  it('a missing last segment is caught by the index, which still lists its records', async () => {
    const store = await open({ segmentBytes: 4096 });
    await fill(store, 60);
    await store.close();
    const names = (await fs.readdir(join(directory, SEGMENTS_DIR))).sort();
    await fs.rm(join(directory, SEGMENTS_DIR, names[names.length - 1]!));
    const error = await expectCorruption(open());
    expect(error.file).toBe(positionsIndexFile(directory));
    expect(error.message).toContain('missing');
  });

  it('an index that disagrees with the segments stops the open (index file and offset); rebuildIndex repairs it', async () => {
    const store = await open();
    const events = await fill(store, 10);
    await store.close();
    const index = await fs.readFile(positionsIndexFile(directory));
    index.writeUInt32LE(index.readUInt32LE(7 * 8 + 4) + 1, 7 * 8 + 4);
    await fs.writeFile(positionsIndexFile(directory), index);
    const error = await expectCorruption(open());
    expect(error).toMatchObject({ file: positionsIndexFile(directory), offset: 7 * 8 });
    expect(error.message).toContain('position 7');
    const rebuilt = await track(open({ rebuildIndex: true }));
    expect(rebuilt.openReport.indexEntriesWritten).toBe(10);
    expect(await collect(rebuilt.readAll())).toEqual(events);
  });
});

describe('tampering is caught by verify, which names the first bad event', () => {
  const clean = async () => {
    const store = await open();
    const events = await fill(store, 8);
    await store.close();
    return events;
  };
  const firstProblem = async () => {
    const report = await verifyFileStore({ directory });
    expect(report.ok).toBe(false);
    expect(report.damage).toEqual([]); // a careful attacker: every checksum is right
    return report.firstProblem;
  };

  it('an edited amount', async () => {
    const events = await clean();
    await rewriteLedger(directory, (all) =>
      all.map((e, i) => (i === 4 ? { ...e, data: { ...(e.data as object), amount: '9104.00' } } : e)),
    );
    expect(await firstProblem()).toMatchObject({ position: 4, eventId: events[4]!.id });
  });

  it('a deleted event', async () => {
    const events = await clean();
    await rewriteLedger(directory, (all) => all.filter((_, i) => i !== 2));
    // e-2 was a's revision 1; the next event of stream a (e-4, now at position 3) breaks the sequence.
    expect(await firstProblem()).toMatchObject({ position: 3, eventId: events[4]!.id });
  });

  it('a swapped pair', async () => {
    const events = await clean();
    await rewriteLedger(directory, (all) => all.map((e, i) => (i === 2 ? all[4]! : i === 4 ? all[2]! : e)));
    expect(await firstProblem()).toMatchObject({ position: 2, eventId: events[4]!.id });
  });

  it('an inserted event', async () => {
    const events = await clean();
    const forged = { ...events[3]!, id: 'forged', data: { amount: '5000.00' } };
    await rewriteLedger(directory, (all) => [...all.slice(0, 5), forged, ...all.slice(5)]);
    expect(await firstProblem()).toMatchObject({ position: 5, eventId: 'forged' });
  });

  it('a clean ledger verifies', async () => {
    await clean();
    expect(await verifyFileStore({ directory })).toMatchObject({ ok: true, firstProblem: null, damage: [] });
  });
});

describe('a failed write', () => {
  it('fails the appends in flight and every later one with StoreFailedError; a reopen recovers', async () => {
    const store = await open();
    const kept = await fill(store, 3);
    await store.close();
    const again = await open();
    // Sabotage: the segment's name now leads to a directory, so the write cannot happen.
    await fs.rename(segmentFile(0), `${segmentFile(0)}.aside`);
    await fs.mkdir(segmentFile(0));
    const outcomes = await Promise.allSettled([
      again.append('s', [adjustment('lost-1', 1)]),
      again.append('s', [adjustment('lost-2', 2)]),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(StoreFailedError);
    }
    await expect(again.append('s', [adjustment('later', 3)])).rejects.toBeInstanceOf(StoreFailedError);
    await again.close();
    await fs.rmdir(segmentFile(0));
    await fs.rename(`${segmentFile(0)}.aside`, segmentFile(0));
    const reopened = await track(open());
    expect(await collect(reopened.readAll())).toEqual(kept);
  });
});

describe('concurrency and group commit', () => {
  it('stores what was passed to append: changing the event objects afterwards changes nothing', async () => {
    const store = await track(open());
    const event = adjustment('sealed', 1);
    const data = event.data as { amount: string };
    const appended = store.append('s', [event]);
    // The caller changes its objects before the write is durable (the batch is framed a turn later).
    data.amount = '999999.00';
    (event as { id: string }).id = 'changed';
    const [stored] = (await appended).events;
    expect(stored!.id).toBe('sealed');
    const [read] = await collect(store.readAll());
    expect(read).toMatchObject({ id: 'sealed', data: { amount: '101.00' } });
    expect((await verifyStore(store)).ok).toBe(true);
  });

  it.each([
    ['in UTF-16 units', 'x'.repeat(17 * 1024 * 1024)],
    ['only in UTF-8 bytes (framed, then dropped)', '\u20ac'.repeat(6 * 1024 * 1024)],
  ])(
    'an event too large to store (%s) is refused, naming it; nothing of its append is stored, and the appends around it in the same commit are',
    async (_, huge) => {
      const store = await track(open());
      const before = store.append('a', [adjustment('before', 1)]);
      const large = { ...adjustment('large', 3), data: { note: huge } };
      const refused = store.append('b', [adjustment('first-of-two', 2), large]);
      const after = store.append('c', [adjustment('after', 4)]);
      await expect(refused).rejects.toThrow(
        /event large is \d+ bytes stored; the file store takes at most 16777216/,
      );
      expect((await before).events[0]).toMatchObject({ id: 'before', position: 0 });
      expect((await after).events[0]).toMatchObject({ id: 'after', position: 1 });
      expect((await collect(store.readAll())).map((e) => e.id)).toEqual(['before', 'after']);
      await store.close();
      opened.splice(0);
      const reopened = await track(open());
      expect((await collect(reopened.readAll())).map((e) => [e.id, e.position])).toEqual([
        ['before', 0],
        ['after', 1],
      ]);
      expect((await verifyStore(reopened)).ok).toBe(true);
    },
  );

  it('concurrent appends across segment boundaries: all stored in order, verified, and reopened', async () => {
    const commits: CommitInfo[] = [];
    const store = await open({ segmentBytes: 4096, onCommit: (commit) => commits.push(commit) });
    // 8 writers, each awaiting its appends: batches are prepared while the one before is written.
    const positions: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let n = 0; n < 25; n++)
          positions.push((await store.append(`w-${w}`, [adjustment(`c-${w}-${n}`, n)])).lastPosition);
      }),
    );
    expect(positions.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(commits.length).toBeGreaterThan(10);
    await store.close();
    const reopened = await track(open());
    expect(reopened.openReport.segments).toBeGreaterThan(5);
    const all = await collect(reopened.readAll());
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect((await verifyStore(reopened)).ok).toBe(true);
  });

  it('many appenders with the same expected revision: exactly one wins each round', async () => {
    const store = await track(open());
    await store.append('race', [adjustment('race-seed', 0)], { expectedRevision: 'noStream' });
    for (let round = 0; round < 10; round++) {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, w) =>
          store.append('race', [adjustment(`race-${round}-${w}`, w)], { expectedRevision: round }),
        ),
      );
      const winners = outcomes.filter((o) => o.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const o of outcomes)
        if (o.status === 'rejected') {
          expect(o.reason).toBeInstanceOf(WrongExpectedRevisionError);
          expect(o.reason).toMatchObject({ expected: round, actual: round + 1 });
        }
    }
    const stream = await collect(store.readStream('race'));
    expect(stream.map((e) => e.revision)).toEqual(Array.from({ length: 11 }, (_, i) => i));
  });

  it('writers on many streams, retrying on conflicts: every acknowledged append is stored once, in order, and commits are grouped', async () => {
    const commits: CommitInfo[] = [];
    const store = await track(open({ onCommit: (commit) => commits.push(commit) }));
    const acknowledged: string[] = [];
    const writer = async (w: number) => {
      for (let n = 0; n < 15; n++) {
        const stream = `shared-${n % 3}`;
        const id = `w${w}-${n}`;
        // Optimistic concurrency as the ledger does it: read the revision, append expecting it, retry on conflict.
        for (;;) {
          const [last] = await collect(store.readStream(stream, { direction: 'backwards', maxCount: 1 }));
          try {
            await store.append(stream, [adjustment(id, n)], {
              expectedRevision: last?.revision ?? 'noStream',
            });
            acknowledged.push(id);
            break;
          } catch (error) {
            if (!(error instanceof WrongExpectedRevisionError)) throw error;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => writer(w)));
    const all = await collect(store.readAll());
    expect(all.map((e) => e.id).sort()).toEqual([...acknowledged].sort());
    for (const stream of ['shared-0', 'shared-1', 'shared-2']) {
      const events = all.filter((e) => e.stream === stream);
      expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    }
    expect((await verifyStore(store)).ok).toBe(true);
    expect(commits.reduce((sum, c) => sum + c.events, 0)).toBe(all.length);
    expect(Math.max(...commits.map((c) => c.appends))).toBeGreaterThan(1);
  });
});
