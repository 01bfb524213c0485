import { basicProgram, partnerJoined, planPublished, programConfigured } from './testing/fixtures';
import { ledgerSpec } from './testing/spec';

const spec = ledgerSpec();

const program = {
  command: 'configureProgram',
  programId: 'acme',
  name: 'Acme partners',
  currency: 'USD',
  attribution: {
    model: 'linear',
    clickWindowDays: 60,
    halfLifeDays: 7,
    precedence: ['dealRegistration', 'coupon', 'clicks'],
  },
  minimumPayout: '50.00',
  minClickToConversionSeconds: 5,
};

describe('configureProgram', () => {
  it('records the settings', () =>
    spec
      .given([])
      .when(program)
      .then([{ type: 'ProgramConfigured', data: { programId: 'acme', minimumPayout: '50.00' } }]));

  it('records a change of settings', () =>
    spec
      .given([programConfigured()])
      .when(program)
      .then([{ type: 'ProgramConfigured', data: { attribution: { model: 'linear' } } }]));

  it('is a repeat when the settings are the same', () =>
    spec
      .given([
        programConfigured({ attribution: program.attribution as never, minClickToConversionSeconds: 5 }),
      ])
      .when(program)
      .thenAlreadyRecorded());

  it('rejects a minimum payout with more decimals than the currency has, naming the field', () =>
    spec
      .given([])
      .when({ ...program, minimumPayout: '50.001' })
      .thenRejects('INVALID_COMMAND', { field: 'minimumPayout' }));

  it('rejects money given as a number', () =>
    spec
      .given([])
      .when({ ...program, minimumPayout: 50 })
      .thenRejects('INVALID_COMMAND', { field: 'minimumPayout' }));

  it('rejects an unknown command, naming the tag', () =>
    spec.given([]).when({ command: 'launchRocket' }).thenRejects('INVALID_COMMAND', { field: 'command' }));

  it('rejects an occurrence time later than the clock', () =>
    spec
      .given([])
      .when({ ...program, occurredAt: '2030-01-01T00:00:00.000Z' })
      .thenRejects('OCCURRED_IN_FUTURE', { field: 'occurredAt' }));
});

const join = {
  command: 'joinPartner',
  partnerId: 'p1',
  name: 'Partner one',
  partnerType: 'affiliate',
  planId: 'standard',
  payoutCurrency: 'USD',
};

describe('joinPartner', () => {
  it('records the partner with defaults for the optional fields', () =>
    spec
      .given(basicProgram())
      .when(join)
      .then([
        {
          type: 'PartnerJoined',
          data: {
            partnerId: 'p1',
            planId: 'standard',
            parentPartnerId: null,
            couponCodes: [],
            ownAccountIds: [],
          },
        },
      ]));

  it('joins a sub-partner under its parent', () =>
    spec
      .given(basicProgram('parent'))
      .when({ ...join, parentPartnerId: 'parent' })
      .then([{ type: 'PartnerJoined', data: { parentPartnerId: 'parent' } }]));

  it('is a repeat when the same partner joins again with the same details', () =>
    spec
      .given([...basicProgram(), partnerJoined('p1', { name: 'Partner one' })])
      .when(join)
      .thenAlreadyRecorded());

  it('rejects the same partner id with other details', () =>
    spec
      .given([...basicProgram(), partnerJoined('p1', { name: 'Someone else' })])
      .when(join)
      .thenRejects('IDEMPOTENCY_CONFLICT', { field: 'partnerId' }));

  it('rejects a plan that was never published', () =>
    spec.given([programConfigured()]).when(join).thenRejects('PLAN_NOT_FOUND', { field: 'planId' }));

  it('rejects an unknown parent', () =>
    spec
      .given(basicProgram())
      .when({ ...join, parentPartnerId: 'ghost' })
      .thenRejects('PARENT_PARTNER_NOT_FOUND', { field: 'parentPartnerId' }));

  it('rejects a partner as its own parent', () =>
    spec
      .given(basicProgram())
      .when({ ...join, parentPartnerId: 'p1' })
      .thenRejects('PARENT_PARTNER_NOT_FOUND', { field: 'parentPartnerId' }));

  it('rejects a coupon code that another partner owns, naming the owner', async () => {
    const rejection = await spec
      .given([...basicProgram(), partnerJoined('p0', { couponCodes: ['SPRING'] })])
      .when({ ...join, couponCodes: ['OTHER', 'SPRING'] })
      .thenRejects('COUPON_TAKEN', { field: 'couponCodes[1]', rule: 'oneOwnerPerCoupon' });
    expect(rejection.message).toContain('"p0"');
  });

  it('rejects an unknown partner type, naming the field', () =>
    spec
      .given(basicProgram())
      .when({ ...join, partnerType: 'spy' })
      .thenRejects('INVALID_COMMAND', { field: 'partnerType' }));

  it('rejects unexpected fields', () =>
    spec
      .given(basicProgram())
      .when({ ...join, nickname: 'x' })
      .thenRejects('INVALID_COMMAND', { field: 'nickname' }));
});

