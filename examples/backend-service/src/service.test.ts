import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import * as E from 'fp-ts/Either';
import { createLedger } from '@partner-ledger/ledger';
import { createInMemoryStore } from '@partner-ledger/store';
import { createPartnerService } from './service';

const at = (day: number, hour = 12): string => new Date(Date.UTC(2026, 2, day, hour)).toISOString();

describe('the partner service over HTTP', () => {
  let server: Server;
  let base: string;
  const store = createInMemoryStore();

  beforeAll(async () => {
    let n = 0;
    const ledger = createLedger({ store, clock: () => new Date(at(28)), ids: () => `req-${(n += 1)}` });
    const setup = [
      ledger.configureProgram({
        programId: 'acme',
        name: 'Acme',
        currency: 'USD',
        attribution: {
          model: 'lastTouch',
          clickWindowDays: 30,
          halfLifeDays: 7,
          precedence: ['dealRegistration', 'coupon', 'clicks'],
        },
        minimumPayout: '50.00',
        minClickToConversionSeconds: 0,
        occurredAt: at(1),
      }),
      ledger.publishPlan({
        planId: 'standard',
        version: 1,
        name: 'Standard',
        currency: 'USD',
        holdDays: 30,
        effectiveFrom: at(1, 0),
        rules: [{ kind: 'revenueShare', rate: '0.2' }],
        occurredAt: at(1),
      }),
      ledger.joinPartner({
        partnerId: 'blog-1',
        name: 'Blog',
        partnerType: 'affiliate',
        planId: 'standard',
        payoutCurrency: 'USD',
        occurredAt: at(2),
      }),
      ledger.joinPartner({
        partnerId: 'reseller-1',
        name: 'Reseller',
        partnerType: 'reseller',
        planId: 'standard',
        payoutCurrency: 'USD',
        occurredAt: at(2),
      }),
    ];
    for (const command of setup) expect(E.isRight(await command())).toBe(true);
    server = createPartnerService({ ledger, store, fingerprintKey: 'test-key' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('records a click with fingerprints, never the raw IP, and a retry records nothing new', async () => {
    const click = {
      clickId: 'click-1',
      partnerId: 'blog-1',
      visitorId: 'v-1',
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0',
      occurredAt: at(3),
    };
    const first = await post('/clicks', click);
    expect(first.status).toBe(201);
    expect(first.body.events).toEqual([expect.objectContaining({ type: 'ClickTracked' })]);
    expect((await post('/clicks', click)).status).toBe(200);
    const stored = [];
    for await (const event of store.readAll()) stored.push(JSON.stringify(event));
    const text = stored.join('\n');
    expect(text).not.toContain('203.0.113.7');
    expect(text).toMatch(/"ipFingerprint":"[0-9a-f]{64}"/);
  });

  it('registers and approves a deal, then attributes the closed-won deal to the reseller', async () => {
    expect(
      (
        await post('/deals', {
          registrationId: 'reg-1',
          partnerId: 'reseller-1',
          accountId: 'globex.com',
          expectedValue: '20000.00',
          currency: 'USD',
          expiresAt: at(30),
          occurredAt: at(4),
        })
      ).status,
    ).toBe(201);
    expect((await post('/deals/reg-1/approve', { accountId: 'globex.com', occurredAt: at(5) })).status).toBe(
      201,
    );
    const won = await post('/conversions', {
      conversionId: 'won-1',
      customerId: 'globex',
      accountId: 'globex.com',
      kind: 'closedWon',
      amount: '20000.00',
      currency: 'USD',
      occurredAt: at(6),
    });
    expect(won.status).toBe(201);
    const order = await post('/conversions', {
      conversionId: 'order-1',
      customerId: 'cust-9',
      visitorId: 'v-1',
      kind: 'order',
      amount: '99.90',
      currency: 'USD',
      occurredAt: at(7),
    });
    expect(order.status).toBe(201);

    const reseller = await fetch(`${base}/partners/reseller-1/balance`);
    expect(await reseller.json()).toMatchObject({
      balance: { USD: { accrued: '4000.00', pending: '4000.00', payable: '0.00' } },
    });
    const blog = await fetch(`${base}/partners/blog-1/balance`);
    expect(await blog.json()).toMatchObject({ balance: { USD: { accrued: '19.98' } } });
  });

  it('answers 422 with the rule when the ledger refuses, and 400 on bad input', async () => {
    const conflict = await post('/deals', {
      registrationId: 'reg-2',
      partnerId: 'blog-1',
      accountId: 'globex.com',
      expectedValue: '5000.00',
      currency: 'USD',
      expiresAt: at(30),
      occurredAt: at(8),
    });
    expect(conflict.status).toBe(422);
    expect(conflict.body.rejected).toMatchObject({ code: 'REGISTRATION_CONFLICT', field: 'accountId' });
    const money = await post('/conversions', {
      conversionId: 'order-2',
      customerId: 'c',
      kind: 'order',
      amount: 10.5,
      currency: 'USD',
    });
    expect(money.status).toBe(400);
    expect(JSON.stringify(money.body)).toContain('money is never a JavaScript number');
    expect((await post('/conversions', '{not json')).status).toBe(400);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });
});
