// Stops the embedded server that the global set-up started (a server given by PARTNER_LEDGER_PG_URL is
// left alone).
export default async function globalTeardown(): Promise<void> {
  const server = globalThis.partnerLedgerTestPostgres;
  if (server === undefined) return;
  globalThis.partnerLedgerTestPostgres = undefined;
  delete process.env.PARTNER_LEDGER_PG_URL;
  await server.stop();
}
