// Idempotent appends: a retry of the same facts changes nothing; the same id with another body is refused.
import { at, makeEvent, makeEvents, idsOf } from './fixtures';
import type { ContractSuite } from './suite';

/** Retries recognised by event id and body. */
export const describeIdempotentAppends = (suite: ContractSuite): void => {
  const { append, readStream, readAll, expectDuplicate } = suite;
  describe('idempotent appends', () => {
    it('the same ids and bodies again change nothing and return the first result', async () => {
      const events = makeEvents('once', 3);
      const first = await append('once', events, 'noStream');
      const other = await append('other', makeEvents('other', 2));
      // A retry of the same facts, recorded later by another process: still the same events.
      const retried = events.map((e) => ({
        ...e,
        recordedAt: at(999),
        actor: 'test:retry',
        correlationId: 'r',
      }));
      const again = await append('once', retried, 'noStream');
      expect(again.alreadyStored).toBe(true);
      expect(again.events).toEqual(first.events);
      expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
      expect(again.lastPosition).toBe(first.lastPosition);
      expect(await suite.store.headPosition()).toBe(other.lastPosition);
      expect(await readStream('once')).toEqual(first.events);
    });

    it('a retry is recognised after the stream has moved on, whatever revision it expected', async () => {
      const first = await append('moving', [makeEvent('moving-0')], 'noStream');
      const moved = await append('moving', makeEvents('moving', 2, 1), 0);
      const again = await append('moving', [makeEvent('moving-0')], 'noStream');
      expect(again).toMatchObject({
        alreadyStored: true,
        nextExpectedRevision: 0,
        lastPosition: first.lastPosition,
      });
      expect(again.events).toEqual(first.events);
      expect(await suite.store.headPosition()).toBe(moved.lastPosition);
    });

    it('the same id with another body is refused, and nothing of the batch is written', async () => {
      await append('s', [makeEvent('fact-1', 1)]);
      const changed = makeEvent('fact-1', 1, { data: { n: 1, note: 'something else' } });
      await expectDuplicate(append('s', [changed]), 'fact-1');
      await expectDuplicate(append('s', [makeEvent('fact-1', 1, { type: 'OtherType' })]), 'fact-1');
      await expectDuplicate(append('s', [makeEvent('fact-1', 1, { occurredAt: at(77) })]), 'fact-1');
      await expectDuplicate(append('s', [makeEvent('fresh-1'), makeEvent('fresh-2'), changed]), 'fact-1');
      expect(idsOf(await readAll())).toEqual(['fact-1']);
    });

    it('an id stored in another stream is refused', async () => {
      await append('s', [makeEvent('shared-id')]);
      await expectDuplicate(append('t', [makeEvent('shared-id')]), 'shared-id');
      expect(await readStream('t')).toEqual([]);
    });

    it('an id twice in one append, or a retry that is only partly stored, is refused', async () => {
      await expectDuplicate(append('s', [makeEvent('twice'), makeEvent('twice')]), 'twice');
      await append('s', [makeEvent('p-0')]);
      await expectDuplicate(append('s', [makeEvent('p-0'), makeEvent('p-1')]), 'p-0');
      expect(idsOf(await readAll())).toEqual(['p-0']);
    });
  });
};
