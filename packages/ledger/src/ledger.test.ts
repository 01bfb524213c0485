import * as E from 'fp-ts/Either';
import { createInMemoryStore, WrongExpectedRevisionError } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { LedgerCommandCodec, decodeCommand } from './commands';
import { createLedger } from './ledger';
import { eventIdFor, streamOf, streams } from './naming';
import { basicProgram, clickTracked } from './testing/fixtures';
import { SPEC_NOW, appendGiven } from './testing/spec';

/** A store whose appends lose the race `losses` times before going through. */
const racingStore = (losses: number): { store: EventStore; attempts: () => number } => {
  const inner = createInMemoryStore();
  let attempts = 0;
  const store: EventStore = {
    ...inner,
    append: async (stream, events, options) => {
      attempts += 1;
      if (attempts <= losses)
        throw new WrongExpectedRevisionError(stream, options?.expectedRevision ?? 'any', 0);
      return inner.append(stream, events, options);
    },
    readStream: (stream, options) => inner.readStream(stream, options),
    readAll: (options) => inner.readAll(options),
    subscribe: (options) => inner.subscribe(options),
    headPosition: () => inner.headPosition(),
    close: () => inner.close(),
  };
  return { store, attempts: () => attempts };
};

const tier = { command: 'changePartnerTier', partnerId: 'p1', tier: 'gold', reason: 'review' };

describe('optimistic concurrency', () => {
  it('decides again after a lost race and records once', async () => {
    const { store, attempts } = racingStore(2);
    const ledger = createLedger({ store, clock: () => new Date(SPEC_NOW), ids: () => 'x' });
    expect(
      await ledger.execute({
        command: 'publishPlan',
        planId: 'standard',
        version: 1,
        name: 'S',
        currency: 'USD',
        holdDays: 0,
        effectiveFrom: '2026-01-01T00:00:00.000Z',
        rules: [{ kind: 'flat', amount: '1.00' }],
      })(),
    ).toMatchObject({
      right: { alreadyRecorded: false },
    });
    expect(attempts()).toBe(3);
    expect(await store.headPosition()).toBe(0);
  });

  it('gives up with CONCURRENCY_CONFLICT after the retries, appending nothing', async () => {
    const { store, attempts } = racingStore(Number.POSITIVE_INFINITY);
    const ledger = createLedger({ store, clock: () => new Date(SPEC_NOW), ids: () => 'x', retries: 3 });
    const result = await ledger.execute({
      command: 'publishPlan',
      planId: 'standard',
      version: 1,
      name: 'S',
      currency: 'USD',
      holdDays: 0,
      effectiveFrom: '2026-01-01T00:00:00.000Z',
      rules: [{ kind: 'flat', amount: '1.00' }],
    })();
    expect(result).toMatchObject({ left: { code: 'CONCURRENCY_CONFLICT' } });
    expect(attempts()).toBe(4);
    expect(await store.headPosition()).toBe(-1);
  });
});

describe('events as recorded', () => {
  it('carry the command`s actor, correlation and causation, the clock as recordedAt, and ids from the natural key', async () => {
    const store = createInMemoryStore();
    await appendGiven(store, basicProgram('p1'));
    const ledger = createLedger({
      store,
      clock: () => new Date(SPEC_NOW),
      ids: () => 'generated',
      actor: 'service:checkout',
    });
    const result = await ledger.execute({
      command: 'trackClick',
      clickId: 'c1',
      partnerId: 'p1',
      visitorId: 'v1',
      occurredAt: '2026-03-10T00:00:00.000Z',
      correlationId: 'req-7',
      causationId: 'cmd-7',
    })();
    expect(E.isRight(result)).toBe(true);
    if (E.isLeft(result)) return;
    expect(result.right.events[0]).toMatchObject({
      id: eventIdFor('ClickTracked', 'c1'),
      stream: 'visitor-v1',
      occurredAt: '2026-03-10T00:00:00.000Z',
      recordedAt: SPEC_NOW,
      actor: 'service:checkout',
      correlationId: 'req-7',
      causationId: 'cmd-7',
    });
    const tierChange = await ledger.execute(tier)();
    expect(tierChange).toMatchObject({
      right: { events: [{ actor: 'service:checkout', correlationId: 'generated', occurredAt: SPEC_NOW }] },
    });
  });
});

