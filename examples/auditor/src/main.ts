import { readFile } from 'node:fs/promises';
import { openStore, resolveStoreSpec } from '@partner-ledger/cli';
import { audit } from './audit';
import type { SavedClose } from './audit';

// node dist/main.js close.json 2026-02-28T23:59:59.999Z 2026-03-02T00:00:00Z [--store DIR]
// close.json is what `partner-ledger verify --format json` printed at the close. Exit 0 if the ledger
// verifies and the history up to the close is unchanged, 1 otherwise, 2 on bad arguments.
const USAGE = 'usage: node dist/main.js CLOSE.json AS_OF KNOWN_AT [--store DIR]';

const readClose = async (file: string): Promise<SavedClose | string> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return `cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}. Write it at the close with \`partner-ledger verify --format json > ${file}\`.`;
  }
  try {
    const saved = JSON.parse(text) as SavedClose;
    if (typeof saved.digest !== 'string' || !Number.isSafeInteger(saved.headPosition))
      return `${file} is not a report of \`partner-ledger verify --format json\` (no headPosition and digest)`;
    return saved;
  } catch (error) {
    return `${file} is not JSON: ${(error as Error).message}`;
  }
};

const main = async (): Promise<void> => {
  const [savedFile, asOf, knownAt, flag, storeName] = process.argv.slice(2);
  if (savedFile === undefined || asOf === undefined || knownAt === undefined) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const saved = await readClose(savedFile);
  if (typeof saved === 'string') {
    console.error(`auditor: ${saved}`);
    process.exitCode = 2;
    return;
  }
  const store = await openStore(
    resolveStoreSpec(flag === '--store' ? storeName : undefined, process.env, process.cwd()),
    { mustExist: true, readOnly: true, tolerateDamage: true },
  );
  try {
    const report = await audit(store, { asOf, knownAt, saved });
    console.log(report.balancesThen);
    console.error(
      [
        `verify: ${report.verify.ok ? 'ok' : `PROBLEM: ${report.verify.firstProblem?.message ?? ''}`} (${report.verify.eventsChecked} events)`,
        `close at position ${saved.headPosition}: ${report.close.same ? 'unchanged (same digest)' : `CHANGED: ${report.close.message}`}`,
      ].join('\n'),
    );
    process.exitCode = report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
};

main().catch((error: unknown) => {
  console.error(`auditor: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
});
