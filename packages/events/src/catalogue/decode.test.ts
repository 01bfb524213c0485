import * as fc from 'fast-check';
import * as E from 'fp-ts/Either';
import { anyEventBody } from '../testing/arbitraries';
import { formatProblems } from '../codec/errors';
import { computeEventHash } from '../audit/hash';
import { GenericRecordedEventEnvelope, RecordedEventEnvelope } from '../envelope';
import { isSha256Hex, isTimestamp } from './guards';
import { Timestamp } from '../codec/primitives';
import { decodeEvent, decodeEventData, decodeStoredEvent, EventDecodeError, newEvent } from './decode';
import { CATALOGUE, GenericClickTrackedData } from './events';
import { createUpcasterRegistry } from './upcasters';
import type { EventData } from './events';

const conversion = (): EventData<'ConversionAttributed'> =>
  ({
    conversionId: 'conv-1',
    customerId: 'acme.example',
    accountId: 'acme.example',
    visitorId: 'v-1',
    kind: 'order',
    amount: '100.00',
    currency: 'USD',
    couponCode: null,
    attribution: {
      basis: 'clicks',
      model: 'linear',
      clickWindowDays: 30,
      halfLifeDays: 7,
      registrationId: null,
    },
    credits: [
      { partnerId: 'p-1', weight: '1/3', revenueCredit: '33.34', role: 'sourced', touchIds: ['k-1'] },
      { partnerId: 'p-2', weight: '1/3', revenueCredit: '33.33', role: 'influenced', touchIds: ['k-2'] },
      { partnerId: 'p-3', weight: '1/3', revenueCredit: '33.33', role: 'influenced', touchIds: ['k-3'] },
    ],
    influencers: [],
    fx: [],
    commissions: [],
  }) as EventData<'ConversionAttributed'>;

const problemsOf = (type: unknown, data: unknown, version = 1): string => {
  const result = decodeEventData(type, version, data);
  if (E.isRight(result)) throw new Error('expected a decoding failure');
  return formatProblems(result.left);
};

