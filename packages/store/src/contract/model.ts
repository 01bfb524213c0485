// Randomized appends checked against a simple model of the port, repeatable by seed.
import type { NewEvent } from '@partner-ledger/events';
import { verifyStore } from '../audit';
import type { ExpectedRevision } from '../port';
import { makeEvent, positionsOf, idsOf, range, seededRandom } from './fixtures';
import type { ContractSuite } from './suite';

/** Sixty random appends per seed, compared with the model. */
export const describeRandomizedModel = (suite: ContractSuite): void => {
  const { append, readStream, readAll, expectConflict, expectPositionsAfter } = suite;
  describe('randomized appends against a model', () => {
    for (const seed of [1, 7, 2026]) {
      it(`agrees with a simple model of the port (seed ${seed})`, async () => {
        const random = seededRandom(seed);
        const streams = ['s0', 's1', 's2', 's3'];
        const model = {
          log: [] as { id: string; stream: string; position: number }[],
          revisions: new Map<string, number>(),
        };
        const batches: { stream: string; events: NewEvent[] }[] = [];
        let nextId = 0;
        for (let step = 0; step < 60; step += 1) {
          const choice = random(10);
          if (choice === 0 && batches.length > 0) {
            // An idempotent retry of an earlier batch, whatever it expects.
            const batch = batches[random(batches.length)] as { stream: string; events: NewEvent[] };
            const result = await append(batch.stream, batch.events, random(2) === 0 ? 'noStream' : 0);
            expect(result.alreadyStored).toBe(true);
            expect(idsOf(result.events)).toEqual(idsOf(batch.events));
            continue;
          }
          const stream = streams[random(streams.length)] as string;
          const events = range(0, 1 + random(3)).map(() => makeEvent(`m-${seed}-${(nextId += 1)}`, nextId));
          const current = model.revisions.get(stream);
          const expected: ExpectedRevision = [
            'any',
            'noStream',
            'streamExists',
            current ?? 0,
            (current ?? -1) + 1 + random(2),
          ][random(5)] as ExpectedRevision;
          const holds =
            expected === 'any' ||
            (expected === 'noStream' && current === undefined) ||
            (expected === 'streamExists' && current !== undefined) ||
            expected === current;
          if (holds) {
            const result = await append(stream, events, expected);
            const first = (current ?? -1) + 1;
            expect(result.events.map((e) => e.revision)).toEqual(events.map((_, i) => first + i));
            expectPositionsAfter(positionsOf(result.events), model.log[model.log.length - 1]?.position ?? -1);
            result.events.forEach((e) => model.log.push({ id: e.id, stream, position: e.position }));
            model.revisions.set(stream, first + events.length - 1);
            batches.push({ stream, events });
          } else {
            await expectConflict(append(stream, events, expected), stream, expected, current ?? 'noStream');
          }
        }
        const all = await readAll({ pageSize: 1 + random(8) });
        expect(all.map((e) => ({ id: e.id, stream: e.stream, position: e.position }))).toEqual(model.log);
        for (const stream of streams) {
          const events = await readStream(stream);
          expect(idsOf(events)).toEqual(model.log.filter((e) => e.stream === stream).map((e) => e.id));
        }
        expect((await verifyStore(suite.store)).ok).toBe(true);
      });
    }
  });
};
