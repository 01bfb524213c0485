import { writeFile } from 'node:fs/promises';
import { openStore, resolveStoreSpec } from '@partner-ledger/open-ledger';
import { monthEndFiles } from './statements';

// node dist/main.js 2026-02 [--store DIR] [--known-at 2026-03-05T09:00:00Z]
// Writes statements-2026-02.csv and balances-2026-02.csv in the current directory.
const main = async (): Promise<void> => {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const month = args[0];
  if (month === undefined || month.startsWith('--')) {
    console.error('usage: node dist/main.js YYYY-MM [--store DIR] [--known-at TIME]');
    process.exitCode = 2;
    return;
  }
  const store = await openStore(resolveStoreSpec(flag('store'), process.env, process.cwd()), {
    mustExist: true,
    readOnly: true,
  });
  try {
    const knownAt = flag('known-at');
    const files = await monthEndFiles(store, { month, ...(knownAt === undefined ? {} : { knownAt }) });
    await writeFile(`statements-${month}.csv`, files.statementsCsv);
    await writeFile(`balances-${month}.csv`, files.balancesCsv);
    console.error(
      `${files.payouts} payouts in ${month}: wrote statements-${month}.csv and balances-${month}.csv`,
    );
  } finally {
    await store.close();
  }
};

void main();
