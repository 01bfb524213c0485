/**
 * The ledger's concurrency guarantees on the embedded file store: parallel payouts never overdraw, one
 * conversion recorded twice in parallel is attributed once, a double reversal reverses once, and the seeded
 * money races between two ledger instances (CONCURRENCY_TRIALS trials each), each trial checked by `verify`
 * (hash chains and every invariant). The suite is the ledger's own (run on the in-memory store beside it);
 * it runs here because this is the one package that sees the ledger, the file store and verify.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ledgerConcurrencySuite } from '@partner-ledger/ledger/testing';
import { openFileStore } from '@partner-ledger/store-file';
import { verifyLedger } from './audit/verify-ledger';

const directories: string[] = [];

ledgerConcurrencySuite(
  'the file store',
  async () => {
    const directory = mkdtempSync(join(tmpdir(), 'partner-ledger-concurrency-'));
    directories.push(directory);
    return openFileStore({ directory });
  },
  async (store) => {
    await store.close();
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  },
  {
    verify: async (store) => {
      const report = await verifyLedger(store);
      return report.ok ? null : (report.firstProblem?.message ?? 'verify failed');
    },
  },
);
