// Reading back: global order, paging, reading a stream both ways, and reads as known at a position or a
// time.
import type { AppendResult, EventStore } from '../port';
import { at, makeEvent, makeEvents, positionsOf, idsOf } from './fixtures';
import type { ContractSuite } from './suite';

/** Global order across streams, and paging through it. */
export const describeGlobalOrderAndPaging = (suite: ContractSuite): void => {
  const {
    dense,
    largeStreamEvents,
    largeStreamBatch,
    append,
    readStream,
    readAll,
    appendInterleaved,
    expectPositionsAfter,
  } = suite;
  describe('global order and paging', () => {
    it('reads all events in the order they were appended, across streams', async () => {
      const appended = await appendInterleaved({ p1: 3, p2: 2, p3: 4 });
      const all = await readAll();
      expect(all).toEqual(appended);
      expect(idsOf(all)).toEqual(['p1-0', 'p2-0', 'p3-0', 'p1-1', 'p2-1', 'p3-1', 'p1-2', 'p3-2', 'p3-3']);
      expectPositionsAfter(positionsOf(all), -1);
      for (const stream of ['p1', 'p2', 'p3']) {
        expect(await readStream(stream)).toEqual(all.filter((e) => e.stream === stream));
      }
    });

    it('pages across page boundaries with any page size and start position', async () => {
      const check = async (total: number): Promise<void> => {
        const positions = positionsOf(await readAll());
        expect(positions).toHaveLength(total);
        expectPositionsAfter(positions, -1);
        const of = (index: number): number => positions[index] as number;
        // The start of the log, events' own positions, an event's position + 1 (a reader resuming after
        // it), the head + 1; in dense mode also positions no event has yet.
        const starts = new Set([
          0,
          of(1),
          of(6),
          of(6) + 1,
          of(14),
          of(20),
          of(20) + 1,
          of(total - 1) + 1,
          ...(dense ? [22, 30] : []),
        ]);
        for (const pageSize of [1, 2, 3, 7, 21, 22, 100]) {
          for (const fromPosition of starts) {
            const events = await readAll({ pageSize, fromPosition });
            expect({ pageSize, fromPosition, positions: positionsOf(events) }).toEqual({
              pageSize,
              fromPosition,
              positions: positions.filter((p) => p >= fromPosition),
            });
          }
        }
      };
      // 21 events: pages of 1, 3, 7 and 21 end exactly at the head; 2 and 22 do not. Then 23 events: the
      // 21st event's position + 1 is no longer past the head.
      await appendInterleaved({ x: 7, y: 7, z: 7 });
      await check(21);
      await append('x', makeEvents('x', 2, 7));
      await check(23);
      expect(idsOf(await readAll({ pageSize: 7 }))).toEqual(idsOf(await readAll()));
    });

    it('reads a stream backwards, and from a revision, with a maximum count, in both directions', async () => {
      await appendInterleaved({ s: 6, t: 3 });
      const revisions = async (opts: Parameters<EventStore['readStream']>[1]) =>
        (await readStream('s', opts)).map((e) => e.revision);
      expect(await revisions({ direction: 'backwards' })).toEqual([5, 4, 3, 2, 1, 0]);
      expect(await revisions({ direction: 'backwards', fromRevision: 3 })).toEqual([3, 2, 1, 0]);
      expect(await revisions({ direction: 'backwards', maxCount: 2 })).toEqual([5, 4]);
      expect(await revisions({ direction: 'backwards', fromRevision: 4, maxCount: 3 })).toEqual([4, 3, 2]);
      expect(await revisions({ direction: 'backwards', fromRevision: 50 })).toEqual([5, 4, 3, 2, 1, 0]);
      expect(await revisions({ fromRevision: 2 })).toEqual([2, 3, 4, 5]);
      expect(await revisions({ fromRevision: 2, maxCount: 3 })).toEqual([2, 3, 4]);
      expect(await revisions({ fromRevision: 6 })).toEqual([]);
      expect(await revisions({ maxCount: 0 })).toEqual([]);
      expect(await revisions({ direction: 'backwards', maxCount: 0 })).toEqual([]);
      const backwards = await readStream('s', { direction: 'backwards' });
      expect(backwards).toEqual((await readStream('s')).reverse());
    });

    it(`holds a large stream (${largeStreamEvents} events) and reads both of its ends`, async () => {
      let lastBatch: AppendResult | undefined;
      for (let first = 0; first < largeStreamEvents; first += largeStreamBatch) {
        const count = Math.min(largeStreamBatch, largeStreamEvents - first);
        const events = Array.from({ length: count }, (_, i) => ({
          ...makeEvent(`big-${first + i}`, 0),
          data: { i: first + i },
        }));
        lastBatch = await append('big', events, first === 0 ? 'noStream' : first - 1);
      }
      const last = largeStreamEvents - 1;
      const tailPositions = positionsOf(lastBatch?.events ?? []).slice(-2);
      expect(await suite.store.headPosition()).toBe(lastBatch?.lastPosition);
      const tail = await readStream('big', { direction: 'backwards', maxCount: 3 });
      expect(tail.map((e) => e.revision)).toEqual([last, last - 1, last - 2]);
      expect(tail[0]?.prevHash).toBe(tail[1]?.hash);
      expect(tail[0]?.data).toEqual({ i: last });
      const fromNearEnd = await readStream('big', { fromRevision: last - 1 });
      expect(positionsOf(fromNearEnd)).toEqual(tailPositions);
      let expected = 0;
      for await (const event of suite.store.readStream('big')) {
        if (event.revision !== expected) throw new Error(`revision ${event.revision} at ${expected}`);
        expected += 1;
      }
      expect(expected).toBe(largeStreamEvents);
      // Without an expect per event, which would slow the test down: each position follows the one before
      // (dense: by exactly one).
      let count = 0;
      let previous = -1;
      for await (const { position } of suite.store.readAll({ pageSize: 1_000 })) {
        if (dense ? position !== previous + 1 : position <= previous) {
          throw new Error(`position ${position} after position ${previous}`);
        }
        previous = position;
        count += 1;
      }
      expect(count).toBe(largeStreamEvents);
      expect(previous).toBe(lastBatch?.lastPosition);
    });
  });
};

