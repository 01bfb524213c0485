// Subscriptions: catch-up, the one caughtUp signal, live delivery, and ending on abort.
import type { SubscriptionMessage } from '../port';
import { makeEvents, collect, positionsOf, within, stillPending } from './fixtures';
import type { ContractSuite } from './suite';

/** Catch-up and live delivery, exactly once, to every subscriber. */
export const describeSubscriptions = (suite: ContractSuite): void => {
  const {
    dense,
    deliveryTimeoutMs,
    append,
    readStream,
    readAll,
    subscription,
    appendInterleaved,
    expectPositionsAfter,
  } = suite;
  describe('subscriptions', () => {
    /** Reads the next message, failing if none comes in time; undefined when the subscription ended. */
    const nextMessage = async (
      iterator: AsyncIterator<SubscriptionMessage>,
    ): Promise<SubscriptionMessage | undefined> => {
      const result = await within(iterator.next(), 'subscription', deliveryTimeoutMs);
      return result.done === true ? undefined : result.value;
    };
    const describeMessage = (m: SubscriptionMessage | undefined): string | number =>
      m === undefined ? 'end' : m.kind === 'caughtUp' ? `caughtUp@${m.position}` : m.event.position;

    it('catches up, signals caughtUp once, then delivers live events, and ends on abort', async () => {
      const before = positionsOf(await appendInterleaved({ a: 3, b: 2 }));
      expectPositionsAfter(before, -1);
      const head = before[4] as number;
      const controller = new AbortController();
      const iterator = subscription({ signal: controller.signal });
      const seen: (string | number)[] = [];
      for (let i = 0; i < 6; i += 1) seen.push(describeMessage(await nextMessage(iterator)));
      expect(seen).toEqual([...before, `caughtUp@${head}`]);
      const pending = iterator.next();
      expect(await stillPending(pending, 30)).toBe(true);
      const c = await append('c', makeEvents('c', 2));
      expectPositionsAfter(positionsOf(c.events), head);
      const live = await within(pending, 'live event', deliveryTimeoutMs);
      expect(live.done).toBe(false);
      expect(live.value).toMatchObject({
        kind: 'event',
        event: { id: 'c-0', position: c.events[0]?.position },
      });
      const second = await nextMessage(iterator);
      expect(second).toMatchObject({
        kind: 'event',
        event: { id: 'c-1', position: c.events[1]?.position, prevHash: expect.any(String) },
      });
      // The delivered event is the stored event.
      expect(second?.kind === 'event' ? second.event : undefined).toEqual((await readStream('c'))[1]);
      const waiting = iterator.next();
      controller.abort();
      expect(await within(waiting, 'end after abort', deliveryTimeoutMs)).toEqual({
        done: true,
        value: undefined,
      });
    });

    it('starts at a position, and on an empty store catches up at once (position -1)', async () => {
      const controller = new AbortController();
      const empty = subscription({ signal: controller.signal });
      expect(await nextMessage(empty)).toEqual({ kind: 'caughtUp', position: -1 });
      const positions = positionsOf((await append('s', makeEvents('s', 5))).events);
      expectPositionsAfter(positions, -1);
      const [, p1, p2, p3, p4] = positions as [number, number, number, number, number];
      const fromMiddle = subscription({ fromPosition: p3, signal: controller.signal });
      const seen: (string | number)[] = [];
      for (let i = 0; i < 3; i += 1) seen.push(describeMessage(await nextMessage(fromMiddle)));
      expect(seen).toEqual([p3, p4, `caughtUp@${p4}`]);
      // Resuming after a checkpoint: from the position of the last event handled + 1.
      const resumed = subscription({ fromPosition: p1 + 1, signal: controller.signal });
      const resumedSeen: (string | number)[] = [];
      for (let i = 0; i < 4; i += 1) resumedSeen.push(describeMessage(await nextMessage(resumed)));
      expect(resumedSeen).toEqual([p2, p3, p4, `caughtUp@${p4}`]);
      const live: (string | number)[] = [];
      for (let i = 0; i < 5; i += 1) live.push(describeMessage(await nextMessage(empty)));
      expect(live).toEqual(positions);
      controller.abort();
      expect(await nextMessage(empty)).toBeUndefined();
      expect(await nextMessage(fromMiddle)).toBeUndefined();
      expect(await nextMessage(resumed)).toBeUndefined();
    });

    it('a subscription that starts past the head catches up at once and skips events below its start', async () => {
      const { lastPosition: head } = await append('s', makeEvents('s', 3));
      // Dense: a position two events ahead of the head. Increasing: the only one known to be past the head.
      const start = dense ? head + 3 : head + 1;
      const controller = new AbortController();
      const ahead = subscription({ fromPosition: start, signal: controller.signal });
      expect(await nextMessage(ahead)).toEqual({ kind: 'caughtUp', position: head });
      const later = positionsOf((await append('s', makeEvents('s', 4, 3))).events);
      expectPositionsAfter(later, head);
      const expected = later.filter((p) => p >= start);
      const seen: (string | number)[] = [];
      for (let i = 0; i < expected.length; i += 1) seen.push(describeMessage(await nextMessage(ahead)));
      expect(seen).toEqual(expected);
      controller.abort();
      expect(await nextMessage(ahead)).toBeUndefined();
    });

    it('delivers every event exactly once when appends race the catch-up', async () => {
      for (let i = 0; i < 10; i += 1) await append(`s-${i % 3}`, makeEvents(`pre-${i}`, 10));
      const controller = new AbortController();
      const iterator = subscription({ signal: controller.signal });
      // One append starts before the subscriber reads anything, others while it is catching up.
      const racing: Promise<unknown>[] = [append('racer', makeEvents('racer-a', 3))];
      const delivered: number[] = [];
      let caughtUpAt: number | undefined;
      let caughtUpCount = 0;
      let appendedAfterCatchUp = false;
      const total = 100 + 3 + 3 * 5 + 4;
      while (delivered.length < total) {
        const message = await nextMessage(iterator);
        if (message === undefined) throw new Error('the subscription ended early');
        if (message.kind === 'caughtUp') {
          caughtUpCount += 1;
          caughtUpAt = message.position;
          expect(delivered[delivered.length - 1]).toBe(message.position);
          if (!appendedAfterCatchUp) {
            appendedAfterCatchUp = true;
            racing.push(append('after', makeEvents('after', 4)));
          }
          continue;
        }
        delivered.push(message.event.position);
        if ([1, 20, 50].includes(delivered.length)) {
          racing.push(append(`racer-${delivered.length}`, makeEvents(`r${delivered.length}`, 5)));
        }
      }
      await Promise.all(racing);
      const all = positionsOf(await readAll());
      expectPositionsAfter(all, -1);
      expect(delivered).toEqual(all);
      expect(caughtUpCount).toBe(1);
      // At least the 100 events appended before the subscription started.
      expect(caughtUpAt).toBeGreaterThanOrEqual(all[99] as number);
      controller.abort();
      expect(await nextMessage(iterator)).toBeUndefined();
    });

    it('serves several subscribers at once, each with every event', async () => {
      const controller = new AbortController();
      const first = subscription({ signal: controller.signal });
      const second = subscription({ signal: controller.signal });
      expect(await nextMessage(first)).toEqual({ kind: 'caughtUp', position: -1 });
      expect(await nextMessage(second)).toEqual({ kind: 'caughtUp', position: -1 });
      const { events } = await append('s', makeEvents('s', 3));
      expectPositionsAfter(positionsOf(events), -1);
      for (const iterator of [first, second]) {
        const seen: (string | number)[] = [];
        for (let i = 0; i < 3; i += 1) seen.push(describeMessage(await nextMessage(iterator)));
        expect(seen).toEqual(positionsOf(events));
      }
      controller.abort();
    });

    it('an already aborted signal delivers nothing', async () => {
      await append('s', makeEvents('s', 3));
      const controller = new AbortController();
      controller.abort();
      expect(
        await within(
          collect(suite.store.subscribe({ signal: controller.signal })),
          'abort',
          deliveryTimeoutMs,
        ),
      ).toEqual([]);
    });
  });
};
