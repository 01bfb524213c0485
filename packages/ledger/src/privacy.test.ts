import * as E from 'fp-ts/Either';
import { createInMemoryKeyStore } from '@partner-ledger/events';
import type { KeyStoreContents } from '@partner-ledger/events';
import { createInMemoryStore } from '@partner-ledger/store';
import { createLedger } from './ledger';
import { ALL_VISITORS, createPersonalDataOperations, pseudonymizeVisitors } from './privacy';
import { basicProgram } from './testing/fixtures';
import { SPEC_NOW, appendGiven } from './testing/spec';

// docs/privacy.md: "Only a new visitor's click or conversion makes the next key". A click the ledger refuses
// (its partner not joined; its click id recorded before, under the key erased since) must append nothing
// and leave no key behind, or the key store holds key material that nothing needs, and `export-subject`
// and `erase --visitor` would find a key where no visitor was recorded.

const setUp = async () => {
  const store = createInMemoryStore();
  await appendGiven(store, basicProgram('p1'));
  const changes: KeyStoreContents[] = [];
  const keys = createInMemoryKeyStore({ onChange: async (contents) => void changes.push(contents) });
  const ledger = createLedger({
    store,
    clock: () => new Date(SPEC_NOW),
    ids: () => 'x',
    prepareCommand: pseudonymizeVisitors(keys),
  });
  const click = (clickId: string, partnerId: string, visitorId = 'v-9') =>
    ledger.execute({ command: 'trackClick', clickId, partnerId, visitorId, occurredAt: SPEC_NOW })();
  const eraseAll = createPersonalDataOperations({
    store,
    keys,
    clock: () => new Date(SPEC_NOW),
  }).erasePersonalData({ subject: { kind: 'visitor', id: ALL_VISITORS }, requestedBy: 't', reason: 'r' });
  return { store, keys, changes, click, eraseAll };
};

describe('pseudonymizeVisitors', () => {
  it('a refused click on a ledger without a visitors key yet makes none', async () => {
    const { store, keys, changes, click } = await setUp();
    const head = await store.headPosition();
    const refused = await click('c-1', 'nobody');
    expect(E.isLeft(refused) && refused.left.code).toBe('PARTNER_NOT_FOUND');
    expect(await keys.get('visitors')).toEqual({ state: 'missing' });
    expect(changes.at(-1)?.keys ?? {}).toEqual({});
    expect(await store.headPosition()).toBe(head);

    expect(E.isRight(await click('c-1', 'p1'))).toBe(true);
    expect((await keys.get('visitors')).state).toBe('present');
  });

  it('after every visitor was erased, a click recorded before is refused and makes no visitors.2 key', async () => {
    const { store, keys, changes, click, eraseAll } = await setUp();
    expect(E.isRight(await click('c-1', 'p1'))).toBe(true);
    expect(E.isRight(await eraseAll())).toBe(true);
    const head = await store.headPosition();
    const written = changes.length;

    const again = await click('c-1', 'p1');
    expect(E.isLeft(again) && again.left.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(await keys.get('visitors.2')).toEqual({ state: 'missing' });
    expect(changes.at(-1)).toEqual({ keys: {}, erased: { visitors: SPEC_NOW } });
    expect(await store.headPosition()).toBe(head);
    // Made and forgotten again, nothing else: the key store was left as it was.
    expect(changes.length - written).toBeLessThanOrEqual(2);

    // A new visitor makes the next key, and keeps it.
    expect(E.isRight(await click('c-2', 'p1', 'v-new'))).toBe(true);
    expect((await keys.get('visitors.2')).state).toBe('present');
  });

  it('concurrent clicks with a new key: the key stays when one of them is recorded, whichever settles last', async () => {
    const { keys, click } = await setUp();
    const outcomes = await Promise.all([
      click('c-1', 'nobody'),
      click('c-2', 'p1'),
      click('c-3', 'nobody', 'v-8'),
      click('c-4', 'nobody'),
    ]);
    expect(outcomes.map((outcome) => E.isRight(outcome))).toEqual([false, true, false, false]);
    expect((await keys.get('visitors')).state).toBe('present');
  });
});
