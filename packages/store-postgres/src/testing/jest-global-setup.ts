import { startTestServer } from './server';
import type { TestServer } from './server';

// Jest's global set-up for the projects whose tests need PostgreSQL. With PARTNER_LEDGER_PG_URL set, the
// tests use that server; otherwise one embedded server is started for the whole run (the variable, set
// here, reaches the test workers, and a second project's set-up finds it and starts nothing).

declare global {
  var partnerLedgerTestPostgres: TestServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.PARTNER_LEDGER_PG_URL !== undefined && process.env.PARTNER_LEDGER_PG_URL !== '') return;
  const server = await startTestServer();
  globalThis.partnerLedgerTestPostgres = server;
  process.env.PARTNER_LEDGER_PG_URL = server.url;
}
