import fc from 'fast-check';
import { GENESIS_DIGEST, computeEventHash, nextDigest } from '@partner-ledger/events';
import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import { compareWithKept, computeDigest, verifyStore } from './audit';
import type { VerifyReport } from './audit';
import { createInMemoryStoreWithTampering } from './in-memory';

const event = (id: string, n: number): NewEvent => ({
  id,
  type: 'AuditChecked',
  schemaVersion: 1,
  data: { n },
  occurredAt: new Date(Date.UTC(2026, 1, 1) + n * 60_000).toISOString(),
  recordedAt: new Date(Date.UTC(2026, 1, 1) + n * 60_000).toISOString(),
  actor: 'test:audit',
  correlationId: 'corr-audit',
  causationId: null,
});

/** Streams a, b, c with 3 events each, interleaved: a-0 b-0 c-0 a-1 b-1 c-1 a-2 b-2 c-2. */
const interleavedStore = async () => {
  const created = createInMemoryStoreWithTampering();
  for (let i = 0; i < 3; i += 1) {
    for (const stream of ['a', 'b', 'c']) await created.store.append(stream, [event(`${stream}-${i}`, i)]);
  }
  const all: RecordedEvent[] = [];
  for await (const e of created.store.readAll()) all.push(e);
  return { ...created, all };
};

const problemOf = (report: VerifyReport) => (report.ok ? undefined : report.firstProblem);

/** A record rewritten by hand, with its hash recomputed so that only the intended check can fail. */
const rehashed = (record: RecordedEvent, changes: Partial<RecordedEvent>): RecordedEvent => {
  const unhashed = { ...record, ...changes };
  return { ...unhashed, hash: computeEventHash(unhashed) };
};

describe('verifyStore', () => {
  it('reports a position that does not increase, even a repeated one', async () => {
    const { store, tampering, all } = await interleavedStore();
    tampering.replaceEvent(4, { ...(all[4] as RecordedEvent), position: 3 });
    expect(problemOf(await verifyStore(store))).toMatchObject({
      position: 3,
      eventId: 'b-1',
      kind: 'position-out-of-order',
      message: expect.stringContaining('position 3 does not follow position 3'),
    });
  });

  it('reports a first event of a stream that is not at revision 0', async () => {
    const { store, tampering, all } = await interleavedStore();
    tampering.replaceEvent(1, rehashed(all[1] as RecordedEvent, { revision: 1 }));
    const report = await verifyStore(store);
    expect(problemOf(report)).toMatchObject({
      eventId: 'b-0',
      kind: 'revision-out-of-sequence',
      revision: 1,
    });
    expect(report).toMatchObject({ ok: false, eventsChecked: 1, headPosition: 0 });
  });

  it('reports a first event whose prevHash is not null', async () => {
    const { store, tampering, all } = await interleavedStore();
    tampering.replaceEvent(2, rehashed(all[2] as RecordedEvent, { prevHash: all[0]?.hash as string }));
    expect(problemOf(await verifyStore(store))).toMatchObject({ eventId: 'c-0', kind: 'broken-link' });
  });

  it('reports a changed stored hash (the content no longer matches it)', async () => {
    const { store, tampering, all } = await interleavedStore();
    tampering.replaceEvent(8, { ...(all[8] as RecordedEvent), hash: 'f'.repeat(64) });
    const report = await verifyStore(store);
    expect(problemOf(report)).toMatchObject({ eventId: 'c-2', kind: 'hash-mismatch', position: 8 });
    expect(report).toMatchObject({ eventsChecked: 8, headPosition: 7 });
  });

  it('stops at the first problem and reports progress up to it', async () => {
    const { store, tampering } = await interleavedStore();
    tampering.editEventData(5, { n: 99 });
    tampering.editEventData(2, { n: 99 });
    const progress: number[] = [];
    const report = await verifyStore(store, {
      progressEvery: 1,
      onProgress: (p) => progress.push(p.position),
    });
    expect(problemOf(report)).toMatchObject({ eventId: 'c-0', position: 2 });
    expect(progress).toEqual([0, 1, 1]);
  });

  it('checks only up to upToPosition, so a later problem does not count', async () => {
    const { store, tampering } = await interleavedStore();
    tampering.editEventData(7, { n: 99 });
    expect(await verifyStore(store, { upToPosition: 6 })).toMatchObject({
      ok: true,
      eventsChecked: 7,
      headPosition: 6,
    });
    expect((await verifyStore(store)).ok).toBe(false);
    expect(await verifyStore(store, { upToPosition: -1 })).toEqual({
      ok: true,
      eventsChecked: 0,
      headPosition: -1,
      digest: GENESIS_DIGEST,
    });
  });

  it('rejects nonsense options', async () => {
    const { store } = await interleavedStore();
    await expect(verifyStore(store, { upToPosition: 1.5 })).rejects.toThrow(RangeError);
    await expect(verifyStore(store, { progressEvery: 0 })).rejects.toThrow(RangeError);
  });
});

describe('computeDigest', () => {
  it('folds the recomputed hashes, so an edit that left the stored hash alone still changes it', async () => {
    const { store, tampering, all } = await interleavedStore();
    const before = await computeDigest(store);
    expect(before.digest).toBe(all.reduce((d, e) => nextDigest(d, e.hash), GENESIS_DIGEST));
    tampering.editEventData(4, { n: 1000 });
    expect((await computeDigest(store)).digest).not.toBe(before.digest);
    expect(await computeDigest(store, { upToPosition: 3 })).toEqual(
      await computeDigest(store, { upToPosition: 3 }),
    );
  });
});

