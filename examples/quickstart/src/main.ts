/**
 * The smallest partner-ledger program: a partner joins, a visitor clicks its link, the visitor buys, the
 * partner is paid. The events go into an in-memory store; then the program checks every hash chain and
 * prints the digest an auditor would keep. Run it with `npm start` at the root of the repository.
 */
import { decodeEventData, formatProblems, newEvent } from '@partner-ledger/events';
import type { NewEvent } from '@partner-ledger/events';
import { computeDigest, createInMemoryStore, verifyStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';

/** Everything the events share; times are fixed so that every run prints the same digest. */
const meta = (id: string, occurredAt: string, causationId: string | null = null) => ({
  id,
  occurredAt,
  recordedAt: occurredAt,
  actor: 'service:quickstart',
  correlationId: 'quickstart-1',
  causationId,
});

const partnerJoined = newEvent(
  'PartnerJoined',
  {
    partnerId: 'acme-media',
    name: 'Acme Media',
    partnerType: 'affiliate',
    planId: 'standard',
    parentPartnerId: null,
    payoutCurrency: 'USD',
    couponCodes: ['ACME10'],
    ownAccountIds: [],
  },
  meta('evt-partner-joined', '2026-03-01T09:00:00.000Z'),
);

const clickTracked = newEvent(
  'ClickTracked',
  {
    clickId: 'click-1',
    partnerId: 'acme-media',
    visitorId: 'visitor-42',
    landing: { campaign: 'spring-launch', url: 'https://example.com/pricing' },
    ipFingerprint: null,
    userAgentFingerprint: null,
    fraudReason: null,
  },
  meta('evt-click-1', '2026-03-02T14:30:00.000Z'),
);

const conversionAttributed = newEvent(
  'ConversionAttributed',
  {
    conversionId: 'order-1001',
    customerId: 'customer-7',
    accountId: null,
    visitorId: 'visitor-42',
    kind: 'order',
    amount: '120.00',
    currency: 'USD',
    couponCode: null,
    attribution: {
      basis: 'clicks',
      model: 'lastTouch',
      clickWindowDays: 30,
      halfLifeDays: 7,
      registrationId: null,
    },
    credits: [
      {
        partnerId: 'acme-media',
        weight: '1',
        revenueCredit: '120.00',
        role: 'sourced',
        touchIds: ['click-1'],
      },
    ],
    influencers: [],
    fx: [],
    commissions: [
      {
        lineId: 'order-1001/acme-media/0',
        partnerId: 'acme-media',
        planId: 'standard',
        planVersion: 1,
        rule: 'revenueShare',
        tier: null,
        base: '120.00',
        rate: '0.2',
        amount: '24.00',
        currency: 'USD',
        uncappedAmount: null,
        payableAt: '2026-04-04T10:00:00.000Z',
        status: 'pending',
        holdReason: null,
        overrideOf: null,
      },
    ],
  },
  meta('evt-order-1001', '2026-03-05T10:00:00.000Z', 'evt-click-1'),
);

const payoutIssued = newEvent(
  'PayoutIssued',
  {
    payoutId: 'payout-1',
    partnerId: 'acme-media',
    amount: '24.00',
    currency: 'USD',
    method: 'bankTransfer',
    externalReference: 'BANK-REF-0001',
    settles: [{ kind: 'commission', id: 'order-1001/acme-media/0', amount: '24.00' }],
  },
  meta('evt-payout-1', '2026-04-05T08:00:00.000Z'),
);

/** Refuses an event the catalogue would not accept, with the catalogue's own readable message. */
const checked = (event: NewEvent): NewEvent => {
  const decoded = decodeEventData(event.type, event.schemaVersion, event.data);
  // decodeEventData answers with an fp-ts Either: Left holds the problems, each naming its field.
  if (decoded._tag === 'Left') throw new Error(formatProblems(decoded.left));
  return event;
};

const record = async (store: EventStore, print: (line: string) => void): Promise<void> => {
  const appends: [string, NewEvent][] = [
    ['partner-acme-media', partnerJoined],
    ['visitor-visitor-42', clickTracked],
    ['conversion-order-1001', conversionAttributed],
    ['balance-acme-media', payoutIssued],
  ];
  for (const [stream, event] of appends) {
    const result = await store.append(stream, [checked(event)], { expectedRevision: 'noStream' });
    const [stored] = result.events;
    print(
      `recorded ${event.type} in ${stream} at position ${result.lastPosition} (hash ${stored?.hash.slice(0, 12)}...)`,
    );
  }
  // The checkout service retries after a timeout: the same event again changes nothing.
  const retry = await store.append('conversion-order-1001', [conversionAttributed], {
    expectedRevision: 'noStream',
  });
  print(`retried ConversionAttributed: already stored = ${retry.alreadyStored}`);
};

/** Runs the example, printing through `print`; returns the digest of the history. */
export const main = async (print: (line: string) => void = console.log): Promise<string> => {
  const store = createInMemoryStore();
  try {
    await record(store, print);
    const report = await verifyStore(store);
    if (!report.ok) throw new Error(`verification failed: ${report.firstProblem.message}`);
    print(`verified ${report.eventsChecked} events: every hash chain is intact`);
    const digest = await computeDigest(store);
    print(`digest up to position ${digest.position}: ${digest.digest}`);
    return digest.digest;
  } finally {
    await store.close();
  }
};

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
