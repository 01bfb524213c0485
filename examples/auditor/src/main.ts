import { readFile } from 'node:fs/promises';
import { openStore, resolveStoreSpec } from '@partner-ledger/cli';
import { audit } from './audit';
import type { SavedClose } from './audit';

// node dist/main.js close.json 2026-03-31T23:59:59.999Z 2026-04-05T09:00:00.000Z [--store DIR]
// close.json holds {"position": ..., "digest": "..."}, saved at the close. Exit 0 if the ledger verifies
// and the digest matches, 1 otherwise.
const main = async (): Promise<void> => {
  const [savedFile, asOf, knownAt, flag, storeName] = process.argv.slice(2);
  if (savedFile === undefined || asOf === undefined || knownAt === undefined) {
    console.error('usage: node dist/main.js CLOSE.json AS_OF KNOWN_AT [--store DIR]');
    process.exitCode = 2;
    return;
  }
  const saved = JSON.parse(await readFile(savedFile, 'utf8')) as SavedClose;
  const store = await openStore(
    resolveStoreSpec(flag === '--store' ? storeName : undefined, process.env, process.cwd()),
    {
      mustExist: true,
      readOnly: true,
      tolerateDamage: true,
    },
  );
  try {
    const report = await audit(store, { asOf, knownAt, saved });
    console.log(report.balancesThen);
    console.error(
      [
        `verify: ${report.verify.ok ? 'ok' : `PROBLEM: ${report.verify.firstProblem?.message ?? ''}`} (${report.verify.eventsChecked} events)`,
        `digest at position ${saved.position}: ${report.digestMatches ? 'matches the one saved' : `DIFFERS (now ${report.digestNow})`}`,
      ].join('\n'),
    );
    process.exitCode = report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
};

void main();
