import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEvent } from '@partner-ledger/events';
import type { RecordedEvent } from '@partner-ledger/events';
import { verifyStore } from '@partner-ledger/store';
import type { VerifyOptions, VerifyProgress } from '@partner-ledger/store';
import { SEGMENTS_DIR, positionsIndexFile, segmentName } from './layout';
import { openFileStore } from './store';
import { adjustment } from './testing/adjustment';
import { rewriteLedger } from './testing/rewrite';
import { verifyFileStore } from './verify';
import { verifyInOnePass } from './verify-pass';

/**
 * The one-pass verify must give, on a clean ledger, exactly the report of the open and verifyStore, and give
 * way to them (undefined) whenever there is anything else to tell.
 */

let directory: string;
beforeEach(async () => {
  directory = await fs.mkdtemp(join(tmpdir(), 'pl-one-pass-'));
});
afterEach(async () => {
  await fs.rm(directory, { recursive: true, force: true });
});

/** 60 events in appends of 1 to 3 events to four streams, over several small segments. */
const written = async (): Promise<RecordedEvent[]> => {
  const writer = await openFileStore({ directory, segmentBytes: 4096 });
  const events: RecordedEvent[] = [];
  for (let n = 0; n < 60;) {
    const size = 1 + (n % 3);
    const batch = Array.from({ length: size }, (_, i) => adjustment(n + i));
    events.push(...(await writer.append(`stream-${n % 4}`, batch)).events);
    n += size;
  }
  await writer.close();
  return events;
};

/** verifyStore over a read-only open: the two-pass path. */
const twoPass = async (options: VerifyOptions = {}) => {
  const reader = await openFileStore({ directory, readOnly: true });
  try {
    return await verifyStore(reader, options);
  } finally {
    await reader.close();
  }
};

const segmentFile = (n: number) => join(directory, SEGMENTS_DIR, segmentName(n));

