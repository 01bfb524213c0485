import * as E from 'fp-ts/Either';
import { createInMemoryStore } from '@partner-ledger/store';
import { createLedger } from './ledger';
import type { Ledger } from './ledger';
import { basicProgram, clickTracked } from './testing/fixtures';
import { SPEC_NOW, appendGiven } from './testing/spec';

// Hold, release and reject are idempotent by their own identity: a requestId, else their occurredAt. A file
// that holds a line, imported again after another file released it, must not hold it again.

const setUp = async (): Promise<{ ledger: Ledger; lineId: string; count: () => Promise<number> }> => {
  const store = createInMemoryStore();
  await appendGiven(store, [
    ...basicProgram('p1'),
    clickTracked('c1', 'p1', 'v1', '2026-03-14T10:00:00.000Z'),
  ]);
  const ledger = createLedger({ store, clock: () => new Date(SPEC_NOW), ids: () => 'x' });
  const recorded = await ledger.recordConversion({
    conversionId: 'o1',
    customerId: 'k1',
    visitorId: 'v1',
    kind: 'order',
    amount: '100.00',
    currency: 'USD',
    occurredAt: '2026-03-15T10:00:00.000Z',
  })();
  if (E.isLeft(recorded)) throw new Error(recorded.left.message);
  const event = recorded.right.events[0]!;
  if (event.type !== 'ConversionAttributed') throw new Error(event.type);
  const count = async () => {
    let n = 0;
    for await (const _ of store.readAll()) n += 1;
    return n;
  };
  return { ledger, lineId: event.data.commissions[0]!.lineId, count };
};

describe('hold, release and reject: idempotent by their identity', () => {
  it('a hold repeated after a release (same occurredAt) is already recorded and appends nothing', async () => {
    const { ledger, lineId, count } = await setUp();
    const hold = { conversionId: 'o1', lineId, reason: 'review', occurredAt: '2026-03-15T11:00:00.000Z' };
    expect(await ledger.holdCommission(hold)()).toMatchObject({ right: { alreadyRecorded: false } });
    const release = { conversionId: 'o1', lineId, note: null, occurredAt: '2026-03-15T11:30:00.000Z' };
    expect(await ledger.releaseCommission(release)()).toMatchObject({ right: { alreadyRecorded: false } });
    const before = await count();
    expect(await ledger.holdCommission(hold)()).toMatchObject({
      right: { alreadyRecorded: true, events: [{ type: 'CommissionHeld' }] },
    });
    expect(await ledger.releaseCommission(release)()).toMatchObject({ right: { alreadyRecorded: true } });
    expect(await count()).toBe(before);
    // The line is pending: a new hold (another moment) is recorded.
    expect(await ledger.holdCommission({ ...hold, occurredAt: '2026-03-15T11:45:00.000Z' })()).toMatchObject({
      right: { alreadyRecorded: false },
    });
  });

  it('by requestId: a repeat is already recorded, the same id with other details is a conflict', async () => {
    const { ledger, lineId, count } = await setUp();
    const hold = { conversionId: 'o1', lineId, reason: 'review', requestId: 'h-1' };
    expect(await ledger.holdCommission(hold)()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(
      await ledger.releaseCommission({ conversionId: 'o1', lineId, note: null, requestId: 'r-1' })(),
    ).toMatchObject({ right: { alreadyRecorded: false } });
    const before = await count();
    expect(await ledger.holdCommission(hold)()).toMatchObject({ right: { alreadyRecorded: true } });
    expect(await ledger.holdCommission({ ...hold, reason: 'other' })()).toMatchObject({
      left: { code: 'IDEMPOTENCY_CONFLICT', field: 'requestId' },
    });
    expect(
      await ledger.rejectCommission({ conversionId: 'o1', lineId, reason: 'x', requestId: 'h-1' })(),
    ).toMatchObject({ left: { code: 'IDEMPOTENCY_CONFLICT', field: 'requestId' } });
    expect(await count()).toBe(before);
    const reject = { conversionId: 'o1', lineId, reason: 'fraud', requestId: 'j-1' };
    expect(await ledger.rejectCommission(reject)()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(await ledger.rejectCommission(reject)()).toMatchObject({ right: { alreadyRecorded: true } });
  });

  it('without an identity, a second hold of a held line is still refused', async () => {
    const { ledger, lineId } = await setUp();
    const hold = { conversionId: 'o1', lineId, reason: 'review' };
    expect(await ledger.holdCommission(hold)()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(await ledger.holdCommission(hold)()).toMatchObject({ left: { code: 'LINE_NOT_PENDING' } });
  });
});
