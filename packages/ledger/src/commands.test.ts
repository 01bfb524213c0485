import * as E from 'fp-ts/Either';
import { decodeCommand } from './commands';

const registerDeal = (expiresAt: string, occurredAt?: string) => ({
  command: 'registerDeal',
  registrationId: 'r1',
  partnerId: 'p1',
  accountId: 'acme',
  expectedValue: '100.00',
  currency: 'USD',
  expiresAt,
  ...(occurredAt === undefined ? {} : { occurredAt }),
});

describe('command timestamps', () => {
  it('accept any RFC 3339 date-time with a zone and carry its canonical form', () => {
    const decoded = decodeCommand(registerDeal('2027-03-01T00:00:00Z', '2026-12-01T10:00:00+02:00'));
    expect(decoded).toEqual(
      E.right(
        expect.objectContaining({
          expiresAt: '2027-03-01T00:00:00.000Z',
          occurredAt: '2026-12-01T08:00:00.000Z',
        }),
      ),
    );
    const fx = decodeCommand({
      command: 'recordConversion',
      conversionId: 'c1',
      customerId: 'u1',
      kind: 'order',
      amount: '10.00',
      currency: 'EUR',
      fx: [{ from: 'EUR', to: 'USD', rate: '1.1', source: 'ECB', date: '2026-12-01T00:00:00Z' }],
    });
    expect(fx).toEqual(
      E.right(
        expect.objectContaining({ fx: [expect.objectContaining({ date: '2026-12-01T00:00:00.000Z' })] }),
      ),
    );
  });

  it('refuse a time without a zone or outside 1970 through 2999, naming the field', () => {
    expect(decodeCommand(registerDeal('2027-03-01T00:00:00'))).toMatchObject({
      left: { code: 'INVALID_COMMAND', field: 'expiresAt', message: expect.stringMatching(/with a zone/) },
    });
    expect(decodeCommand(registerDeal('2027-03-01T00:00:00Z', '0000-01-01T00:00:00.000Z'))).toMatchObject({
      left: { field: 'occurredAt', message: expect.stringMatching(/outside the ledger's range/) },
    });
  });
});

describe('command shape', () => {
  it('refuses a value nested 200,000 deep with a rejection, not a stack overflow', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i += 1) deep = [deep];
    const result = decodeCommand({
      command: 'trackClick',
      clickId: 'c',
      partnerId: 'p',
      visitorId: 'v',
      campaign: deep,
    });
    expect(result).toMatchObject({
      left: { code: 'INVALID_COMMAND', message: expect.stringContaining('nested deeper than 64 levels') },
    });
    if (E.isLeft(result)) expect(result.left.field).toMatch(/^campaign(\[0\])+$/);
  });
});

describe('flat commands', () => {
  const click = {
    command: 'trackClick',
    clickId: 'c1',
    partnerId: 'p1',
    visitorId: 'v1',
    campaign: 'newsletter',
    occurredAt: '2026-03-10T00:00:00.000Z',
  };

  it('decode to a copy: a caller changing its object afterwards changes nothing recorded', () => {
    const input = { ...click };
    const decoded = decodeCommand(input);
    input.clickId = 'changed';
    expect(decoded).toEqual(E.right({ ...click }));
  });

  it('decode as the full decode does: canonical times, undefined fields dropped, unknown fields named', () => {
    expect(decodeCommand({ ...click, occurredAt: '2026-03-10T01:00:00+01:00' })).toEqual(
      E.right({ ...click, occurredAt: '2026-03-10T00:00:00.000Z' }),
    );
    const withUndefined = decodeCommand({ ...click, causationId: undefined });
    expect(withUndefined).toEqual(E.right(click));
    if (E.isRight(withUndefined)) expect(Object.keys(withUndefined.right)).not.toContain('causationId');
    expect(decodeCommand({ ...click, colour: 'red' })).toMatchObject({
      left: { code: 'INVALID_COMMAND', field: 'colour' },
    });
  });
});

describe('configureProgram precedence', () => {
  const configure = (precedence: unknown) => ({
    command: 'configureProgram',
    programId: 'program',
    name: 'P',
    currency: 'USD',
    attribution: { model: 'lastTouch', clickWindowDays: 30, halfLifeDays: 7, precedence },
    minimumPayout: '50.00',
    minClickToConversionSeconds: 0,
  });

  it('refuses a source given twice, naming the field and the source', () => {
    expect(decodeCommand(configure(['coupon', 'coupon', 'clicks']))).toMatchObject({
      left: {
        code: 'INVALID_COMMAND',
        field: 'attribution.precedence',
        message: expect.stringContaining('"coupon" more than once'),
      },
    });
  });

  it('refuses an unknown source, naming its place', () => {
    expect(decodeCommand(configure(['clicks', 'referral']))).toMatchObject({
      left: { field: 'attribution.precedence[1]', message: expect.stringContaining('"referral"') },
    });
  });

  it('takes any order of distinct sources, a subset included (a source left out never takes credit)', () => {
    for (const precedence of [['clicks', 'coupon', 'dealRegistration'], ['clicks'], []])
      expect(E.isRight(decodeCommand(configure(precedence)))).toBe(true);
  });
});
