import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import { pseudonymOf } from '@partner-ledger/events';
import { KeyFileConflictError, createKeyFile, openLedger } from '@partner-ledger/open-ledger';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '@partner-ledger/store-postgres/testing';

// Two ledgers on one PostgreSQL ledger with one key file (two services on one host: the key file cannot
// tell them from two processes, each opening it on its own), racing for the visitors' key at their first
// clicks: whichever key the file ends with, every click recorded is under it; a click made with the other
// key is refused (KeyFileConflictError), and recorded when run again from a ledger opened anew.

const url = testDatabaseUrl();

const settings = {
  programId: 'p',
  name: 'P',
  currency: 'USD',
  attribution: {
    model: 'lastTouch' as const,
    clickWindowDays: 30,
    halfLifeDays: 7,
    precedence: ['clicks' as const],
  },
  minimumPayout: '10.00',
  minClickToConversionSeconds: 0,
};
const plan = {
  planId: 's',
  version: 1,
  name: 'S',
  currency: 'USD',
  holdDays: 0,
  effectiveFrom: '2025-01-01T00:00:00Z',
  rules: [{ kind: 'revenueShare' as const, rate: '0.1' }],
};
const ana = {
  partnerId: 'ana',
  name: 'Ana',
  partnerType: 'affiliate',
  planId: 's',
  payoutCurrency: 'USD',
} as const;
const clickOf = (n: number) => ({
  clickId: `c-${n}`,
  partnerId: 'ana',
  visitorId: `v-${n}`,
  occurredAt: '2025-02-01T00:00:00Z',
});

describe('one key file, two ledgers on PostgreSQL', () => {
  let root: string;
  const schemas: string[] = [];
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-pg-key-file-'));
  });
  afterEach(async () => {
    rmSync(root, { recursive: true, force: true });
    for (const schema of schemas.splice(0)) await dropSchema(url, schema);
  });

  it('racing for the visitors key at the first clicks: every click recorded is under the key the file keeps', async () => {
    const clock = () => new Date('2026-12-01T00:00:00Z');
    let refused = 0;
    for (let round = 0; round < 3; round += 1) {
      const schema = uniqueSchema('keys');
      schemas.push(schema);
      const store = `${url}?schema=${schema}`;
      const keys = join(root, `${round}.keys`);
      await createKeyFile(keys);
      const open = () => openLedger({ store, keys, cwd: root, clock });
      const first = await open();
      expect(E.isRight(await first.configureProgram(settings)())).toBe(true);
      expect(E.isRight(await first.publishPlan(plan)())).toBe(true);
      expect(E.isRight(await first.joinPartner(ana)())).toBe(true);
      await first.close();

      const a = await open();
      const b = await open();
      const outcomes = await Promise.allSettled([a.trackClick(clickOf(1))(), b.trackClick(clickOf(2))()]);
      await Promise.all([a.close(), b.close()]);
      const file = JSON.parse(readFileSync(keys, 'utf8')) as { keys: Record<string, string> };
      const key = Buffer.from(file.keys['visitors']!, 'base64');
      const streamOf = (n: number) => `visitor-${pseudonymOf(key, `v-${n}`)}`;
      const again = await open();
      for (const [index, outcome] of outcomes.entries()) {
        const n = index + 1;
        if (outcome.status === 'fulfilled') {
          expect(outcome.value).toMatchObject({ right: { stream: streamOf(n), alreadyRecorded: false } });
          continue;
        }
        refused += 1;
        expect(outcome.reason).toBeInstanceOf(KeyFileConflictError);
        await expect(again.trackClick(clickOf(n))()).resolves.toMatchObject({
          right: { stream: streamOf(n), alreadyRecorded: false },
        });
      }
      expect(outcomes.some((outcome) => outcome.status === 'fulfilled')).toBe(true);
      // Nothing else in the store: exactly one click in each visitor's stream under the kept key.
      const visitorStreams: string[] = [];
      for await (const event of again.sealedStore.readAll())
        if (event.stream.startsWith('visitor-')) visitorStreams.push(event.stream);
      expect(visitorStreams.sort()).toEqual([streamOf(1), streamOf(2)].sort());
      await again.close();
    }
    process.stdout.write(`visitors key races through openLedger: ${refused} click(s) refused in 3 rounds\n`);
  });
});