describe('decoding event data', () => {
  it('accepts a valid event', () => {
    expect(E.isRight(decodeEventData('ConversionAttributed', 1, conversion()))).toBe(true);
  });

  it('names the field, the rule and the value for an amount with too many decimals', () => {
    const data = conversion();
    (data.credits[2] as { revenueCredit: string }).revenueCredit = '12.345';
    expect(problemsOf('ConversionAttributed', data)).toBe(
      'ConversionAttributed.data.credits[2].revenueCredit: expected a decimal string with at most 2 decimals for USD, got 12.345',
    );
  });

  it('rejects money given as a JavaScript number', () => {
    expect(problemsOf('ConversionAttributed', { ...conversion(), amount: 100 })).toBe(
      'ConversionAttributed.data.amount: expected a decimal string (money is never a JavaScript number), got 100',
    );
  });

  it('rejects exponents, NaN and amounts past the bound', () => {
    expect(problemsOf('ConversionAttributed', { ...conversion(), amount: '1e3' })).toContain(
      'ConversionAttributed.data.amount: expected a decimal string such as "1234.50"',
    );
    expect(problemsOf('ConversionAttributed', { ...conversion(), amount: 'NaN' })).toContain('got "NaN"');
    expect(problemsOf('ConversionAttributed', { ...conversion(), amount: '1000000000000000.00' })).toContain(
      'expected an amount below 10^15',
    );
  });

  it('checks amounts against the minor units of their own currency', () => {
    expect(
      problemsOf('PayoutIssued', {
        payoutId: 'po-1',
        partnerId: 'p-1',
        amount: '10.5',
        currency: 'JPY',
        method: 'wise',
        externalReference: null,
        settles: [],
      }),
    ).toBe('PayoutIssued.data.amount: expected a decimal string with at most 0 decimals for JPY, got 10.5');
  });

  it('reports every problem at once, each with its path', () => {
    const text = problemsOf('ConversionAttributed', {
      ...conversion(),
      kind: 'gift',
      currency: 'usd',
      credits: [{}],
    });
    expect(text).toContain(
      'ConversionAttributed.data.kind: expected one of "order", "invoice", "renewal", "closedWon", got "gift"',
    );
    expect(text).toContain(
      'ConversionAttributed.data.currency: expected an ISO 4217 currency code, got "usd"',
    );
    expect(text).toContain(
      'ConversionAttributed.data.credits[0].partnerId: expected an identifier (1 to 200 printable characters), got nothing (the field is missing)',
    );
  });

  it('reports unknown event types with the known ones', () => {
    expect(problemsOf('PartnerPromoted', {})).toMatch(
      /^type: unknown event type "PartnerPromoted"; known types: ProgramConfigured, /,
    );
  });

  it('reports extra fields instead of dropping them', () => {
    expect(problemsOf('ConversionAttributed', { ...conversion(), discount: '5.00' })).toBe(
      'ConversionAttributed.data.discount: unexpected field (not part of ConversionAttributed data)',
    );
  });

  it.each([
    ['__proto__', '{"__proto__": {"polluted": true}}'],
    ['constructor', '{"constructor": {"prototype": {"polluted": true}}}'],
    ['nested __proto__', '{"credits": [{"__proto__": {}}]}'],
  ])('rejects a %s key before it can reach any object', (_name, json) => {
    const text = problemsOf('ConversionAttributed', { ...conversion(), ...JSON.parse(json) });
    expect(text).toMatch(/forbidden key/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects a schema version newer than the catalogue knows', () => {
    expect(problemsOf('PartnerJoined', {}, 7)).toBe(
      'PartnerJoined.schemaVersion: expected schema version 2 (or an older one with an upcaster), got 7',
    );
  });
});

describe('a registry with a step from the current version', () => {
  const stored = {
    id: 'e-1',
    type: 'PartnerTierChanged',
    schemaVersion: CATALOGUE.PartnerTierChanged.schemaVersion,
    stream: 'partner-p',
    revision: 0,
    position: 0,
    occurredAt: '2026-01-01T00:00:00.000Z',
    recordedAt: '2026-01-01T00:00:00.000Z',
    actor: 'test',
    correlationId: 'c-1',
    causationId: null,
    data: { partnerId: 'p', tier: 'gold', previousTier: null, reason: 'q3' },
    prevHash: null,
    hash: 'f'.repeat(64),
  };
  const step = {
    type: 'PartnerTierChanged',
    fromVersion: CATALOGUE.PartnerTierChanged.schemaVersion,
    upcast: (data: unknown) => data,
  };

  it('makes decoding fail, whether the registry says which steps it has or not', () => {
    expect(decodeStoredEvent(stored).data).toBe(stored.data);
    const registry = createUpcasterRegistry([step]);
    expect(registry.reads?.('PartnerTierChanged', step.fromVersion)).toBe(true);
    expect(() => decodeStoredEvent(stored, registry)).toThrow(/expected schema version/);
    const bare = { upcast: registry.upcast };
    expect(() => decodeStoredEvent(stored, bare)).toThrow(/expected schema version/);
    expect(decodeStoredEvent(stored, createUpcasterRegistry([]))).toBe(stored);
  });
});

describe('upcasting ClickTracked v1 to v2 on read', () => {
  const v1 = {
    clickId: 'k-1',
    partnerId: 'p-1',
    visitorId: 'v-1',
    campaign: 'spring',
    landingUrl: 'https://vendor.example/pricing',
    ipHash: 'a'.repeat(64),
    userAgentHash: null,
    fraud: true,
  };

  it('decodes a stored v1 click as the current v2 shape', () => {
    expect(decodeEventData('ClickTracked', 1, v1)).toEqual(
      E.right({
        type: 'ClickTracked',
        schemaVersion: 2,
        data: {
          clickId: 'k-1',
          partnerId: 'p-1',
          visitorId: 'v-1',
          landing: { campaign: 'spring', url: 'https://vendor.example/pricing' },
          ipFingerprint: 'a'.repeat(64),
          userAgentFingerprint: null,
          fraudReason: 'flagged as fraud (schema v1 recorded no reason)',
        },
      }),
    );
  });

  it('does not touch the stored form, so the hash chain still verifies', () => {
    const stored = {
      id: 'e-1',
      type: 'ClickTracked',
      schemaVersion: 1,
      stream: 'visitor-v-1',
      revision: 0,
      position: 0,
      occurredAt: '2026-01-01T00:00:00.000Z',
      recordedAt: '2026-01-01T00:00:01.000Z',
      actor: 'service:web',
      correlationId: 'c-1',
      causationId: null,
      data: v1,
      prevHash: null,
    };
    const event = { ...stored, hash: computeEventHash(stored) };
    const decoded = decodeStoredEvent(event);
    expect(decoded.schemaVersion).toBe(2);
    expect(computeEventHash(event)).toBe(event.hash);
    expect(event.data).toBe(v1);
  });

  it('still reports malformed v1 data with the path of the field', () => {
    expect(problemsOf('ClickTracked', { ...v1, ipHash: '10.0.0.1' })).toBe(
      'ClickTracked.data.ipFingerprint: expected a keyed HMAC-SHA-256 fingerprint (64 lowercase hex digits), never a raw IP address or user agent',
    );
  });
});

describe('decoding stored events', () => {
  const meta = {
    id: 'e-1',
    occurredAt: '2026-01-01T00:00:00.000Z',
    recordedAt: '2026-01-01T00:00:00.000Z',
    actor: 'test',
    correlationId: 'c-1',
    causationId: null,
  };

  it('reports a broken envelope with the event type in the path', () => {
    const result = decodeEvent({
      ...newEvent(
        'PartnerTierChanged',
        { partnerId: 'p', tier: 'gold', previousTier: null, reason: 'q3' } as never,
        meta,
      ),
      occurredAt: '2026-01-01',
    });
    expect(E.isLeft(result) && formatProblems(result.left)).toContain(
      'PartnerTierChanged.occurredAt: expected a UTC timestamp such as "2026-03-01T12:00:00.000Z", from 1970 through 2999, got "2026-01-01"',
    );
  });

  it('throws EventDecodeError for corrupt stored data', () => {
    const event = {
      ...newEvent('PartnerTierChanged', { partnerId: 'p' } as never, meta),
      stream: 's',
      revision: 0,
      position: 0,
      prevHash: null,
      hash: 'f'.repeat(64),
    };
    expect(() => decodeStoredEvent(event)).toThrow(EventDecodeError);
  });
});

describe('codec round trips (property)', () => {
  it('decode(JSON(encode(x))) equals x for generated events of every type', () => {
    fc.assert(
      fc.property(anyEventBody, ({ type, data }) => {
        const codec = CATALOGUE[type].data;
        const wire = JSON.parse(JSON.stringify(codec.encode(data as never)));
        const decoded = decodeEventData(type, CATALOGUE[type].schemaVersion, wire);
        expect(decoded).toEqual(E.right({ type, schemaVersion: CATALOGUE[type].schemaVersion, data }));
      }),
      { numRuns: 500 },
    );
  });

  it('generates every event type of the catalogue', () => {
    const seen = new Set(fc.sample(anyEventBody, 2000).map((e) => e.type));
    expect([...seen].sort()).toEqual(Object.keys(CATALOGUE).sort());
  });
});

describe('the envelope guard and the hash check (hand-written for speed)', () => {
  const valid = {
    id: 'e-1',
    type: 'PartnerTierChanged',
    schemaVersion: 1,
    stream: 'partner-p',
    revision: 0,
    position: 3,
    occurredAt: '2026-01-01T00:00:00.000Z',
    recordedAt: '2026-01-01T00:00:00.000Z',
    actor: 'test',
    correlationId: 'c-1',
    causationId: null,
    data: { anything: true },
    prevHash: null,
    hash: '0123456789abcdef'.repeat(4),
  };
  const edge: readonly unknown[] = [
    undefined,
    null,
    -1,
    1.5,
    '',
    ' x',
    'x\u0000',
    '2026-01-01',
    'f'.repeat(63),
    'f'.repeat(65),
    'F'.repeat(64),
    '/'.repeat(64),
    ':'.repeat(64),
    '`'.repeat(64),
    'g'.repeat(64),
    `${'a'.repeat(63)}\u0100`,
    Number.MAX_SAFE_INTEGER + 1,
    // Identifiers at the edges of the hand-written check: every character String#trim removes, at each end;
    // characters it keeps; lengths 200 and 201; control characters.
    ...[0x20, 0xa0, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff, 0x180e, 0x200b]
      .map((code) => String.fromCharCode(code))
      .flatMap((c) => [`${c}x`, `x${c}`, `x${c}x`]),
    'a'.repeat(200),
    'a'.repeat(201),
    'x\u001fx',
    'x\u007fx',
    'x\u0080x',
    'été',
    '\ud83d\ude00',
    [],
    {},
  ];
  const field = fc.constantFrom(...(Object.keys(valid) as Array<keyof typeof valid>));

  it('accepts exactly what the generic envelope codec accepts', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), field, value: fc.constantFrom(...edge, null) }),
      fc.record({
        kind: fc.constant('set' as const),
        field,
        value: fc.string({ unit: 'binary', maxLength: 8 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), field }),
      fc.record({
        kind: fc.constant('extra' as const),
        key: fc.constantFrom('extra', '__proto__', 'constructor'),
      }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { maxLength: 3 }), (mutations) => {
        const candidate: Record<string, unknown> = { ...valid };
        for (const m of mutations) {
          if (m.kind === 'set') candidate[m.field] = m.value;
          else if (m.kind === 'delete') delete candidate[m.field];
          else Object.defineProperty(candidate, m.key, { value: 1, enumerable: true, writable: true });
        }
        expect(RecordedEventEnvelope.is(candidate)).toBe(GenericRecordedEventEnvelope.is(candidate));
      }),
      { numRuns: 2000 },
    );
    // Every edge value in every field, one at a time.
    for (const key of Object.keys(valid))
      for (const value of edge) {
        const candidate = { ...valid, [key]: value };
        expect([key, value, RecordedEventEnvelope.is(candidate)]).toEqual([
          key,
          value,
          GenericRecordedEventEnvelope.is(candidate),
        ]);
      }
    expect(RecordedEventEnvelope.is(valid)).toBe(true);
    expect(RecordedEventEnvelope.is([valid])).toBe(false);
  });

  it('takes exactly the timestamps the Timestamp codec takes', () => {
    const valid = '2024-02-29T23:59:59.999Z';
    const cases: unknown[] = [
      valid,
      '2023-02-29T00:00:00.000Z',
      '2000-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-12-31T24:00:00.000Z',
      '2026-00-10T00:00:00.000Z',
      '2026-13-10T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-01T00:60:00.000Z',
      '2026-01-01T00:00:60.000Z',
      '2026-01-01T00:00:00.000+',
      '2026-01-01 00:00:00.000Z',
      '2026-01-01T00:00:00Z',
      '2026-01-01',
      ...edge,
    ];
    // Every position of a valid timestamp replaced by each character around the digits and separators.
    for (let at = 0; at < 24; at += 1)
      for (const c of ['/', '0', '9', ':', '-', '.', 'T', 'Z', 'z', ' '])
        cases.push(`${valid.slice(0, at)}${c}${valid.slice(at + 1)}`);
    for (const value of cases) expect([value, isTimestamp(value)]).toEqual([value, Timestamp.is(value)]);
    fc.assert(
      fc.property(fc.date({ min: new Date(-1e14), max: new Date(1e14), noInvalidDate: true }), (date) => {
        const text = date.toISOString();
        expect(isTimestamp(text)).toBe(Timestamp.is(text));
      }),
    );
  });

  it('takes 64 lowercase hex digits as a hash, and nothing else', () => {
    expect(isSha256Hex('0123456789abcdef'.repeat(4))).toBe(true);
    for (const value of edge) expect(isSha256Hex(value)).toBe(false);
    // Each character just outside the digit and letter ranges, at each end of the string.
    for (const c of ['/', ':', '`', 'g', 'A', ' '])
      for (const at of [0, 63])
        expect(isSha256Hex(`${'a'.repeat(at)}${c}${'a'.repeat(63 - at)}`)).toBe(false);
  });
});

