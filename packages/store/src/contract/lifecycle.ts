// Closing a store, and reopening a durable one over the same storage.
import { computeDigest, verifyStore } from '../audit';
import { StoreClosedError } from '../errors';
import { makeEvent, makeEvents, collect, idsOf, within } from './fixtures';
import type { ContractSuite } from './suite';

/** Every call after close fails with StoreClosedError. */
export const describeClosing = (suite: ContractSuite): void => {
  const { deliveryTimeoutMs, append, readStream, readAll, subscription } = suite;
  describe('closing', () => {
    it('after close every call fails with StoreClosedError; closing twice is harmless', async () => {
      await append('s', makeEvents('s', 2));
      await suite.store.close();
      await expect(append('s', [makeEvent('late')])).rejects.toThrow(StoreClosedError);
      await expect(readStream('s')).rejects.toThrow(StoreClosedError);
      await expect(readAll()).rejects.toThrow(StoreClosedError);
      await expect(collect(suite.store.subscribe())).rejects.toThrow(StoreClosedError);
      await expect(suite.store.headPosition()).rejects.toThrow(StoreClosedError);
      await expect(suite.store.close()).resolves.toBeUndefined();
    });

    it('close ends a waiting subscription with StoreClosedError', async () => {
      const iterator = subscription();
      expect(await within(iterator.next(), 'caughtUp', deliveryTimeoutMs)).toMatchObject({
        value: { kind: 'caughtUp' },
      });
      const waiting = iterator.next();
      await suite.store.close();
      await expect(within(waiting, 'end after close', deliveryTimeoutMs)).rejects.toThrow(StoreClosedError);
    });
  });
};

/** A durable store keeps everything across a reopen (declared only for one). */
export const describeReopening = (suite: ContractSuite): void => {
  const {
    describeReopen,
    append,
    readStream,
    readAll,
    appendInterleaved,
    expectConflict,
    expectDuplicate,
    expectFollows,
  } = suite;
  describeReopen('reopen', () => {
    const reopen = async (): Promise<void> => {
      if (suite.handle.reopen === undefined)
        throw new Error('canReopen is set but the setup returned no reopen()');
      suite.store = await suite.handle.reopen();
    };

    it('keeps every event, revision, position and hash across a reopen', async () => {
      const before = await appendInterleaved({ a: 4, b: 3 });
      const head = before[6]?.position as number;
      const digest = await computeDigest(suite.store);
      await reopen();
      expect(await readAll()).toEqual(before);
      expect(await readStream('a')).toEqual(before.filter((e) => e.stream === 'a'));
      expect(await suite.store.headPosition()).toBe(head);
      expect(await computeDigest(suite.store)).toEqual(digest);
      const result = await append('a', [makeEvent('a-4', 4)], 3);
      expect(result.events[0]).toMatchObject({ revision: 4, prevHash: before[6]?.hash });
      expectFollows(result.lastPosition, head);
      expect((await verifyStore(suite.store)).ok).toBe(true);
    });

    it('still recognises retries and conflicts after a reopen', async () => {
      const first = await append('s', makeEvents('s', 2), 'noStream');
      await reopen();
      const again = await append('s', makeEvents('s', 2), 'noStream');
      expect(again.alreadyStored).toBe(true);
      expect(again.events).toEqual(first.events);
      await expectDuplicate(append('s', [makeEvent('s-0', 0, { data: { other: true } })]), 's-0');
      await expectConflict(append('s', [makeEvent('s-2')], 0), 's', 0, 1);
      await reopen();
      await reopen();
      expect(idsOf(await readAll())).toEqual(['s-0', 's-1']);
    });
  });
};