describe('publishPlan', () => {
  const publish = {
    command: 'publishPlan',
    planId: 'gold',
    version: 1,
    name: 'Gold',
    currency: 'USD',
    holdDays: 14,
    effectiveFrom: '2026-01-01T00:00:00.000Z',
    rules: [{ kind: 'flat', amount: '25.00' }],
  };

  it('publishes the first version with defaults for recurring, caps and overrides', () =>
    spec
      .given([])
      .when(publish)
      .then([
        {
          type: 'CommissionPlanPublished',
          data: {
            planId: 'gold',
            version: 1,
            recurringMaxMonths: null,
            caps: { perConversion: null, perPartnerPerPeriod: null },
            twoTierOverrideRate: null,
          },
        },
      ]));

  it('publishes the next version, effective later', () =>
    spec
      .given([planPublished({ planId: 'gold' })])
      .when({ ...publish, version: 2, effectiveFrom: '2026-03-01T00:00:00.000Z' })
      .then([{ type: 'CommissionPlanPublished', data: { version: 2 } }]));

  it('is a repeat when the same version is published again with the same content', () =>
    spec
      .given([
        planPublished({
          planId: 'gold',
          name: 'Gold',
          holdDays: 14,
          rules: [{ kind: 'flat', amount: '25.00' }],
        }),
      ])
      .when(publish)
      .thenAlreadyRecorded());

  it('rejects a version published again with other content (plans are never edited)', () =>
    spec
      .given([planPublished({ planId: 'gold' })])
      .when(publish)
      .thenRejects('IDEMPOTENCY_CONFLICT', { field: 'version' }));

  it('rejects a gap in the versions', () =>
    spec
      .given([planPublished({ planId: 'gold' })])
      .when({ ...publish, version: 3, effectiveFrom: '2026-03-01T00:00:00.000Z' })
      .thenRejects('PLAN_VERSION_OUT_OF_ORDER', { field: 'version' }));

  it('rejects a version effective no later than the one it replaces (no re-rating of history)', () =>
    spec
      .given([planPublished({ planId: 'gold', effectiveFrom: '2026-02-01T00:00:00.000Z' })])
      .when({ ...publish, version: 2, effectiveFrom: '2026-02-01T00:00:00.000Z' })
      .thenRejects('PLAN_EFFECTIVE_FROM_NOT_LATER', { field: 'effectiveFrom', rule: 'noRetroactiveRating' }));

  it('rejects tiers that do not climb', () =>
    spec
      .given([])
      .when({
        ...publish,
        rules: [
          {
            kind: 'tieredRevenueShare',
            period: 'month',
            measure: 'revenue',
            tiers: [
              { name: 'base', from: '0.00', rate: '0.1' },
              { name: 'silver', from: '0.00', rate: '0.2' },
            ],
          },
        ],
      })
      .thenRejects('PLAN_INVALID', { field: 'rules[0].tiers[1].from' }));

  it('accepts a tier ladder that starts above 0 (lines below it earn at tier null, rate 0)', () =>
    spec
      .given([])
      .when({
        ...publish,
        rules: [
          {
            kind: 'tieredRevenueShare',
            period: 'month',
            measure: 'conversions',
            tiers: [
              { name: 'silver', from: '3', rate: '0.1' },
              { name: 'gold', from: '10', rate: '0.2' },
            ],
          },
        ],
      })
      .then([
        { type: 'CommissionPlanPublished', data: { rules: [{ tiers: [{ from: '3' }, { from: '10' }] }] } },
      ]));

  it('rejects a plan without rules', () =>
    spec
      .given([])
      .when({ ...publish, rules: [] })
      .thenRejects('PLAN_INVALID', { field: 'rules' }));

  it('rejects a flat amount with too many decimals for the plan currency', () =>
    spec
      .given([])
      .when({ ...publish, currency: 'JPY', rules: [{ kind: 'flat', amount: '25.5' }] })
      .thenRejects('INVALID_COMMAND', { field: 'rules[0].amount' }));
});

