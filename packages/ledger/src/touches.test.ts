import { basicProgram, clickTracked, dealRegistered, registrationApproved } from './testing/fixtures';
import { ledgerSpec } from './testing/spec';

const spec = ledgerSpec();
const fp = 'a'.repeat(64);

describe('trackClick', () => {
  const click = {
    command: 'trackClick',
    clickId: 'c1',
    partnerId: 'p1',
    visitorId: 'v1',
    occurredAt: '2026-03-10T09:00:00.000Z',
    campaign: 'spring',
    ipFingerprint: fp,
  };

  it('records the click in the visitor stream, with fingerprints only', async () => {
    const { result } = await spec
      .given(basicProgram('p1'))
      .when(click)
      .then([
        {
          type: 'ClickTracked',
          occurredAt: '2026-03-10T09:00:00.000Z',
          data: {
            clickId: 'c1',
            partnerId: 'p1',
            visitorId: 'v1',
            landing: { campaign: 'spring', url: null },
            ipFingerprint: fp,
            userAgentFingerprint: null,
            fraudReason: null,
          },
        },
      ]);
    expect(result).toMatchObject({ right: { stream: 'visitor-v1' } });
  });

  it('keeps a click flagged as fraud, with its reason', () =>
    spec
      .given(basicProgram('p1'))
      .when({ ...click, fraudReason: 'datacenter IP' })
      .then([{ type: 'ClickTracked', data: { fraudReason: 'datacenter IP' } }]));

  it('ignores a duplicate click id: the same click again appends nothing', () =>
    spec
      .given([
        ...basicProgram('p1'),
        clickTracked('c1', 'p1', 'v1', '2026-03-10T09:00:00.000Z', {
          landing: { campaign: 'spring', url: null },
          ipFingerprint: fp,
        }),
      ])
      .when(click)
      .thenAlreadyRecorded());

  it('rejects a duplicate click id with other details (never a second touch)', () =>
    spec
      .given([...basicProgram('p1'), clickTracked('c1', 'p1', 'v1', '2026-03-09T09:00:00.000Z')])
      .when(click)
      .thenRejects('IDEMPOTENCY_CONFLICT', { field: 'clickId', rule: 'duplicateClickIdsIgnored' }));

  it('rejects a duplicate click id recorded for another visitor', () =>
    spec
      .given([...basicProgram('p1'), clickTracked('c1', 'p1', 'v2', '2026-03-09T09:00:00.000Z')])
      .when(click)
      .thenRejects('IDEMPOTENCY_CONFLICT', { field: 'clickId' }));

  it('rejects a click of an unknown partner', () =>
    spec.given(basicProgram()).when(click).thenRejects('PARTNER_NOT_FOUND', { field: 'partnerId' }));

  it('rejects a raw IP address where a fingerprint belongs', () =>
    spec
      .given(basicProgram('p1'))
      .when({ ...click, ipFingerprint: '203.0.113.7' })
      .thenRejects('INVALID_COMMAND', { field: 'ipFingerprint', message: /never a raw IP/ }));
});

describe('recordInfluenceTouch', () => {
  const touch = {
    command: 'recordInfluenceTouch',
    touchId: 't1',
    partnerId: 'tech',
    accountId: 'acme.com',
    kind: 'integrationInstalled',
  };

  it('records the touch in the account stream', async () => {
    const { result } = await spec
      .given(basicProgram('tech'))
      .when(touch)
      .then([{ type: 'InfluenceTouchRecorded', data: { touchId: 't1', accountId: 'acme.com', note: null } }]);
    expect(result).toMatchObject({ right: { stream: 'account-acme.com' } });
  });

  it('is a repeat when recorded again', () =>
    spec
      .given([
        ...basicProgram('tech'),
        {
          type: 'InfluenceTouchRecorded',
          data: {
            touchId: 't1',
            partnerId: 'tech',
            accountId: 'acme.com',
            kind: 'integrationInstalled',
            note: null,
          },
        },
      ])
      .when(touch)
      .thenAlreadyRecorded());

  it('rejects the same touch id with other details', () =>
    spec
      .given([
        ...basicProgram('tech'),
        {
          type: 'InfluenceTouchRecorded',
          data: { touchId: 't1', partnerId: 'tech', accountId: 'acme.com', kind: 'coSelling', note: null },
        },
      ])
      .when(touch)
      .thenRejects('IDEMPOTENCY_CONFLICT', { field: 'touchId' }));

  it('rejects an unknown partner', () =>
    spec.given(basicProgram()).when(touch).thenRejects('PARTNER_NOT_FOUND'));
});