describe("a click's data guard (hand-written for speed)", () => {
  const valid = {
    clickId: 'click-1',
    partnerId: 'partner-1',
    visitorId: 'visitor-1',
    landing: { campaign: 'spring', url: 'https://vendor.example/pricing' },
    ipFingerprint: 'ab'.repeat(32),
    userAgentFingerprint: null,
    fraudReason: null,
  };
  const edge: readonly unknown[] = [
    undefined,
    null,
    1,
    '',
    ' x',
    'x\u3000',
    'x\u0000',
    'x\u007f',
    'a'.repeat(200),
    'a'.repeat(201),
    'a'.repeat(2000),
    'a'.repeat(2001),
    'F'.repeat(64),
    'f'.repeat(64),
    'f'.repeat(63),
    [],
    {},
    { campaign: null, url: null },
    { campaign: 'x' },
    { campaign: null, url: null, extra: 1 },
    { campaign: ' spaced ', url: 'x\u0001' },
  ];
  const { ClickTracked } = CATALOGUE;

  it('accepts exactly what the generic codec accepts', () => {
    for (const key of Object.keys(valid))
      for (const value of edge) {
        const candidate = { ...valid, [key]: value };
        expect([key, value, ClickTracked.data.is(candidate)]).toEqual([
          key,
          value,
          GenericClickTrackedData.is(candidate),
        ]);
      }
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(valid)),
        fc.oneof(fc.constantFrom(...edge), fc.string({ unit: 'binary', maxLength: 8 })),
        fc.boolean(),
        (key, value, extra) => {
          const candidate: Record<string, unknown> = { ...valid, [key]: value };
          if (extra) candidate['extra'] = 1;
          expect(ClickTracked.data.is(candidate)).toBe(GenericClickTrackedData.is(candidate));
        },
      ),
      { numRuns: 2000 },
    );
    expect(ClickTracked.data.is(valid)).toBe(true);
  });
});
