// Append conditions and tags: an append that fails when an event with one of its tags was stored after
// a position, so that a decision made on a read is refused once that read is stale.
import { AppendConditionFailedError, StoreError } from '../errors';
import type { AppendOptions, AppendResult } from '../port';
import { makeEvent, makeEvents, idsOf, range } from './fixtures';
import type { ContractSuite } from './suite';

/** Fails unless `promise` rejects with an AppendConditionFailedError naming this tag and position. */
const expectConditionFailed = async (
  promise: Promise<unknown>,
  tag: string,
  position: number,
): Promise<void> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppendConditionFailedError);
  expect(error).toBeInstanceOf(StoreError);
  expect(error).toMatchObject({ code: 'APPEND_CONDITION_FAILED', tag, position });
};

/** Conditions and tags on one open store. */
export const describeAppendConditions = (suite: ContractSuite): void => {
  const { readAll, expectFollows } = suite;

  describe('append conditions and tags', () => {
    it('a condition holds when no event with its tags was stored after `after`', async () => {
      const tagged = await suite.store.append('balance-p1', [makeEvent('pay-1', 1)], {
        tags: ['partner:p1'],
      });
      const other = await suite.store.append('conversion-o1', [makeEvent('conv-1', 2)], {
        tags: ['partner:p2'],
      });
      // p1's last event is at or before `after`; p2's is later but not asked about.
      const result = await suite.store.append('balance-p1', [makeEvent('pay-2', 3)], {
        tags: ['partner:p1'],
        condition: { failIfTagged: ['partner:p1'], after: tagged.lastPosition },
      });
      expect(result.alreadyStored).toBe(false);
      expectFollows(result.lastPosition, other.lastPosition);
      // On an empty tag history, -1 is caught up.
      await suite.store.append('fresh', [makeEvent('fresh-1', 4)], {
        condition: { failIfTagged: ['partner:nobody'], after: -1 },
      });
      expect(idsOf(await readAll())).toEqual(['pay-1', 'conv-1', 'pay-2', 'fresh-1']);
    });

    it('fails, writing nothing, when an event with one of its tags was stored after `after`', async () => {
      const read = await suite.store.append('balance-p1', [makeEvent('pay-1', 1)], { tags: ['partner:p1'] });
      const reversal = await suite.store.append('conversion-o2', [makeEvent('rev-1', 2)], {
        tags: ['partner:p1', 'customer:c1'],
      });
      await expectConditionFailed(
        suite.store.append('balance-p1', [makeEvent('pay-2', 3)], {
          tags: ['partner:p1'],
          condition: { failIfTagged: ['partner:p9', 'partner:p1'], after: read.lastPosition },
        }),
        'partner:p1',
        reversal.lastPosition,
      );
      await expectConditionFailed(
        suite.store.append('other', [makeEvent('x-1', 3)], {
          condition: { failIfTagged: ['customer:c1'], after: read.lastPosition },
        }),
        'customer:c1',
        reversal.lastPosition,
      );
      expect(idsOf(await readAll())).toEqual(['pay-1', 'rev-1']);
      expect(await suite.store.headPosition()).toBe(reversal.lastPosition);
      // Caught up to the reversal, the same decision may be recorded.
      await suite.store.append('balance-p1', [makeEvent('pay-2', 3)], {
        tags: ['partner:p1'],
        condition: { failIfTagged: ['partner:p1'], after: reversal.lastPosition },
      });
      expect(idsOf(await readAll())).toEqual(['pay-1', 'rev-1', 'pay-2']);
    });

    it('events appended without tags, or with other tags, do not break a condition', async () => {
      const read = await suite.store.append('balance-p1', [makeEvent('pay-1', 1)], { tags: ['partner:p1'] });
      await suite.store.append('conversion-o1', makeEvents('untagged', 3));
      await suite.store.append('conversion-o2', [makeEvent('p2-line', 5)], { tags: ['partner:p2'] });
      await suite.store.append('balance-p1', [makeEvent('pay-2', 6)], {
        condition: { failIfTagged: ['partner:p1'], after: read.lastPosition },
      });
      expect(idsOf(await readAll())).toEqual([
        'pay-1',
        'untagged-0',
        'untagged-1',
        'untagged-2',
        'p2-line',
        'pay-2',
      ]);
    });

    it('an idempotent retry is recognised before the condition: it succeeds even when the condition now fails', async () => {
      const options = {
        expectedRevision: 'noStream' as const,
        tags: ['partner:p1'],
        condition: { failIfTagged: ['partner:p1'], after: -1 },
      };
      const first = await suite.store.append('balance-p1', [makeEvent('pay-1', 1)], options);
      await suite.store.append('conversion-o1', [makeEvent('rev-1', 2)], { tags: ['partner:p1'] });
      const again = await suite.store.append('balance-p1', [makeEvent('pay-1', 1)], options);
      expect(again.alreadyStored).toBe(true);
      expect(again.events).toEqual(first.events);
      expect(idsOf(await readAll())).toEqual(['pay-1', 'rev-1']);
    });

    it("rejects tags and conditions that are not of the port's form, naming the field", async () => {
      const bad = [
        { tags: [''] },
        { tags: 'partner:p1' },
        { condition: { failIfTagged: ['partner:p1'], after: -2 } },
        { condition: { failIfTagged: ['partner:p1'], after: 1.5 } },
        { condition: { failIfTagged: [''], after: 0 } },
      ];
      for (const options of bad) {
        const error: unknown = await suite.store
          .append('s', [makeEvent('s-0')], options as unknown as AppendOptions)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(StoreError);
        expect((error as Error).message).toMatch(/tags|failIfTagged|after/);
      }
      expect(await readAll()).toEqual([]);
    });

    it('ten conditional appends on one tag, to different streams, decided on the same read: exactly one wins', async () => {
      const seen = await suite.store.append('setup', [makeEvent('setup-0')], { tags: ['partner:p1'] });
      const outcomes = await Promise.allSettled(
        range(0, 10).map((i) =>
          suite.store.append(`writer-${i}`, [makeEvent(`writer-${i}`, i)], {
            tags: ['partner:p1'],
            condition: { failIfTagged: ['partner:p1'], after: seen.lastPosition },
          }),
        ),
      );
      const won = outcomes.filter((o): o is PromiseFulfilledResult<AppendResult> => o.status === 'fulfilled');
      expect(won).toHaveLength(1);
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      for (const outcome of refused) {
        expect(outcome.reason).toBeInstanceOf(AppendConditionFailedError);
        expect(outcome.reason).toMatchObject({ tag: 'partner:p1', position: won[0]?.value.lastPosition });
      }
      expect(idsOf(await readAll())).toEqual(['setup-0', won[0]?.value.events[0]?.id]);
    });
  });
};

/** The tag history survives a reopen (durable stores). */
export const describeAppendConditionsAcrossReopen = (suite: ContractSuite): void => {
  const { describeReopen, readAll } = suite;
  describeReopen('append conditions across a reopen', () => {
    it('a tag stored before a reopen still breaks a condition whose `after` is below it', async () => {
      if (suite.handle.reopen === undefined)
        throw new Error('canReopen is set but the setup returned no reopen()');
      const before = await suite.store.append('a', [makeEvent('a-0')]);
      const tagged = await suite.store.append('b', [makeEvent('b-0', 1)], { tags: ['partner:p1'] });
      suite.store = await suite.handle.reopen();
      await expectConditionFailed(
        suite.store.append('c', [makeEvent('c-0', 2)], {
          condition: { failIfTagged: ['partner:p1'], after: before.lastPosition },
        }),
        'partner:p1',
        tagged.lastPosition,
      );
      // Caught up to the head, the condition holds.
      await suite.store.append('c', [makeEvent('c-0', 2)], {
        tags: ['partner:p1'],
        condition: { failIfTagged: ['partner:p1'], after: tagged.lastPosition },
      });
      expect(idsOf(await readAll())).toEqual(['a-0', 'b-0', 'c-0']);
    });
  });
};