describe('naming', () => {
  it('derives one id per key, never the same for two keys or two types', () => {
    expect(eventIdFor('ClickTracked', 'c1')).toBe(eventIdFor('ClickTracked', 'c1'));
    expect(eventIdFor('ClickTracked', 'c1')).not.toBe(eventIdFor('ClickTracked', 'c2'));
    expect(eventIdFor('PayoutIssued', 'x')).not.toBe(eventIdFor('PayoutFailed', 'x'));
    expect(eventIdFor('ClickTracked', 'c1')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('keeps stream names within the id limit for long keys', () => {
    const long = 'k'.repeat(200);
    expect(streams.visitor(long)).toMatch(/^visitor-#[0-9a-f]{64}$/);
    expect(streams.visitor('short')).toBe('visitor-short');
    expect(streamOf({ type: 'PayoutFailed', data: { partnerId: 'p1' } })).toBe('balance-p1');
  });
});

describe('command codecs', () => {
  it('decode a tagged union by `command`, naming every offending field', () => {
    const decoded = decodeCommand({
      command: 'issuePayout',
      payoutId: '',
      partnerId: 'p1',
      amount: '1.001',
      currency: 'USD',
      method: 'cash',
    });
    expect(decoded).toMatchObject({ left: { code: 'INVALID_COMMAND', field: 'payoutId' } });
    if (E.isLeft(decoded)) expect(decoded.left.problems?.map((p) => p.path)).toEqual(['payoutId', 'method']);
    expect(
      decodeCommand({
        command: 'issuePayout',
        payoutId: 'x',
        partnerId: 'p1',
        amount: '1.001',
        currency: 'USD',
        method: 'wise',
      }),
    ).toMatchObject({
      left: { field: 'amount', message: expect.stringContaining('at most 2 decimals for USD') },
    });
    expect(
      LedgerCommandCodec.is({ command: 'changePartnerTier', partnerId: 'p', tier: 't', reason: 'r' }),
    ).toBe(true);
  });

  it('refuse keys that could reach a prototype', () => {
    expect(decodeCommand(JSON.parse('{"command":"trackClick","__proto__":{"x":1}}'))).toMatchObject({
      left: { code: 'INVALID_COMMAND', field: '__proto__' },
    });
  });
});

describe('remembered stream states', () => {
  const click = (clickId: string, partnerId: string) => ({
    command: 'trackClick',
    clickId,
    partnerId,
    visitorId: 'v1',
    occurredAt: '2026-03-10T00:00:00.000Z',
  });

  it('never hide what another writer appended since: each decision reads what its streams gained', async () => {
    const store = createInMemoryStore();
    await appendGiven(store, basicProgram('p1', 'p2'));
    const options = { store, clock: () => new Date(SPEC_NOW), ids: () => 'x' };
    const first = createLedger(options);
    const second = createLedger(options);
    expect(await first.execute(click('c1', 'p1'))()).toMatchObject({ right: { alreadyRecorded: false } });
    // The second ledger records a click of the same visitor: the first one remembers the visitor at revision 0.
    expect(await second.execute(click('c2', 'p2'))()).toMatchObject({ right: { alreadyRecorded: false } });
    // The same click c2 with other details is refused by the first ledger: it saw the second one's event.
    expect(await first.execute(click('c2', 'p1'))()).toMatchObject({
      left: { code: 'IDEMPOTENCY_CONFLICT' },
    });
    // And its own next click on the stream is appended after it, at revision 2.
    expect(await first.execute(click('c3', 'p1'))()).toMatchObject({
      right: { events: [{ stream: 'visitor-v1', revision: 2 }] },
    });
    // A ledger that remembers nothing decides the same.
    const forgetful = createLedger({ ...options, stateCacheSize: 0 });
    expect(await forgetful.execute(click('c3', 'p1'))()).toMatchObject({ right: { alreadyRecorded: true } });
    expect(await forgetful.execute(click('c2', 'p1'))()).toMatchObject({
      left: { code: 'IDEMPOTENCY_CONFLICT' },
    });
  });
});

describe('a partner that has joined', () => {
  const click = (clickId: string, partnerId: string) => ({
    command: 'trackClick',
    clickId,
    partnerId,
    visitorId: `visitor-${clickId}`,
    occurredAt: '2026-03-10T00:00:00.000Z',
  });

  it('is read once for clicks (a join is never undone); one that has not is read again until it joins', async () => {
    const inner = createInMemoryStore();
    await appendGiven(inner, basicProgram('p1'));
    const reads = new Map<string, number>();
    const store: EventStore = {
      ...inner,
      readStream: (stream, options) => {
        reads.set(stream, (reads.get(stream) ?? 0) + 1);
        return inner.readStream(stream, options);
      },
    };
    const options = { clock: () => new Date(SPEC_NOW), ids: () => 'x' };
    const ledger = createLedger({ ...options, store });
    for (const id of ['c1', 'c2', 'c3'])
      expect(await ledger.execute(click(id, 'p1'))()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(reads.get(streams.partner('p1'))).toBe(1);
    expect(await ledger.execute(click('c4', 'p2'))()).toMatchObject({ left: { code: 'PARTNER_NOT_FOUND' } });
    // Another ledger joins p2: the first one reads p2 again and takes the click.
    expect(
      await createLedger({ ...options, store: inner }).execute({
        command: 'joinPartner',
        partnerId: 'p2',
        name: 'Partner p2',
        partnerType: 'affiliate',
        planId: 'standard',
        payoutCurrency: 'USD',
      })(),
    ).toMatchObject({ right: { alreadyRecorded: false } });
    expect(await ledger.execute(click('c5', 'p2'))()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(reads.get(streams.partner('p2'))).toBe(2);
  });

  it('is noted as joined apart from the remembered states: read once even when its state is dropped', async () => {
    const inner = createInMemoryStore();
    await appendGiven(inner, basicProgram('p1'));
    const reads = new Map<string, number>();
    const store: EventStore = {
      ...inner,
      readStream: (stream, options) => {
        reads.set(stream, (reads.get(stream) ?? 0) + 1);
        return inner.readStream(stream, options);
      },
    };
    // Four states at most: the clicks' new visitors crowd p1's out.
    const ledger = createLedger({
      clock: () => new Date(SPEC_NOW),
      ids: () => 'x',
      store,
      stateCacheSize: 4,
    });
    for (let i = 0; i < 10; i += 1)
      expect(await ledger.execute(click(`c${i}`, 'p1'))()).toMatchObject({
        right: { alreadyRecorded: false },
      });
    expect(reads.get(streams.partner('p1'))).toBe(1);
  });
});

describe('the stream a decision appends to, when remembered', () => {
  const click = (clickId: string, visitorId: string, campaign = 'spring') => ({
    command: 'trackClick',
    clickId,
    partnerId: 'p1',
    visitorId,
    campaign,
    occurredAt: '2026-03-10T00:00:00.000Z',
  });
  const options = { clock: () => new Date(SPEC_NOW), ids: () => 'x' };
  const countingReads = (inner: EventStore) => {
    const reads = new Map<string, number>();
    const store: EventStore = {
      ...inner,
      readStream: (stream, readOptions) => {
        reads.set(stream, (reads.get(stream) ?? 0) + 1);
        return inner.readStream(stream, readOptions);
      },
    };
    return { store, reads: (stream: string) => reads.get(stream) ?? 0 };
  };

  it('is not read again: its revision is checked by the append', async () => {
    const inner = createInMemoryStore();
    await appendGiven(inner, basicProgram('p1'));
    const { store, reads } = countingReads(inner);
    const ledger = createLedger({ ...options, store });
    for (const id of ['c1', 'c2', 'c3'])
      expect(await ledger.execute(click(id, 'v1'))()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(reads(streams.visitor('v1'))).toBe(1);
    const stored = [];
    for await (const event of inner.readStream(streams.visitor('v1'))) stored.push(event.revision);
    expect(stored).toEqual([0, 1, 2]);
  });

  it('is read when another writer moved it on: the append is refused and the decision taken again', async () => {
    const inner = createInMemoryStore();
    await appendGiven(inner, basicProgram('p1'));
    const { store, reads } = countingReads(inner);
    const first = createLedger({ ...options, store });
    const second = createLedger({ ...options, store: inner });
    expect(await first.execute(click('c1', 'v1'))()).toMatchObject({ right: { alreadyRecorded: false } });
    // The other writer's click c2 comes after the state the first ledger remembers.
    expect(await second.execute(click('c2', 'v1'))()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(await first.execute(click('c3', 'v1'))()).toMatchObject({
      right: { alreadyRecorded: false, events: [{ revision: 2 }] },
    });
    // The same click id with other details, recorded by the other writer only: refused, nothing appended.
    expect(await second.execute(click('c4', 'v1'))()).toMatchObject({ right: { alreadyRecorded: false } });
    const head = await inner.headPosition();
    expect(await first.execute(click('c4', 'v1', 'autumn'))()).toMatchObject({
      left: { code: 'IDEMPOTENCY_CONFLICT', field: 'clickId' },
    });
    expect(await first.execute(click('c4', 'v1'))()).toMatchObject({ right: { alreadyRecorded: true } });
    expect(await inner.headPosition()).toBe(head);
    expect(reads(streams.visitor('v1'))).toBeGreaterThan(1);
  });

  it('is read before a refusal decided on it: the remembered state may be behind the store', async () => {
    const inner = await (async () => {
      const store = createInMemoryStore();
      await appendGiven(store, [
        ...basicProgram('p1'),
        clickTracked('k1', 'p1', 'v1', '2026-03-09T00:00:00.000Z'),
      ]);
      return store;
    })();
    const first = createLedger({ ...options, store: inner });
    const second = createLedger({ ...options, store: inner });
    const refund = {
      command: 'reverseConversion',
      reversalId: 'r1',
      conversionId: 'o1',
      kind: 'refund',
      amount: '10.00',
      reason: 'partial refund',
    };
    // The first ledger remembers o1's stream as empty...
    expect(await first.execute(refund)()).toMatchObject({ left: { code: 'CONVERSION_NOT_FOUND' } });
    // ...then the other writer records the conversion: the refund is no longer refused.
    expect(
      await second.execute({
        command: 'recordConversion',
        conversionId: 'o1',
        customerId: 'customer-1',
        kind: 'order',
        amount: '100.00',
        currency: 'USD',
        visitorId: 'v1',
        occurredAt: '2026-03-10T00:00:00.000Z',
      })(),
    ).toMatchObject({ right: { alreadyRecorded: false } });
    expect(await first.execute(refund)()).toMatchObject({ right: { alreadyRecorded: false } });
  });
});

describe('the caller`s command object', () => {
  it('is copied: changed after the task is run (or after a method is called), it changes nothing recorded', async () => {
    const store = createInMemoryStore();
    await appendGiven(store, [
      ...basicProgram('p1'),
      clickTracked('k1', 'p1', 'v1', '2026-03-09T00:00:00.000Z'),
    ]);
    const ledger = createLedger({ store, clock: () => new Date(SPEC_NOW), ids: () => 'x' });
    const order = (conversionId: string) => ({
      conversionId,
      customerId: 'customer-1',
      kind: 'order' as const,
      amount: '100.00',
      currency: 'USD',
      visitorId: 'v1',
    });
    // Through execute: the task is run, then the object changes while the conversion waits on the view.
    const given = { command: 'recordConversion', ...order('o1') };
    const running = ledger.execute(given)();
    given.amount = '900.00';
    given.visitorId = 'v2';
    // Through a method: the object changes after the method made the task, before the task is run.
    const input = order('o2');
    const task = ledger.recordConversion(input);
    input.amount = '900.00';
    const later = task();
    input.amount = '800.00';
    for (const result of [await running, await later])
      expect(result).toMatchObject({
        right: {
          events: [{ data: { amount: '100.00', commissions: [{ partnerId: 'p1', amount: '20.00' }] } }],
        },
      });
  });
});

describe('streams a conversion reads, when remembered and not moved on by another writer', () => {
  const options = { clock: () => new Date(SPEC_NOW), ids: () => 'x' };
  const conversion = (conversionId: string) => ({
    command: 'recordConversion',
    conversionId,
    customerId: `customer-${conversionId}`,
    kind: 'order',
    amount: '100.00',
    currency: 'USD',
    visitorId: 'v1',
  });
  const given = async (): Promise<EventStore> => {
    const store = createInMemoryStore();
    await appendGiven(store, [
      ...basicProgram('p1', 'p2'),
      clickTracked('k1', 'p1', 'v1', '2026-03-09T00:00:00.000Z'),
    ]);
    return store;
  };
  const lineOf = (result: unknown) =>
    (result as { right: { events: { data: { commissions: { partnerId: string; amount: string }[] } }[] } })
      .right.events[0]!.data.commissions[0];

  it('are not read again after the view`s catch-up', async () => {
    const inner = await given();
    const reads = new Map<string, number>();
    const store: EventStore = {
      ...inner,
      readStream: (stream, readOptions) => {
        reads.set(stream, (reads.get(stream) ?? 0) + 1);
        return inner.readStream(stream, readOptions);
      },
    };
    const ledger = createLedger({ ...options, store });
    for (const id of ['o1', 'o2', 'o3'])
      expect(await ledger.execute(conversion(id))()).toMatchObject({ right: { alreadyRecorded: false } });
    for (const stream of [
      streams.program(),
      streams.visitor('v1'),
      streams.partner('p1'),
      streams.plan('standard'),
    ])
      expect([stream, reads.get(stream)]).toEqual([stream, 1]);
  });

  it('are read again when another writer appended to them: a click, a plan version, a plan change', async () => {
    const inner = await given();
    const first = createLedger({ ...options, store: inner });
    const second = createLedger({ ...options, store: inner });
    expect(lineOf(await first.execute(conversion('o1'))())).toMatchObject({
      partnerId: 'p1',
      amount: '20.00',
    });
    // The visitor's stream: a later click of p2, last touch.
    expect(
      await second.execute({
        command: 'trackClick',
        clickId: 'k2',
        partnerId: 'p2',
        visitorId: 'v1',
        occurredAt: '2026-03-10T00:00:00.000Z',
      })(),
    ).toMatchObject({ right: { alreadyRecorded: false } });
    expect(lineOf(await first.execute(conversion('o2'))())).toMatchObject({
      partnerId: 'p2',
      amount: '20.00',
    });
    // The plan's stream: a second version, at 50%, in effect since March.
    expect(
      await second.execute({
        command: 'publishPlan',
        planId: 'standard',
        version: 2,
        name: 'Standard',
        currency: 'USD',
        holdDays: 30,
        effectiveFrom: '2026-03-01T00:00:00.000Z',
        rules: [{ kind: 'revenueShare', rate: '0.5' }],
      })(),
    ).toMatchObject({ right: { alreadyRecorded: false } });
    expect(lineOf(await first.execute(conversion('o3'))())).toMatchObject({
      partnerId: 'p2',
      amount: '50.00',
    });
    // The partner's stream: p2 moves to another plan, at 10%.
    for (const command of [
      {
        command: 'publishPlan',
        planId: 'small',
        version: 1,
        name: 'Small',
        currency: 'USD',
        holdDays: 30,
        effectiveFrom: '2026-01-01T00:00:00.000Z',
        rules: [{ kind: 'revenueShare', rate: '0.1' }],
      },
      {
        command: 'changePartnerPlan',
        partnerId: 'p2',
        planId: 'small',
        occurredAt: '2026-03-11T00:00:00.000Z',
      },
    ])
      expect(await second.execute(command)()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(lineOf(await first.execute(conversion('o4'))())).toMatchObject({
      partnerId: 'p2',
      amount: '10.00',
    });
  });
});

describe('reads through the port only', () => {
  it('reads the log through readAll, never a store`s extra reads, which a wrapping store may not wrap', async () => {
    // A wrapper (like the one opening sealed personal data) wraps the port's methods; a store's extra
    // readAllPages, copied along, would hand out the inner store's events past it.
    const inner = createInMemoryStore();
    await appendGiven(inner, [
      ...basicProgram('p1'),
      clickTracked('c1', 'p1', 'v1', '2026-03-10T00:00:00.000Z'),
    ]);
    const store = {
      ...inner,
      readAllPages: () => {
        throw new Error('read past the wrapper');
      },
    };
    const ledger = createLedger({ store, clock: () => new Date(SPEC_NOW), ids: () => 'x' });
    const conversion = {
      command: 'recordConversion',
      conversionId: 'o1',
      customerId: 'k1',
      kind: 'order',
      amount: '100.00',
      currency: 'USD',
      visitorId: 'v1',
    };
    expect(await ledger.execute(conversion)()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(await ledger.execute({ ...conversion, conversionId: 'o2', customerId: 'k2' })()).toMatchObject({
      right: { alreadyRecorded: false },
    });
  });
});

describe('money decisions: the view`s catch-up, the keys they wait on', () => {
  const conversion = (conversionId: string) => ({
    command: 'recordConversion',
    conversionId,
    customerId: `customer-${conversionId}`,
    kind: 'order',
    amount: '500.00',
    currency: 'USD',
    visitorId: 'v1',
    occurredAt: '2026-01-10T00:00:00.000Z',
  });
  /** A program with partner p1 and a click of p1 on visitor v1: conversions credit p1 100.00 each. */
  const programWithVisitor = async (): Promise<EventStore> => {
    const store = createInMemoryStore();
    await appendGiven(store, [
      ...basicProgram('p1'),
      clickTracked('k1', 'p1', 'v1', '2026-01-09T00:00:00.000Z'),
    ]);
    return store;
  };
  const payout = (payoutId: string, amount: string) => ({
    command: 'issuePayout',
    payoutId,
    partnerId: 'p1',
    amount,
    currency: 'USD',
    method: 'bankTransfer',
  });

  it('applies the ledger`s own appends without reading them back, and reads another writer`s between them', async () => {
    const inner = await programWithVisitor();
    let readBack = 0;
    const counting: EventStore = {
      ...inner,
      readAll: (options) =>
        (async function* () {
          for await (const event of inner.readAll(options)) {
            readBack += 1;
            yield event;
          }
        })(),
    };
    const options = { clock: () => new Date(SPEC_NOW), ids: () => 'x' };
    const first = createLedger({ ...options, store: counting });
    const second = createLedger({ ...options, store: inner });
    // 100.00 of commission each (20% of 500.00), payable since 2026-02-09: the second ledger's lies between
    // two of the first's, which must not skip it.
    for (const [ledger, id] of [
      [first, 'o1'],
      [second, 'o2'],
      [first, 'o3'],
    ] as const)
      expect(await ledger.execute(conversion(id))()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(await first.execute(payout('pay1', '300.00'))()).toMatchObject({
      right: { alreadyRecorded: false },
    });
    expect(await first.execute(payout('pay2', '0.01'))()).toMatchObject({
      left: { code: 'PAYOUT_BELOW_MINIMUM' },
    });
    // Only the first ledger's own appends since: its catch-ups read nothing back from the store.
    readBack = 0;
    expect(await first.execute(conversion('o4'))()).toMatchObject({ right: { alreadyRecorded: false } });
    expect(await first.execute(payout('pay3', '100.00'))()).toMatchObject({
      right: { alreadyRecorded: false },
    });
    expect(await first.execute(payout('pay4', '50.00'))()).toMatchObject({
      left: { code: 'PAYOUT_EXCEEDS_PAYABLE' },
    });
    expect(readBack).toBe(0);
    // And the second ledger, which read them all, agrees.
    expect(await second.execute(payout('pay5', '50.00'))()).toMatchObject({
      left: { code: 'PAYOUT_EXCEEDS_PAYABLE' },
    });
  });

  it('plans a payout once when it waits for another payout of the partner: on the keys it locks first', async () => {
    const inner = await programWithVisitor();
    let programReads = 0;
    const store: EventStore = {
      ...inner,
      readStream: (stream, options) => {
        if (stream === streams.program()) programReads += 1;
        return inner.readStream(stream, options);
      },
    };
    // Nothing remembered: every plan reads the program's settings, which counts the plans.
    const ledger = createLedger({
      store,
      clock: () => new Date(SPEC_NOW),
      ids: () => 'x',
      stateCacheSize: 0,
    });
    expect(await ledger.execute(conversion('o1'))()).toMatchObject({ right: { alreadyRecorded: false } });
    programReads = 0;
    const both = await Promise.all([
      ledger.execute(payout('pay1', '50.00'))(),
      ledger.execute(payout('pay2', '50.00'))(),
    ]);
    expect(both).toMatchObject([
      { right: { alreadyRecorded: false } },
      { right: { alreadyRecorded: false } },
    ]);
    // One plan each (the program's settings read once each): the second waited for the first, then planned.
    expect(programReads).toBe(2);
    expect(await ledger.execute(payout('pay3', '50.00'))()).toMatchObject({
      left: { code: 'PAYOUT_EXCEEDS_PAYABLE' },
    });
  });
});
