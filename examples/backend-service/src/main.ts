import { openLedger } from '@partner-ledger/open-ledger';
import { createPartnerService } from './service';

// Runs the service on the default ledger (./.partner-ledger, or $PARTNER_LEDGER_STORE):
//   PORT=3000 FINGERPRINT_KEY=... node dist/main.js
//   curl -X POST localhost:3000/clicks -d '{"clickId":"c-1","partnerId":"blog-1","visitorId":"v-9","ip":"203.0.113.7"}'
const main = async (): Promise<void> => {
  const ledger = await openLedger();
  const server = createPartnerService({
    ledger,
    store: ledger.store,
    fingerprintKey: process.env.FINGERPRINT_KEY ?? 'change-me: a secret of your own',
  });
  const port = Number(process.env.PORT ?? 3000);
  server.listen(port, '127.0.0.1', () => console.log(`partner service on http://127.0.0.1:${port}`));
  const stop = (): void => {
    server.close(() => void ledger.close());
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
};

void main();
