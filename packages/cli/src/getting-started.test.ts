import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import { commissionBalances, partnerRevenue, replay } from '@partner-ledger/projections';
import { openLedger } from '@partner-ledger/open-ledger';

// The library snippets of docs/getting-started.md, section 3, run as written (on a temporary directory).

describe('docs/getting-started.md, from a program', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pl-getting-started-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('records a click and an order with openLedger, then replays the balances', async () => {
    const ledger = await openLedger({ cwd: root });
    const setup = [
      ledger.configureProgram({
        programId: 'p',
        name: 'P',
        currency: 'USD',
        attribution: {
          model: 'lastTouch',
          clickWindowDays: 30,
          halfLifeDays: 7,
          precedence: ['dealRegistration', 'coupon', 'clicks'],
        },
        minimumPayout: '50.00',
        minClickToConversionSeconds: 0,
      }),
      ledger.publishPlan({
        planId: 'standard',
        version: 1,
        name: 'Standard',
        currency: 'USD',
        holdDays: 30,
        effectiveFrom: '2025-01-01T00:00:00.000Z',
        rules: [{ kind: 'revenueShare', rate: '0.2' }],
      }),
      ledger.joinPartner({
        partnerId: 'blog-1',
        name: 'Blog One',
        partnerType: 'affiliate',
        planId: 'standard',
        payoutCurrency: 'USD',
      }),
    ];
    for (const command of setup) expect(E.isRight(await command())).toBe(true);

    const click = await ledger.trackClick({ clickId: 'c-2', partnerId: 'blog-1', visitorId: 'v-10' })();
    expect(E.isRight(click)).toBe(true);
    const order = await ledger.recordConversion({
      conversionId: 'o-2',
      customerId: 'k-2',
      kind: 'order',
      amount: '99.90',
      currency: 'USD',
      visitorId: 'v-10',
    })();
    if (E.isLeft(order)) throw new Error(order.left.message);
    expect(order.right.events.map((e) => e.type)).toEqual(['ConversionAttributed']);

    const { results } = await replay(
      ledger.store,
      { revenue: partnerRevenue({ granularity: 'month' }), balances: commissionBalances() },
      { effectiveAt: new Date(Date.now() + 60 * 86_400_000).toISOString() },
    );
    expect(results.balances.partners['blog-1']?.USD?.payable).toBe('19.98');
    await ledger.close();
  });
});
