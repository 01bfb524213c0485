import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, newEvent } from '@partner-ledger/events';
import type { RecordedEvent } from '@partner-ledger/events';
import { computeDigest, createInMemoryStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { openFileStore } from '@partner-ledger/store-file';
import { simulate } from './simulate';
import { createWriteBehindStore } from './write-behind';

const all = async (store: EventStore): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
};

const adjustment = (n: number) =>
  newEvent(
    'ManualAdjustmentRecorded',
    { adjustmentId: `adj-${n}`, partnerId: 'p1', amount: `${n}.00`, currency: 'USD', reason: 'test' },
    {
      id: `evt-${n}`,
      occurredAt: '2026-01-01T00:00:00.000Z',
      recordedAt: '2026-01-01T00:00:00.000Z',
      actor: 'test',
      correlationId: 'c',
      causationId: null,
    },
  );

describe('the write-behind bulk loader', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-write-behind-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('checks append conditions where it assigns positions, and passes the tags on to the target', async () => {
    const target = createInMemoryStore();
    const behind = await createWriteBehindStore(target);
    const first = await behind.append('balance-p1', [adjustment(1)], { tags: ['partner:p1'] });
    const second = await behind.append('balance-p2', [adjustment(2)], { tags: ['partner:p1'] });
    await expect(
      behind.append('balance-p3', [adjustment(3)], {
        condition: { failIfTagged: ['partner:p1'], after: first.lastPosition },
      }),
    ).rejects.toMatchObject({
      code: 'APPEND_CONDITION_FAILED',
      tag: 'partner:p1',
      position: second.lastPosition,
    });
    await behind.flush();
    // The target knows the tags too: a writer on it directly is held to them.
    await expect(
      target.append('balance-p3', [adjustment(3)], {
        condition: { failIfTagged: ['partner:p1'], after: first.lastPosition },
      }),
    ).rejects.toMatchObject({ code: 'APPEND_CONDITION_FAILED' });
    await behind.append('balance-p3', [adjustment(3)], {
      condition: { failIfTagged: ['partner:p1'], after: second.lastPosition },
    });
    await behind.flush();
    expect((await all(target)).map((e) => e.id)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    await behind.close();
  });

  it('gives the same ledger as a direct run: a simulation is the same on memory and behind a file store', async () => {
    const options = { partners: 8, events: 800, seed: 'same', days: 40 };
    const memory = createInMemoryStore();
    await simulate(memory, options);
    const file = await openFileStore({ directory: join(root, 'simulated') });
    const behind = await createWriteBehindStore(file);
    await simulate(behind, options);
    await behind.close();
    const reopened = await openFileStore({ directory: join(root, 'simulated'), readOnly: true });
    expect((await all(reopened)).map((e) => canonicalJson(e))).toEqual(
      (await all(memory)).map((e) => canonicalJson(e)),
    );
    expect(await computeDigest(reopened)).toEqual(await computeDigest(memory));
    await reopened.close();
  });

  it('reads what it acknowledged before it is durable, and checks the expected revision', async () => {
    const file = await openFileStore({ directory: join(root, 'reads') });
    const behind = await createWriteBehindStore(file, { maxInFlight: 1000 });
    const results = await Promise.all([1, 2, 3].map((n) => behind.append('balance-p1', [adjustment(n)])));
    expect(results.map((r) => r.lastPosition)).toEqual([0, 1, 2]);
    expect(await behind.headPosition()).toBe(2);
    const stream: RecordedEvent[] = [];
    for await (const event of behind.readStream('balance-p1', { direction: 'backwards', maxCount: 2 }))
      stream.push(event);
    expect(stream.map((e) => e.revision)).toEqual([2, 1]);
    expect((await all(behind)).map((e) => e.id)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    await expect(behind.append('balance-p1', [adjustment(4)], { expectedRevision: 0 })).rejects.toThrow(
      'expected revision 0',
    );
    const retry = await behind.append('balance-p1', [adjustment(3)]);
    expect(retry.alreadyStored).toBe(true);
    await behind.flush();
    expect((await all(file)).map((e) => e.hash)).toEqual(results.map((r) => r.events[0]!.hash));
    await behind.close();
  });

  it('stops at the first write the target records differently', async () => {
    const target = createInMemoryStore();
    const behind = await createWriteBehindStore(target);
    await behind.append('s', [adjustment(1)]);
    await target.append('other', [adjustment(2)]); // another writer: positions no longer as predicted
    await behind.append('s', [adjustment(3)]);
    await expect(behind.flush()).rejects.toThrow('differently than predicted');
    await expect(behind.append('s', [adjustment(4)])).rejects.toThrow('differently than predicted');
  });
});