// Inline, and with worker threads checking the chunks (each record a chunk of its own at most 4 KiB).
describe.each([0, 2])('verifyInOnePass with %i worker threads', (threads) => {
  it('gives the report of the open and verifyStore on a clean ledger, checkpoints, digests and progress included', async () => {
    await written();
    expect((await fs.readdir(join(directory, SEGMENTS_DIR))).length).toBeGreaterThan(2);
    const cases: VerifyOptions[] = [
      {},
      { upToPosition: 10 },
      { upToPosition: -1 },
      { upToPosition: 500 },
      { checkpointEvery: 7, digestsAt: [-1, 0, 13, 59, 1000, 13] },
      { upToPosition: 30, checkpointEvery: 1, digestsAt: [5, 31] },
    ];
    for (const options of cases) {
      const progressOne: VerifyProgress[] = [];
      const progressTwo: VerifyProgress[] = [];
      const one = await verifyInOnePass(directory, {
        threads,
        ...options,
        progressEvery: 9,
        onProgress: (p) => progressOne.push(p),
      });
      const two = await twoPass({ ...options, progressEvery: 9, onProgress: (p) => progressTwo.push(p) });
      expect(one).toEqual(two);
      expect(progressOne).toEqual(progressTwo);
    }
    expect((await verifyInOnePass(directory, { threads }))?.eventsChecked).toBe(60);
  });

  it('reads records larger than its read chunk', async () => {
    const writer = await openFileStore({ directory });
    const big = { ...adjustment(1), data: { ...(adjustment(1).data as object), reason: 'x'.repeat(10_000) } };
    await writer.append('s', [adjustment(0), big, adjustment(2)]);
    await writer.close();
    const one = await verifyInOnePass(directory, { threads, chunkBytes: 4096 });
    expect(one).toEqual(await twoPass());
    expect(one?.eventsChecked).toBe(3);
  });

  it('gives way on a damaged byte, and verifyFileStore still names the damage', async () => {
    const events = await written();
    const bytes = await fs.readFile(segmentFile(1));
    const amountAt = bytes.indexOf('"amount":"') + 10;
    bytes[amountAt]! ^= 0x08;
    await fs.writeFile(segmentFile(1), bytes);
    expect(await verifyInOnePass(directory, { threads })).toBeUndefined();
    const report = await verifyFileStore({ directory });
    expect(report.ok).toBe(false);
    expect(report.damage.length).toBe(1);
    expect(report.firstProblem?.file).toBe(segmentFile(1));
    expect(events.map((e) => e.id)).toContain(report.firstProblem?.eventId);
  });

  it('gives way on a torn tail (an append cut short), which a read-only open ignores', async () => {
    await written();
    const names = (await fs.readdir(join(directory, SEGMENTS_DIR))).sort();
    const last = join(directory, SEGMENTS_DIR, names[names.length - 1]!);
    const { size } = await fs.stat(last);
    await fs.truncate(last, size - 5);
    // The index must not claim the cut record: drop it, as a crash before the index write would.
    await fs.rm(positionsIndexFile(directory));
    expect(await verifyInOnePass(directory, { threads })).toBeUndefined();
    const report = await verifyFileStore({ directory });
    expect(report.ok).toBe(true);
    expect(report.chains).toEqual(await twoPass());
  });

  it('gives way when the index disagrees with the segments, or lists a record that is not there', async () => {
    await written();
    const index = await fs.readFile(positionsIndexFile(directory));
    const wrong = Buffer.from(index);
    wrong.writeUInt32LE(wrong.readUInt32LE(7 * 8 + 4) + 1, 7 * 8 + 4);
    await fs.writeFile(positionsIndexFile(directory), wrong);
    expect(await verifyInOnePass(directory, { threads })).toBeUndefined();
    expect((await verifyFileStore({ directory })).firstProblem?.position).toBe(7);

    const longer = Buffer.concat([index, index.subarray(index.length - 8)]);
    await fs.writeFile(positionsIndexFile(directory), longer);
    expect(await verifyInOnePass(directory, { threads })).toBeUndefined();
    expect((await verifyFileStore({ directory })).firstProblem?.position).toBe(60);

    await fs.writeFile(positionsIndexFile(directory), index);
    expect(await verifyInOnePass(directory, { threads })).toEqual(await twoPass());
  });

  it('gives way on a tampered event with every checksum right, and verifyFileStore names it', async () => {
    const events = await written();
    // The attacker writes the store's own layout (canonical text, then hash and position).
    const record = (event: RecordedEvent): string =>
      `${hashEvent(event).canonicalText.slice(0, -1)},"hash":"${event.hash}","position":${event.position}}`;
    await rewriteLedger(
      directory,
      (all) => all.map((e, i) => (i === 33 ? { ...e, data: { ...(e.data as object), amount: '9.00' } } : e)),
      record,
    );
    expect(await verifyInOnePass(directory, { threads })).toBeUndefined();
    const report = await verifyFileStore({ directory });
    expect(report.damage).toEqual([]);
    expect(report.firstProblem).toMatchObject({ position: 33, eventId: events[33]!.id });
  });

  it("gives way on records not in the store's layout, which verify still checks from their content", async () => {
    await written();
    // The same events, their keys in reverse order: valid JSON, same content, not the text the store writes.
    await rewriteLedger(
      directory,
      (all) => all,
      (event) => JSON.stringify(Object.fromEntries(Object.entries(event).reverse())),
    );
    expect(await verifyInOnePass(directory, { threads })).toBeUndefined();
    const report = await verifyFileStore({ directory });
    expect(report).toMatchObject({ ok: true, damage: [] });
    expect(report.chains).toEqual(await twoPass());
  });

  it('gives way on a missing segment, or a directory that is no ledger', async () => {
    await written();
    await fs.rm(segmentFile(1));
    expect(await verifyInOnePass(directory, { threads })).toBeUndefined();
    expect((await verifyFileStore({ directory })).ok).toBe(false);
    expect(await verifyInOnePass(join(directory, 'nothing'), { threads })).toBeUndefined();
  });
});
