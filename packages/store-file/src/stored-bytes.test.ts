import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent } from '@partner-ledger/events';
import { INDEX_DIR, SEGMENTS_DIR } from './layout';
import { openFileStore } from './store';

/**
 * The bytes the file store writes, pinned: a fixed workload (group commits of concurrent appends,
 * multi-event appends, names and data outside ASCII, a retry, a refused append in the middle of a batch,
 * positions of one to three digits, several segments) must leave exactly these segment and index files and
 * these event hashes. The append path is tuned for speed again and again (framing, hashing, buffers); this
 * says that no such change altered one byte of what an existing ledger holds or what a new one gets. The
 * expected digests were taken from the code of 2026-12-06 (commit 9f70d80), before the framing was
 * written without a suffix string.
 */
const event = (id: string, n: number, data: unknown = { amount: `${n}.00`, currency: 'USD' }): NewEvent => ({
  id,
  type: 'ManualAdjustmentRecorded',
  schemaVersion: 1,
  data,
  occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  recordedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  actor: 'user:auditor@vendor.example',
  correlationId: `corr-${n}`,
  causationId: n % 2 === 0 ? null : `cause-${n}`,
});

const digestOfFiles = async (directory: string): Promise<string> => {
  const hash = createHash('sha256');
  for (const folder of [SEGMENTS_DIR, INDEX_DIR]) {
    for (const name of (await fs.readdir(join(directory, folder))).sort()) {
      hash.update(`${folder}/${name}\n`);
      hash.update(await fs.readFile(join(directory, folder, name)));
    }
  }
  return hash.digest('hex');
};

describe('the bytes an append writes', () => {
  it('are those of the pinned workload: segment files, index and event hashes', async () => {
    const directory = await fs.mkdtemp(join(tmpdir(), 'pl-stored-bytes-'));
    try {
      const store = await openFileStore({ directory, segmentBytes: 4096 });
      const hashes: string[] = [];
      const keep = (result: { events: readonly { hash: string }[] }) =>
        result.events.forEach((e) => hashes.push(e.hash));
      let n = 0;
      for (let round = 0; round < 12; round++) {
        // Three writers in one turn of the event loop: one group commit (or two, pipelined).
        const results = await Promise.allSettled([
          store.append(`partner-${round % 4}`, [event(`a-${round}`, n++)]),
          store.append('partner-é', [
            event(`évènement-${round}`, n++, { note: 'café ☕ "quoted" \\ 😀', lines: [round, -round / 4] }),
            event(`évènement-${round}-b`, n++, { nested: { z: 1, a: [true, null, 'x'] } }),
          ]),
          // Refused (from round 1 on this stream exists): nothing of it may be written.
          store.append('partner-refused', [event(`refused-${round}`, n++)], {
            expectedRevision: 'noStream',
          }),
          store.append(`stream-${round}`, [event(`c-${round}`, n++, { big: 'x'.repeat(300 + round) })]),
        ]);
        for (const result of results) if (result.status === 'fulfilled') keep(result.value);
      }
      // A retry of an earlier append writes nothing and answers with the stored events.
      const retry = await store.append('partner-1', [event('a-1', 5)]);
      expect(retry.alreadyStored).toBe(true);
      expect(await store.headPosition()).toBe(hashes.length - 1);
      await store.close();

      expect(hashes.length).toBe(49);
      expect(createHash('sha256').update(hashes.join('\n')).digest('hex')).toBe(
        'f06b4215f22183316d7ef276230ba24cf9ad3632838d97c86bb9d925cbdf96f8',
      );
      expect(await digestOfFiles(directory)).toBe(
        '69d106270c7ed2bd0aafae89120ad25c5319753e523f520b9cb0ba2fc8c2e80b',
      );
    } finally {
      await fs.rm(directory, { recursive: true, force: true });
    }
  });
});