/** Reads bounded by what was known at a position or a recorded time. */
export const describeAsOfReads = (suite: ContractSuite): void => {
  const { append, readStream, readAll, expectPositionsAfter } = suite;
  describe('as-of reads', () => {
    // In global order (dense: positions 0..5): a-0 (t1), b-0 (t2), a-1 (t3), b-1 (t4), a-2 (t5),
    // b-2 (t0: recorded late, dated early). Returns each event's position, by id.
    const appendHistory = async (): Promise<Record<string, number>> => {
      const recorded = { 'a-0': 1, 'b-0': 2, 'a-1': 3, 'b-1': 4, 'a-2': 5, 'b-2': 0 } as Record<
        string,
        number
      >;
      const positionOf: Record<string, number> = {};
      for (const id of Object.keys(recorded)) {
        const seconds = recorded[id] as number;
        const result = await append(id.slice(0, 1), [makeEvent(id, seconds, { recordedAt: at(seconds) })]);
        positionOf[id] = result.lastPosition;
      }
      expectPositionsAfter(Object.values(positionOf), -1);
      return positionOf;
    };

    it('by position: only what had been recorded up to that position', async () => {
      const positionOf = await appendHistory();
      const b1 = positionOf['b-1'] as number;
      expect(idsOf(await readAll({ asKnownAt: { position: b1 } }))).toEqual(['a-0', 'b-0', 'a-1', 'b-1']);
      expect(
        idsOf(await readAll({ asKnownAt: { position: b1 }, fromPosition: positionOf['b-0'], pageSize: 2 })),
      ).toEqual(['b-0', 'a-1', 'b-1']);
      for (const beyond of [(positionOf['b-2'] as number) + 1, Number.MAX_SAFE_INTEGER]) {
        expect(idsOf(await readAll({ asKnownAt: { position: beyond } }))).toHaveLength(6);
      }
      expect(await readAll({ asKnownAt: { position: (positionOf['a-0'] as number) - 1 } })).toEqual([]);
      const a1 = positionOf['a-1'] as number;
      expect(idsOf(await readStream('a', { asKnownAt: { position: a1 } }))).toEqual(['a-0', 'a-1']);
      expect(idsOf(await readStream('a', { asKnownAt: { position: a1 }, direction: 'backwards' }))).toEqual([
        'a-1',
        'a-0',
      ]);
    });

    it('by recordedAt: only events recorded at or before that time, even late in global order', async () => {
      await appendHistory();
      expect(idsOf(await readAll({ asKnownAt: { recordedAt: at(3) } }))).toEqual([
        'a-0',
        'b-0',
        'a-1',
        'b-2',
      ]);
      expect(idsOf(await readAll({ asKnownAt: { recordedAt: at(3) }, pageSize: 1 }))).toEqual([
        'a-0',
        'b-0',
        'a-1',
        'b-2',
      ]);
      expect(idsOf(await readStream('b', { asKnownAt: { recordedAt: at(2) } }))).toEqual(['b-0', 'b-2']);
      expect(
        idsOf(
          await readStream('b', { asKnownAt: { recordedAt: at(2) }, direction: 'backwards', maxCount: 1 }),
        ),
      ).toEqual(['b-2']);
      expect(await readAll({ asKnownAt: { recordedAt: at(-1) } })).toEqual([]);
    });

    it('by both: an event must satisfy both bounds', async () => {
      const positionOf = await appendHistory();
      const [a2, b1] = [positionOf['a-2'] as number, positionOf['b-1'] as number];
      expect(idsOf(await readAll({ asKnownAt: { position: a2, recordedAt: at(3) } }))).toEqual([
        'a-0',
        'b-0',
        'a-1',
      ]);
      expect(idsOf(await readStream('b', { asKnownAt: { position: b1, recordedAt: at(2) } }))).toEqual([
        'b-0',
      ]);
    });
  });
};
