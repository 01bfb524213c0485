// The append itself: what it stores and returns, the expected revision, racing writers and atomic batches.
import { computeEventHash } from '@partner-ledger/events';
import type { RecordedEvent } from '@partner-ledger/events';
import { WrongExpectedRevisionError } from '../errors';
import type { AppendResult } from '../port';
import { makeEvent, makeEvents, positionsOf, idsOf, range } from './fixtures';
import type { ContractSuite } from './suite';

/** What an append stores and returns, read back. */
export const describeAppendAndReadBack = (suite: ContractSuite): void => {
  const { dense, append, readStream, readAll, expectPositionsAfter } = suite;
  describe('append and read back', () => {
    it('starts empty: head -1, no events, missing streams read as empty', async () => {
      expect(await suite.store.headPosition()).toBe(-1);
      expect(await readAll()).toEqual([]);
      expect(await readStream('nobody')).toEqual([]);
      expect(await readStream('nobody', { direction: 'backwards' })).toEqual([]);
    });

    it(`assigns revisions and global positions (${dense ? 'from 0' : 'increasing'}) and returns the events as stored`, async () => {
      const events = makeEvents('a', 3);
      const result = await append('stream-a', events, 'noStream');
      expectPositionsAfter(positionsOf(result.events), -1);
      expect(result).toMatchObject({
        stream: 'stream-a',
        nextExpectedRevision: 2,
        lastPosition: result.events[2]?.position,
        alreadyStored: false,
      });
      expect(result.events.map((e) => [e.stream, e.revision])).toEqual([
        ['stream-a', 0],
        ['stream-a', 1],
        ['stream-a', 2],
      ]);
      // Everything the caller said is kept as said.
      result.events.forEach((recorded, i) => {
        expect(recorded).toMatchObject(events[i] as object);
      });
      expect(await readStream('stream-a')).toEqual(result.events);
      expect(await readAll()).toEqual(result.events);
      expect(await suite.store.headPosition()).toBe(result.lastPosition);

      const more = await append('stream-b', makeEvents('b', 2));
      expect(more.events.map((e) => e.revision)).toEqual([0, 1]);
      expectPositionsAfter(positionsOf(more.events), result.lastPosition);
      expect(more.nextExpectedRevision).toBe(1);
      expect(more.lastPosition).toBe(more.events[1]?.position);
      expect(await suite.store.headPosition()).toBe(more.lastPosition);
      expect(await readAll()).toEqual([...result.events, ...more.events]);
    });

    it('keeps its own copy: changing the appended objects afterwards changes nothing stored', async () => {
      const event = makeEvent('copy-0', 0, { data: { list: [1, 2], inner: { value: 'kept' } } });
      const result = await append('copy', [event]);
      const data = event.data as { list: number[]; inner: { value: string } };
      data.list.push(3);
      data.inner.value = 'changed';
      const [stored] = await readStream('copy');
      expect(stored?.data).toEqual({ list: [1, 2], inner: { value: 'kept' } });
      expect(stored?.hash).toBe(result.events[0]?.hash);
      expect(computeEventHash(stored as RecordedEvent)).toBe(stored?.hash);
    });

    it('refuses data with no JSON form (a bigint, a number that is not finite), naming the event, and writes nothing', async () => {
      for (const data of [{ amount: 10n }, { rate: Number.POSITIVE_INFINITY }, { rate: Number.NaN }]) {
        const error: unknown = await append('json', [
          makeEvent('json-ok'),
          makeEvent('json-bad', 1, { data }),
        ]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toMatch(/event 1 of the append to "json" \(id "json-bad"\)/);
      }
      expect(await suite.store.headPosition()).toBe(-1);
      expect(await readStream('json')).toEqual([]);
    });

    it('rejects an empty append and an expected revision that is not one of the four forms', async () => {
      await expect(append('s', [])).rejects.toThrow(RangeError);
      await expect(append('s', [makeEvent('bad-1')], -1)).rejects.toThrow(RangeError);
      await expect(append('s', [makeEvent('bad-2')], 1.5)).rejects.toThrow(RangeError);
      expect(await suite.store.headPosition()).toBe(-1);
    });
  });
};

/** The four forms of expected revision, and that a refused append writes nothing. */
export const describeExpectedRevision = (suite: ContractSuite): void => {
  const { append, readAll, expectConflict } = suite;
  describe('expected revision', () => {
    it('noStream: succeeds on a new stream, refuses an existing one (actual = its revision)', async () => {
      await append('s', makeEvents('s', 3), 'noStream');
      await expectConflict(append('s', [makeEvent('s-3')], 'noStream'), 's', 'noStream', 2);
    });

    it('streamExists: refuses a missing stream (actual = noStream), succeeds on an existing one', async () => {
      await expectConflict(append('s', [makeEvent('s-0')], 'streamExists'), 's', 'streamExists', 'noStream');
      await append('s', [makeEvent('s-0')]);
      const result = await append('s', [makeEvent('s-1')], 'streamExists');
      expect(result.nextExpectedRevision).toBe(1);
    });

    it('exact: succeeds only at that revision, and says which revision the stream is at', async () => {
      await expectConflict(append('s', [makeEvent('s-0')], 0), 's', 0, 'noStream');
      await append('s', makeEvents('s', 2));
      await expectConflict(append('s', [makeEvent('s-2')], 0), 's', 0, 1);
      await expectConflict(append('s', [makeEvent('s-2')], 2), 's', 2, 1);
      const result = await append('s', [makeEvent('s-2')], 1);
      expect(result.nextExpectedRevision).toBe(2);
      expect((await append('s', makeEvents('s', 2, 3), 2)).nextExpectedRevision).toBe(4);
    });

    it('any: succeeds whether or not the stream exists', async () => {
      await append('s', [makeEvent('s-0')], 'any');
      const result = await append('s', [makeEvent('s-1')], 'any');
      expect(result.nextExpectedRevision).toBe(1);
    });

    it('a refused append writes nothing', async () => {
      const { lastPosition } = await append('s', makeEvents('s', 2));
      await expectConflict(append('s', makeEvents('x', 3), 5), 's', 5, 1);
      await expectConflict(append('s', makeEvents('x', 3), 'noStream'), 's', 'noStream', 1);
      expect(await suite.store.headPosition()).toBe(lastPosition);
      expect(idsOf(await readAll())).toEqual(['s-0', 's-1']);
      // The ids of a refused append are free: they were never stored.
      const result = await append('s', makeEvents('x', 3), 1);
      expect(result.alreadyStored).toBe(false);
      expect(result.nextExpectedRevision).toBe(4);
    });
  });
};

/** Writers racing for the same revision of one stream. */
export const describeConcurrency = (suite: ContractSuite): void => {
  const { append, readStream, readAll, expectConflict, expectPositionsAfter } = suite;
  describe('concurrency', () => {
    it('two writers with the same expected revision: exactly one wins, the other gets a conflict', async () => {
      const { nextExpectedRevision } = await append('deal-1', makeEvents('deal-1', 3));
      const outcomes = await Promise.allSettled([
        append('deal-1', [makeEvent('writer-a')], nextExpectedRevision),
        append('deal-1', [makeEvent('writer-b')], nextExpectedRevision),
      ]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      await expectConflict(Promise.reject(lost[0]?.reason), 'deal-1', 2, 3);
      const stream = await readStream('deal-1');
      expect(stream.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
      expect(['writer-a', 'writer-b']).toContain(stream[3]?.id);
    });

    it('ten writers racing for a new stream: one creates it, nine are refused with noStream conflicts', async () => {
      const outcomes = await Promise.allSettled(
        range(0, 10).map((i) => append('race', makeEvents(`racer-${i}`, 2), 'noStream')),
      );
      const won = outcomes.filter((o): o is PromiseFulfilledResult<AppendResult> => o.status === 'fulfilled');
      expect(won).toHaveLength(1);
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(refused).toHaveLength(9);
      for (const outcome of refused) {
        expect(outcome.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect(outcome.reason).toMatchObject({ expected: 'noStream', actual: 1 });
      }
      const winner = won[0]?.value;
      expectPositionsAfter(positionsOf(winner?.events ?? []), -1);
      expect(await suite.store.headPosition()).toBe(winner?.lastPosition);
      expect(await readAll()).toEqual(winner?.events);
    });
  });
};

/** An append lands whole or not at all, with no other event between its events. */
export const describeAtomicBatches = (suite: ContractSuite): void => {
  const { append, readStream, readAll, expectDuplicate, expectPositionsAfter } = suite;
  describe('atomic batches', () => {
    it('concurrent batches to different streams each occupy consecutive positions', async () => {
      const results = await Promise.all(
        range(0, 6).map((i) => append(`batch-${i}`, makeEvents(`batch-${i}`, 4))),
      );
      const all = await readAll();
      expect(all).toHaveLength(24);
      expectPositionsAfter(positionsOf(all), -1);
      for (let start = 0; start < 24; start += 4) {
        const batch = all.slice(start, start + 4);
        expect(new Set(batch.map((e) => e.stream)).size).toBe(1);
        expect(batch.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
        // Read back where the append said it put them: no event of another batch between them.
        expect(results.find((r) => r.stream === batch[0]?.stream)?.events).toEqual(batch);
      }
    });

    it('a batch refused by its last event writes none of its events', async () => {
      const taken = await append('elsewhere', [makeEvent('taken')]);
      await expectDuplicate(append('s', [...makeEvents('s', 3), makeEvent('taken')]), 'taken');
      expect(await readStream('s')).toEqual([]);
      expect(await suite.store.headPosition()).toBe(taken.lastPosition);
    });
  });
};