describe('deal registration', () => {
  const register = {
    command: 'registerDeal',
    registrationId: 'r1',
    partnerId: 'reseller',
    accountId: 'acme.com',
    expectedValue: '25000.00',
    currency: 'USD',
    expiresAt: '2026-06-01T00:00:00.000Z',
  };
  const ref = { registrationId: 'r1', accountId: 'acme.com' };
  const registered = dealRegistered('r1', 'reseller', 'acme.com', '2026-04-01T00:00:00.000Z');
  const approved = registrationApproved('r1', 'reseller', 'acme.com');

  describe('registerDeal', () => {
    it('registers a prospect account', () =>
      spec
        .given(basicProgram('reseller'))
        .when(register)
        .then([
          {
            type: 'DealRegistered',
            data: { registrationId: 'r1', accountId: 'acme.com', expiresAt: '2026-06-01T00:00:00.000Z' },
          },
        ]));

    it('rejects a second active registration for the account, naming the holder', async () => {
      const rejection = await spec
        .given([...basicProgram('reseller', 'agency'), registered])
        .when({ ...register, registrationId: 'r2', partnerId: 'agency' })
        .thenRejects('REGISTRATION_CONFLICT', {
          field: 'accountId',
          rule: 'oneActiveRegistrationPerAccount',
        });
      expect(rejection.message).toContain('"reseller"');
      expect(rejection.message).toContain('"r1"');
    });

    it('accepts a new registration once the previous one has expired', () =>
      spec
        .given([
          ...basicProgram('reseller', 'agency'),
          dealRegistered('r1', 'reseller', 'acme.com', '2026-03-01T00:00:00.000Z'),
        ])
        .when({ ...register, registrationId: 'r2', partnerId: 'agency' })
        .then([{ type: 'DealRegistered', data: { registrationId: 'r2', partnerId: 'agency' } }]));

    it('accepts a new registration once the previous one was rejected', () =>
      spec
        .given([
          ...basicProgram('reseller', 'agency'),
          registered,
          {
            type: 'DealRegistrationRejected',
            data: { registrationId: 'r1', partnerId: 'reseller', accountId: 'acme.com', reason: 'dup' },
          },
        ])
        .when({ ...register, registrationId: 'r2', partnerId: 'agency' })
        .then([{ type: 'DealRegistered' }]));

    it('is a repeat when the same registration is made again', () =>
      spec
        .given([
          ...basicProgram('reseller'),
          {
            ...dealRegistered('r1', 'reseller', 'acme.com', '2026-06-01T00:00:00.000Z'),
            data: {
              ...dealRegistered('r1', 'reseller', 'acme.com', '2026-06-01T00:00:00.000Z').data,
              expectedValue: '25000.00',
            },
          },
        ])
        .when(register)
        .thenAlreadyRecorded());

    it('rejects the same registration id with other details', () =>
      spec
        .given([...basicProgram('reseller'), registered])
        .when(register)
        .thenRejects('IDEMPOTENCY_CONFLICT', { field: 'registrationId' }));

    it('rejects a registration by an unknown partner', () =>
      spec.given(basicProgram()).when(register).thenRejects('PARTNER_NOT_FOUND'));

    it('rejects a registration by a suspended partner', () =>
      spec
        .given([
          ...basicProgram('reseller'),
          {
            type: 'PartnerStatusChanged',
            data: { partnerId: 'reseller', status: 'suspended', previousStatus: 'active', reason: 'x' },
          },
        ])
        .when(register)
        .thenRejects('PARTNER_NOT_ACTIVE'));

    it('rejects an expiry that is not after the registration', () =>
      spec
        .given(basicProgram('reseller'))
        .when({ ...register, expiresAt: '2026-03-01T00:00:00.000Z' })
        .thenRejects('EXPIRY_NOT_LATER', { field: 'expiresAt' }));
  });

  describe('approveDealRegistration', () => {
    const approve = { command: 'approveDealRegistration', ...ref };
    it('approves a pending registration', () =>
      spec
        .given([...basicProgram('reseller'), registered])
        .when(approve)
        .then([{ type: 'DealRegistrationApproved', data: { registrationId: 'r1', partnerId: 'reseller' } }]));
    it('is a repeat when approved again', () =>
      spec
        .given([...basicProgram('reseller'), registered, approved])
        .when(approve)
        .thenAlreadyRecorded());
    it('rejects an unknown registration', () =>
      spec
        .given(basicProgram('reseller'))
        .when(approve)
        .thenRejects('REGISTRATION_NOT_FOUND', { field: 'registrationId' }));
    it('rejects an expired registration', () =>
      spec
        .given([
          ...basicProgram('reseller'),
          dealRegistered('r1', 'reseller', 'acme.com', '2026-03-10T00:00:00.000Z'),
        ])
        .when(approve)
        .thenRejects('REGISTRATION_EXPIRED', { rule: 'registrationExpiry' }));
    it('rejects a rejected registration', () =>
      spec
        .given([
          ...basicProgram('reseller'),
          registered,
          {
            type: 'DealRegistrationRejected',
            data: { registrationId: 'r1', partnerId: 'reseller', accountId: 'acme.com', reason: 'dup' },
          },
        ])
        .when(approve)
        .thenRejects('REGISTRATION_CLOSED'));
  });

  describe('rejectDealRegistration', () => {
    const rejectIt = { command: 'rejectDealRegistration', ...ref, reason: 'already a customer' };
    it('rejects a pending registration with its reason', () =>
      spec
        .given([...basicProgram('reseller'), registered])
        .when(rejectIt)
        .then([{ type: 'DealRegistrationRejected', data: { reason: 'already a customer' } }]));
    it('is a repeat when rejected again for the same reason', () =>
      spec
        .given([
          ...basicProgram('reseller'),
          registered,
          {
            type: 'DealRegistrationRejected',
            data: {
              registrationId: 'r1',
              partnerId: 'reseller',
              accountId: 'acme.com',
              reason: 'already a customer',
            },
          },
        ])
        .when(rejectIt)
        .thenAlreadyRecorded());
    it('refuses to reject an approved registration', () =>
      spec
        .given([...basicProgram('reseller'), registered, approved])
        .when(rejectIt)
        .thenRejects('REGISTRATION_NOT_PENDING'));
    it('rejects an unknown registration', () =>
      spec.given(basicProgram('reseller')).when(rejectIt).thenRejects('REGISTRATION_NOT_FOUND'));
  });

  describe('extendDealRegistration', () => {
    const extend = { command: 'extendDealRegistration', ...ref, expiresAt: '2026-05-01T00:00:00.000Z' };
    it('moves the expiry later', () =>
      spec
        .given([...basicProgram('reseller'), registered, approved])
        .when(extend)
        .then([
          {
            type: 'DealRegistrationExtended',
            data: { previousExpiresAt: '2026-04-01T00:00:00.000Z', expiresAt: '2026-05-01T00:00:00.000Z' },
          },
        ]));
    it('rejects an expiry that is not later', () =>
      spec
        .given([...basicProgram('reseller'), registered])
        .when({ ...extend, expiresAt: '2026-03-20T00:00:00.000Z' })
        .thenRejects('EXPIRY_NOT_LATER', { field: 'expiresAt' }));
    it('rejects extending a registration that has already expired', () =>
      spec
        .given([
          ...basicProgram('reseller'),
          dealRegistered('r1', 'reseller', 'acme.com', '2026-03-10T00:00:00.000Z'),
        ])
        .when(extend)
        .thenRejects('REGISTRATION_EXPIRED'));
    it('rejects an unknown registration', () =>
      spec.given(basicProgram('reseller')).when(extend).thenRejects('REGISTRATION_NOT_FOUND'));
  });

  describe('expireDealRegistration', () => {
    const expire = { command: 'expireDealRegistration', ...ref };
    it('records the expiry of a registration past its date', () =>
      spec
        .given([
          ...basicProgram('reseller'),
          dealRegistered('r1', 'reseller', 'acme.com', '2026-03-10T00:00:00.000Z'),
        ])
        .when(expire)
        .then([{ type: 'DealRegistrationExpired', data: { registrationId: 'r1' } }]));
    it('refuses to expire a registration before its date', () =>
      spec
        .given([...basicProgram('reseller'), registered])
        .when(expire)
        .thenRejects('REGISTRATION_NOT_EXPIRED', { rule: 'registrationExpiry' }));
    it('is a repeat when expired again', () =>
      spec
        .given([
          ...basicProgram('reseller'),
          dealRegistered('r1', 'reseller', 'acme.com', '2026-03-10T00:00:00.000Z'),
          {
            type: 'DealRegistrationExpired',
            data: { registrationId: 'r1', partnerId: 'reseller', accountId: 'acme.com' },
          },
        ])
        .when(expire)
        .thenAlreadyRecorded());
    it('rejects an unknown registration', () =>
      spec.given(basicProgram('reseller')).when(expire).thenRejects('REGISTRATION_NOT_FOUND'));
  });
});
