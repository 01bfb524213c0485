/**
 * The ledger's concurrency guarantees on PostgreSQL: parallel payouts never overdraw, one conversion
 * recorded twice in parallel is attributed once, a double reversal reverses once, and the seeded money
 * races between two ledger instances, each trial checked by `verify`. The suite is the
 * ledger's own; it runs here because this package sees both the ledger and the PostgreSQL store. Each test
 * gets a schema of its own on the server of the jest global set-up.
 */
import { ledgerConcurrencySuite } from '@partner-ledger/ledger/testing';
import { createPostgresStore } from '@partner-ledger/store-postgres';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '@partner-ledger/store-postgres/testing';
import { openLedger } from '@partner-ledger/open-ledger';
import { verifyLedger } from './audit/verify-ledger';

const url = testDatabaseUrl();
const schemas: string[] = [];

ledgerConcurrencySuite(
  'PostgreSQL',
  async () => {
    const schema = uniqueSchema('ledger');
    schemas.push(schema);
    return createPostgresStore({ connectionString: url, schema });
  },
  async (store) => {
    await store.close();
    for (const schema of schemas.splice(0)) await dropSchema(url, schema);
  },
  {
    verify: async (store) => {
      const report = await verifyLedger(store);
      return report.ok ? null : (report.firstProblem?.message ?? 'verify failed');
    },
  },
);

describe('openLedger on PostgreSQL', () => {
  it('opens a postgres:// store by its connection string, schema included, and closes it', async () => {
    const schema = uniqueSchema('open');
    const ledger = await openLedger({
      store: `${url}?schema=${schema}`,
      clock: () => new Date('2026-02-01T00:00:00Z'),
    });
    try {
      expect(await ledger.store.headPosition()).toBe(-1);
      expect((ledger.store as { schema?: string }).schema).toBe(schema);
    } finally {
      await ledger.close();
      await dropSchema(url, schema);
    }
  });
});
