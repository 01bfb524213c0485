// The hash chains, the history digest, and that verification names what a tamperer changed.
import { GENESIS_DIGEST, computeEventHash, nextDigest } from '@partner-ledger/events';
import type { RecordedEvent } from '@partner-ledger/events';
import { computeDigest, verifyStore } from '../audit';
import type { VerifyReport } from '../audit';
import { makeEvent, makeEvents, positionsOf, range } from './fixtures';
import type { TamperHooks } from './options';
import type { ContractSuite } from './suite';

/** Every event is chained to its predecessor in its stream. */
export const describeHashLinks = (suite: ContractSuite): void => {
  const { append, readStream, readAll, appendInterleaved, expectPositionsAfter } = suite;
  describe('hash links', () => {
    it('chains every event to its predecessor in the same stream, and hashes its content', async () => {
      await appendInterleaved({ red: 4, green: 3, blue: 5 });
      await append('green', makeEvents('green', 3, 3));
      const all = await readAll();
      expectPositionsAfter(positionsOf(all), -1);
      expect(all).toHaveLength(15);
      const lastHash = new Map<string, string>();
      for (const event of all) {
        expect(event.prevHash).toBe(lastHash.get(event.stream) ?? null);
        expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
        expect(event.hash).toBe(computeEventHash(event));
        lastHash.set(event.stream, event.hash);
      }
      const green = await readStream('green');
      expect(green.map((e) => e.revision)).toEqual(range(0, 6));
      expect(green[0]?.prevHash).toBeNull();
    });
  });
};

/** verifyStore and computeDigest over a clean store. */
export const describeVerifyAndDigest = (suite: ContractSuite): void => {
  const { append, readAll, appendInterleaved, expectFollows, expectPositionsAfter } = suite;
  describe('verify and digest', () => {
    const foldHashes = (events: readonly RecordedEvent[]): string =>
      events.reduce((digest, event) => nextDigest(digest, event.hash), GENESIS_DIGEST);

    it('an empty store verifies, with the genesis digest', async () => {
      expect(await verifyStore(suite.store)).toEqual({
        ok: true,
        eventsChecked: 0,
        headPosition: -1,
        digest: GENESIS_DIGEST,
      });
      expect(await computeDigest(suite.store)).toEqual({
        digest: GENESIS_DIGEST,
        position: -1,
        eventCount: 0,
      });
    });

    it('a clean store verifies, and its digest folds every hash in global order', async () => {
      const all = await appendInterleaved({ a: 5, b: 4, c: 3 });
      expect(await readAll()).toEqual(all);
      expectPositionsAfter(positionsOf(all), -1);
      const [fifth, last] = [all[4]?.position as number, all[11]?.position as number];
      const progress: number[] = [];
      const report = await verifyStore(suite.store, {
        progressEvery: 5,
        onProgress: (p) => progress.push(p.eventsChecked),
      });
      expect(report).toEqual({ ok: true, eventsChecked: 12, headPosition: last, digest: foldHashes(all) });
      expect(progress).toEqual([5, 10, 12]);
      expect(await computeDigest(suite.store)).toEqual({
        digest: foldHashes(all),
        position: last,
        eventCount: 12,
      });
      const prefix = await verifyStore(suite.store, { upToPosition: fifth });
      expect(prefix).toEqual({
        ok: true,
        eventsChecked: 5,
        headPosition: fifth,
        digest: foldHashes(all.slice(0, 5)),
      });
      expect((await computeDigest(suite.store, { upToPosition: fifth })).digest).toBe(prefix.digest);
    });

    it('the digest of a position stays the same as history grows; the digest of the head changes', async () => {
      const before = await appendInterleaved({ a: 3, b: 3 });
      const kept = await computeDigest(suite.store);
      expect(kept.position).toBe(before[5]?.position);
      expect(await computeDigest(suite.store)).toEqual(kept);
      const appended = await append('a', [makeEvent('a-3', 3)]);
      expectFollows(appended.lastPosition, kept.position);
      expect(await computeDigest(suite.store, { upToPosition: kept.position })).toEqual(kept);
      const now = await computeDigest(suite.store);
      expect(now.digest).not.toBe(kept.digest);
      expect(now.position).toBe(appended.lastPosition);
    });
  });
};

