import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
// Test only: the published projections see stores through the port alone (docs/architecture.md); this
// test opens the file store to check that reports do not depend on the store.
// eslint-disable-next-line no-restricted-imports
import { openFileStore } from '@partner-ledger/store-file';
import { builtInProjections } from './builtins';
import { replay, serializeCheckpoint } from './runtime/runner';
import { historyArbitrary, simulate, storeWith } from './testing/arbitraries';

describe('reports across stores', () => {
  it('are byte-identical from the in-memory store and from the file store, reopened from disk', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'projections-file-store-'));
    try {
      const histories = fc.sample(historyArbitrary(80), { seed: 42, numRuns: 4 });
      for (const [i, actions] of histories.entries()) {
        const events = simulate(actions);
        const memory = await replay(await storeWith(events), builtInProjections());
        const path = join(directory, `ledger-${i}`);
        const writer = await openFileStore({ directory: path });
        for (const { stream, event } of events) await writer.append(stream, [event]);
        await writer.close();
        const reader = await openFileStore({ directory: path, readOnly: true });
        try {
          const file = await replay(reader, builtInProjections(), { pageSize: 7 });
          expect(JSON.stringify(file.results)).toBe(JSON.stringify(memory.results));
          expect(serializeCheckpoint(file.checkpoint())).toBe(serializeCheckpoint(memory.checkpoint()));
        } finally {
          await reader.close();
        }
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
