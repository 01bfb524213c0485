import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryKeyStore, newEvent } from '@partner-ledger/events';
import { replay } from '@partner-ledger/projections';
import { createSealingStore } from '@partner-ledger/store';
import { openFileStore } from '@partner-ledger/store-file';
import { namesAtRevisions, partnerNameEvents } from '../report/names';

// Benchmark: the partners' names of a resumed report on a ledger with keys (every name sealed), as the
// report takes them now (the sealed form partnerNameEvents kept, opened with the keys) against reading each
// partner's naming event through the sealing store (what a report does without the kept sealed form, and
// what it did before it was kept). The balances bench's simulated ledger has no keys (its names are
// plaintext, never kept), so it does not show this part. Both sides in one process, alternating, best of
// ROUNDS; their names must be equal.
//
//   node packages/cli/dist/bench/report-resume-names-bench.js [PARTNERS] [ROUNDS]

const partners = Number(process.argv[2] ?? 2_000);
const rounds = Number(process.argv[3] ?? 15);

const main = async (): Promise<void> => {
  const directory = mkdtempSync(join(tmpdir(), 'pl-names-bench-'));
  const beneath = await openFileStore({ directory: join(directory, 'ledger') });
  try {
    const keys = createInMemoryKeyStore();
    const sealing = createSealingStore(beneath, keys);
    const at = '2026-01-01T00:00:00.000Z';
    for (let i = 0; i < partners; i += 1) {
      const partnerId = `p${String(i).padStart(6, '0')}`;
      const joined = newEvent(
        'PartnerJoined',
        {
          partnerId,
          name: `Partner ${i} GmbH`,
          partnerType: 'affiliate',
          planId: 'std',
          parentPartnerId: null,
          payoutCurrency: 'USD',
          couponCodes: [],
          ownAccountIds: [],
          payee: { method: 'paypal', email: `${partnerId}@pay.example` },
        },
        {
          id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          occurredAt: at,
          recordedAt: at,
          actor: 'bench',
          correlationId: 'bench',
          causationId: null,
        },
      );
      await sealing.append(`partner-${partnerId}`, [joined]);
    }
    // The replay a report with a key file makes: of the store beneath, so the sealed forms are kept.
    const kept = (await replay(beneath, { names: partnerNameEvents() })).results.names;
    const ids = Object.keys(kept);
    const opened: number[] = [];
    const read: number[] = [];
    let fromKept = '';
    let fromEvents = '';
    for (let round = 0; round < rounds; round += 1) {
      let start = performance.now();
      fromKept = JSON.stringify(await namesAtRevisions(sealing, ids, kept, keys));
      opened.push(performance.now() - start);
      start = performance.now();
      fromEvents = JSON.stringify(await namesAtRevisions(sealing, ids, kept));
      read.push(performance.now() - start);
    }
    if (fromKept !== fromEvents)
      throw new Error('the names opened from the kept form differ from those read');
    const [o, r] = [Math.min(...opened), Math.min(...read)];
    console.log(JSON.stringify({ partners: ids.length, rounds, opened, read }));
    console.log(
      `${ids.length} sealed names: opened from the kept sealed form ${o.toFixed(1)} ms, read through the ` +
        `sealing store ${r.toFixed(1)} ms (best of ${rounds}): ${(o / r).toFixed(2)}x`,
    );
  } finally {
    await beneath.close();
    rmSync(directory, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
