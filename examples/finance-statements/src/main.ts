import { writeFile } from 'node:fs/promises';
import { LedgerNotFoundError, openStore, resolveStoreSpec } from '@partner-ledger/open-ledger';
import { monthEndFiles, parseMonthEndArgs } from './statements';

// node dist/main.js 2026-02 [--store DIR] [--known-at 2026-03-05T09:00:00Z]
// Writes statements-2026-02.csv and balances-2026-02.csv in the current directory.
const main = async (): Promise<number> => {
  const parsed = parseMonthEndArgs(process.argv.slice(2));
  if ('problem' in parsed) {
    console.error(`finance-statements: ${parsed.problem}`);
    console.error('usage: node dist/main.js YYYY-MM [--store DIR] [--known-at TIME]');
    return 2;
  }
  const { month, knownAt, store: storeName } = parsed;
  let store;
  try {
    store = await openStore(resolveStoreSpec(storeName, process.env, process.cwd()), {
      mustExist: true,
      readOnly: true,
    });
  } catch (error) {
    if (!(error instanceof LedgerNotFoundError)) throw error;
    console.error(`finance-statements: ${error.message}: name it with --store or $PARTNER_LEDGER_STORE`);
    return 2;
  }
  try {
    const files = await monthEndFiles(store, { month, ...(knownAt === undefined ? {} : { knownAt }) });
    await writeFile(`statements-${month}.csv`, files.statementsCsv);
    await writeFile(`balances-${month}.csv`, files.balancesCsv);
    console.error(
      `${files.payouts} payouts in ${month}: wrote statements-${month}.csv and balances-${month}.csv`,
    );
    return 0;
  } finally {
    await store.close();
  }
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`finance-statements: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