describe('verification properties', () => {
  // Any history of appends verifies; changing the data of any one event is found, at exactly that event.
  const history = fc.array(
    fc.record({ stream: fc.constantFrom('p', 'q', 'r', 's'), size: fc.integer({ min: 1, max: 3 }) }),
    { minLength: 1, maxLength: 25 },
  );

  it('an untouched history always verifies and its digest is the fold of its hashes', async () => {
    await fc.assert(
      fc.asyncProperty(history, async (batches) => {
        const { store } = createInMemoryStoreWithTampering({ defaultPageSize: 3 });
        let n = 0;
        for (const { stream, size } of batches) {
          await store.append(
            stream,
            Array.from({ length: size }, () => event(`e-${(n += 1)}`, n)),
          );
        }
        const report = await verifyStore(store);
        const all: RecordedEvent[] = [];
        for await (const e of store.readAll({ pageSize: 2 })) all.push(e);
        expect(report).toEqual({
          ok: true,
          eventsChecked: n,
          headPosition: n - 1,
          digest: all.reduce((d, e) => nextDigest(d, e.hash), GENESIS_DIGEST),
        });
      }),
      { numRuns: 40 },
    );
  });

  it('an edit of any one event is reported at that event, as a hash mismatch', async () => {
    await fc.assert(
      fc.asyncProperty(history, fc.nat(), async (batches, pick) => {
        const { store, tampering } = createInMemoryStoreWithTampering();
        let n = 0;
        for (const { stream, size } of batches) {
          await store.append(
            stream,
            Array.from({ length: size }, () => event(`e-${(n += 1)}`, n)),
          );
        }
        const target = pick % n;
        tampering.editEventData(target, { n: -1 });
        expect(problemOf(await verifyStore(store))).toMatchObject({
          position: target,
          eventId: `e-${target + 1}`,
          kind: 'hash-mismatch',
        });
      }),
      { numRuns: 40 },
    );
  });
});

describe('what the hash links catch, and what only a kept digest catches', () => {
  /** The digests a close keeps: one per event, and the head. */
  const close = async (store: Parameters<typeof verifyStore>[0]) => {
    const report = await verifyStore(store, { checkpointEvery: 1 });
    return [...(report.checkpoints ?? [])];
  };
  const recheck = async (
    store: Parameters<typeof verifyStore>[0],
    kept: Awaited<ReturnType<typeof close>>,
  ) => {
    const report = await verifyStore(store, { digestsAt: kept.map((d) => d.position) });
    return { report, comparison: compareWithKept(kept, report.digestsAt ?? []) };
  };

  it('an untouched history matches every kept digest', async () => {
    const { store } = await interleavedStore();
    const kept = await close(store);
    expect(kept.map((d) => [d.position, d.eventCount])).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8].map((p) => [p, p + 1]),
    );
    expect((await recheck(store, kept)).comparison).toEqual({ same: true, position: 8 });
  });

  it('a swap of two events of different streams keeps the links but not the digest, named at its first position', async () => {
    const { store, tampering } = await interleavedStore();
    const kept = await close(store);
    tampering.swapEvents(3, 4); // a-1 and b-1
    const { report, comparison } = await recheck(store, kept);
    expect(report.ok).toBe(true); // the links cannot see it
    expect(comparison).toMatchObject({ same: false, sameUpTo: 2, differsBy: 3 });
  });

  it('a payout moved earlier in global order, found at the first position it moved to', async () => {
    const { store, tampering, all } = await interleavedStore();
    const kept = await close(store);
    const moved = all[8]!; // c-2, the last event, put before a-1... which breaks c's revisions
    tampering.deleteEvent(8);
    tampering.insertEvent(6, moved);
    const { comparison } = await recheck(store, kept);
    expect(comparison).toMatchObject({ same: false, sameUpTo: 5, differsBy: 6 });
  });

  it('the last event of a stream deleted: the links still check out; the digest says events were removed', async () => {
    const { store, tampering } = await interleavedStore();
    const kept = await close(store);
    tampering.deleteEvent(8);
    const { report, comparison } = await recheck(store, kept);
    expect(report.ok).toBe(true);
    expect(comparison).toMatchObject({ same: false, sameUpTo: 7, differsBy: 8 });
    if (!comparison.same) expect(comparison.message).toContain('events were removed');
  });

  it('a kept position past the head now is never the same, even with the digest and count of the history now', async () => {
    const { store } = await interleavedStore();
    const now = await verifyStore(store);
    // What a report edited to name a later head holds: the head moved on, the digest and count left alone.
    const kept = [{ position: now.headPosition + 5, eventCount: now.eventsChecked, digest: now.digest }];
    const report = await verifyStore(store, { digestsAt: kept.map((d) => d.position) });
    // Without the head, the digest "up to" a position past the end is the whole history's: it matches.
    expect(compareWithKept(kept, report.digestsAt ?? [])).toEqual({ same: true, position: 13 });
    const comparison = compareWithKept(kept, report.digestsAt ?? [], now.headPosition);
    expect(comparison).toMatchObject({ same: false, sameUpTo: null, differsBy: 13 });
    if (!comparison.same)
      expect(comparison.message).toBe(
        'the history ends at position 8, before the kept position 13: events were removed; the first change is at or before position 13',
      );
    expect(compareWithKept(kept, [], -1)).toMatchObject({ same: false, differsBy: 13 });
  });

  it('kept only at the head, the change is placed at or before the head', async () => {
    const { store, tampering } = await interleavedStore();
    const head = await verifyStore(store);
    tampering.swapEvents(0, 1);
    const { comparison } = await recheck(store, [
      { position: head.headPosition, eventCount: head.eventsChecked, digest: head.digest },
    ]);
    expect(comparison).toMatchObject({ same: false, sameUpTo: null, differsBy: 8 });
  });
});