describe('changePartnerPlan', () => {
  const change = { command: 'changePartnerPlan', partnerId: 'p1', planId: 'gold' };

  it('records the change with the previous plan', () =>
    spec
      .given([...basicProgram('p1'), planPublished({ planId: 'gold' })])
      .when(change)
      .then([
        { type: 'PartnerPlanChanged', data: { partnerId: 'p1', planId: 'gold', previousPlanId: 'standard' } },
      ]));

  it('rejects an unknown partner', () =>
    spec
      .given([...basicProgram(), planPublished({ planId: 'gold' })])
      .when(change)
      .thenRejects('PARTNER_NOT_FOUND', { field: 'partnerId' }));

  it('rejects an unpublished plan', () =>
    spec.given(basicProgram('p1')).when(change).thenRejects('PLAN_NOT_FOUND', { field: 'planId' }));

  it('rejects a change to the plan the partner is on', () =>
    spec
      .given(basicProgram('p1'))
      .when({ ...change, planId: 'standard' })
      .thenRejects('NO_CHANGE', { field: 'planId' }));

  it('rejects a change for a terminated partner', () =>
    spec
      .given([
        ...basicProgram('p1'),
        planPublished({ planId: 'gold' }),
        {
          type: 'PartnerStatusChanged',
          data: { partnerId: 'p1', status: 'terminated', previousStatus: 'active', reason: 'fraud' },
        },
      ])
      .when(change)
      .thenRejects('PARTNER_TERMINATED'));
});

describe('changePartnerTier', () => {
  const change = { command: 'changePartnerTier', partnerId: 'p1', tier: 'gold', reason: 'quarterly review' };

  it('records the tier with the previous one', () =>
    spec
      .given(basicProgram('p1'))
      .when(change)
      .then([
        {
          type: 'PartnerTierChanged',
          data: { tier: 'gold', previousTier: null, reason: 'quarterly review' },
        },
      ]));

  it('rejects an unknown partner', () =>
    spec.given(basicProgram()).when(change).thenRejects('PARTNER_NOT_FOUND'));

  it('rejects the tier the partner is already in', () =>
    spec
      .given([
        ...basicProgram('p1'),
        {
          type: 'PartnerTierChanged',
          data: { partnerId: 'p1', tier: 'gold', previousTier: null, reason: 'x' },
        },
      ])
      .when(change)
      .thenRejects('NO_CHANGE', { field: 'tier' }));
});

describe('changePartnerStatus', () => {
  const suspend = { command: 'changePartnerStatus', partnerId: 'p1', status: 'suspended', reason: 'review' };

  it('records the status with the previous one', () =>
    spec
      .given(basicProgram('p1'))
      .when(suspend)
      .then([{ type: 'PartnerStatusChanged', data: { status: 'suspended', previousStatus: 'active' } }]));

  it('rejects an unknown partner', () =>
    spec.given(basicProgram()).when(suspend).thenRejects('PARTNER_NOT_FOUND'));

  it('rejects the status the partner already has', () =>
    spec
      .given(basicProgram('p1'))
      .when({ ...suspend, status: 'active' })
      .thenRejects('NO_CHANGE', { field: 'status' }));

  it('rejects reactivating a terminated partner (termination is final)', () =>
    spec
      .given([
        ...basicProgram('p1'),
        {
          type: 'PartnerStatusChanged',
          data: { partnerId: 'p1', status: 'terminated', previousStatus: 'active', reason: 'fraud' },
        },
      ])
      .when({ ...suspend, status: 'active' })
      .thenRejects('PARTNER_TERMINATED', { rule: 'terminationIsFinal' }));
});