/** verifyStore over a store changed behind its back (adapters with tamper hooks). */
export const describeTamperDetection = (suite: ContractSuite): void => {
  const { name, canTamper, readAll, appendInterleaved, expectPositionsAfter } = suite;
  const tamperTitle = canTamper ? '' : ` (skipped: ${name} provides no tamper hooks)`;
  const itTamper = canTamper ? it : it.skip;
  describe('tamper detection', () => {
    // Global order (dense: positions 0..6): a-0, b-0, a-1, b-1, a-2, b-2, a-3. The hooks are given the
    // positions the store reported for them.
    let clean: RecordedEvent[];
    let cleanDigest: string;
    const prepare = async (): Promise<TamperHooks> => {
      if (suite.handle.tamper === undefined)
        throw new Error('canTamper is set but the setup returned no tamper hooks');
      clean = await appendInterleaved({ a: 4, b: 3 });
      expect(await readAll()).toEqual(clean);
      expectPositionsAfter(positionsOf(clean), -1);
      cleanDigest = (await computeDigest(suite.store)).digest;
      expect((await verifyStore(suite.store)).ok).toBe(true);
      return suite.handle.tamper;
    };
    const event = (id: string): RecordedEvent => {
      const found = clean.find((e) => e.id === id);
      if (found === undefined) throw new Error(`no event ${id}`);
      return found;
    };
    const expectFirstProblem = async (
      id: string,
      kind: string,
      where: { stream: string; revision: number } = event(id),
    ): Promise<Extract<VerifyReport, { ok: false }>> => {
      const report = await verifyStore(suite.store);
      if (report.ok) throw new Error('verifyStore found nothing wrong with a tampered store');
      const { stream, revision } = where;
      expect(report.firstProblem).toMatchObject({ eventId: id, stream, revision, kind });
      expect(report.firstProblem.message).toContain(id);
      expect((await computeDigest(suite.store)).digest).not.toBe(cleanDigest);
      return report;
    };

    itTamper(`names an event whose data was edited (hash-mismatch)${tamperTitle}`, async () => {
      const tamper = await prepare();
      suite.store = await tamper.editEventData(event('a-1').position, { n: 1, note: 'a larger amount' });
      const report = await expectFirstProblem('a-1', 'hash-mismatch');
      expect(report.firstProblem.position).toBe(event('a-1').position);
      expect(report).toMatchObject({ eventsChecked: 2, headPosition: event('b-0').position });
      expect(report.digest).toBe(
        nextDigest(nextDigest(GENESIS_DIGEST, event('a-0').hash), event('b-0').hash),
      );
    });

    itTamper(`names the event after a deleted one (revision-out-of-sequence)${tamperTitle}`, async () => {
      const tamper = await prepare();
      suite.store = await tamper.deleteEvent(event('a-1').position);
      await expectFirstProblem('a-2', 'revision-out-of-sequence');
    });

    itTamper(`names the first of two swapped events (revision-out-of-sequence)${tamperTitle}`, async () => {
      const tamper = await prepare();
      suite.store = await tamper.swapEvents(event('a-1').position, event('a-2').position);
      await expectFirstProblem('a-2', 'revision-out-of-sequence');
    });

    itTamper(`names a forged event whose hash is wrong (hash-mismatch)${tamperTitle}`, async () => {
      const tamper = await prepare();
      const forged: RecordedEvent = {
        ...event('a-2'),
        id: 'forged',
        data: { n: 2, note: 'forged' },
        hash: '0'.repeat(64),
      };
      suite.store = await tamper.insertEvent(event('a-2').position, forged);
      await expectFirstProblem('forged', 'hash-mismatch', { stream: 'a', revision: 2 });
    });

    itTamper(`names the event after a well-forged one (revision-out-of-sequence)${tamperTitle}`, async () => {
      const tamper = await prepare();
      const unhashed = { ...event('a-2'), id: 'forged', data: { n: 2, note: 'forged' } };
      suite.store = await tamper.insertEvent(event('a-2').position, {
        ...unhashed,
        hash: computeEventHash(unhashed),
      });
      await expectFirstProblem('a-2', 'revision-out-of-sequence');
    });

    itTamper(`names the event after one replaced and re-hashed (broken-link)${tamperTitle}`, async () => {
      const tamper = await prepare();
      const unhashed = { ...event('a-1'), data: { n: 1, note: 'rewritten' } };
      await tamper.deleteEvent(event('a-1').position);
      suite.store = await tamper.insertEvent(event('a-1').position, {
        ...unhashed,
        hash: computeEventHash(unhashed),
      });
      await expectFirstProblem('a-2', 'broken-link');
    });

    itTamper(`a consistent forgery passes the chains but changes the kept digest${tamperTitle}`, async () => {
      const tamper = await prepare();
      const unhashed = {
        ...makeEvent('new-stream-0', 0),
        stream: 'invented',
        revision: 0,
        position: event('b-1').position,
        prevHash: null,
      };
      suite.store = await tamper.insertEvent(event('b-1').position, {
        ...unhashed,
        hash: computeEventHash(unhashed),
      });
      expect((await verifyStore(suite.store)).ok).toBe(true);
      expect((await computeDigest(suite.store, { upToPosition: event('a-3').position })).digest).not.toBe(
        cleanDigest,
      );
    });
  });
};
