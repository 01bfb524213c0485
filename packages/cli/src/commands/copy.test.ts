import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore } from '@partner-ledger/store-file';
import { sampleEvents } from '../testing/fixtures';
import { runInProcess as run } from '../testing/in-process';

// copy between two file ledgers. Its summary is what a person resuming a copy reads, so the counts must
// read right for one event as for many.
describe('partner-ledger copy (file to file)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-copy-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('counts one event in the singular, resumed or not', async () => {
    const source = join(root, 'source');
    const target = join(root, 'target');
    const events = sampleEvents().flatMap(({ stream, events }) => events.map((event) => ({ stream, event })));
    expect(events.length).toBeGreaterThanOrEqual(4);
    const append = async (from: number, to: number): Promise<void> => {
      const store = await openFileStore({ directory: source });
      for (const { stream, event } of events.slice(from, to)) await store.append(stream, [event]);
      await store.close();
    };

    await append(0, 1);
    const first = await run(['copy', '--from', source, '--to', target]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^copied: +1 event$/m);

    // The target holds the source's first event: the resumed copy takes the two appended since.
    await append(1, 3);
    const resumed = await run(['copy', '--from', source, '--to', target]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^copied: +2 events \(1 was already there\)$/m);

    // And one more, after three.
    await append(3, 4);
    const again = await run(['copy', '--from', source, '--to', target]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^copied: +1 event \(3 were already there\)$/m);
  });
});
