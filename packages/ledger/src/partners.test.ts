import * as E from 'fp-ts/Either';
import type { EventData } from '@partner-ledger/events';
import { createInMemoryStore } from '@partner-ledger/store';
import { createLedger } from './ledger';
import { streams } from './naming';
import { basicProgram, partnerJoined, planPublished, programConfigured } from './testing/fixtures';
import { SPEC_NOW, appendGiven, ledgerSpec } from './testing/spec';
import type { AnyGivenEvent } from './testing/spec';

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

describe('changePartnerContactDetails', () => {
  const change = {
    command: 'changePartnerContactDetails',
    partnerId: 'p1',
    contactEmail: 'new@blog.example',
    payee: { method: 'paypal', email: 'pay@blog.example' },
  };
  const changed = (
    data: Partial<EventData<'PartnerContactDetailsChanged'>>,
    occurredAt?: string,
  ): AnyGivenEvent => ({
    type: 'PartnerContactDetailsChanged',
    data: { partnerId: 'p1', ...data },
    ...(occurredAt === undefined ? {} : { occurredAt }),
  });

  it('records the fields given, and only those', () =>
    spec
      .given(basicProgram('p1'))
      .when(change)
      .then([
        {
          type: 'PartnerContactDetailsChanged',
          data: {
            partnerId: 'p1',
            contactEmail: 'new@blog.example',
            payee: { method: 'paypal', email: 'pay@blog.example' },
          },
        },
      ]));

  it('rejects an unknown partner', () =>
    spec.given(basicProgram()).when(change).thenRejects('PARTNER_NOT_FOUND', { field: 'partnerId' }));

  it('rejects a change that gives no detail', () =>
    spec
      .given(basicProgram('p1'))
      .when({ command: 'changePartnerContactDetails', partnerId: 'p1' })
      .thenRejects('NO_CHANGE', { field: 'name' }));

  it("is a repeat when it repeats the partner's last change exactly (a retry): nothing is appended", () =>
    spec
      .given([
        ...basicProgram('p1'),
        changed({ contactEmail: 'new@blog.example', payee: { method: 'paypal', email: 'pay@blog.example' } }),
      ])
      .when(change)
      .thenAlreadyRecorded());

  it('is a repeat whatever the order of the payee fields (canonical comparison)', () =>
    spec
      .given([
        ...basicProgram('p1'),
        changed({
          payee: { email: 'pay@blog.example', method: 'paypal' } as never,
          contactEmail: 'new@blog.example',
        }),
      ])
      .when(change)
      .thenAlreadyRecorded());

  it('rejects details the partner already has (from joining or an earlier change), naming the field', () =>
    spec
      .given([
        ...basicProgram('p1'),
        changed({ contactEmail: 'new@blog.example' }),
        changed({ taxId: 'FR-1' }),
      ])
      .when({
        command: 'changePartnerContactDetails',
        partnerId: 'p1',
        name: 'Partner p1',
        contactEmail: 'new@blog.example',
      })
      .thenRejects('NO_CHANGE', { field: 'name' }));

  it('records a change when any given field differs from the current details', () =>
    spec
      .given([...basicProgram('p1'), changed({ contactEmail: 'new@blog.example' })])
      .when({
        command: 'changePartnerContactDetails',
        partnerId: 'p1',
        contactEmail: 'new@blog.example',
        taxId: 'FR-1',
      })
      .then([{ type: 'PartnerContactDetailsChanged', data: { taxId: 'FR-1' } }]));

  it('a repeat of the last change at another given occurredAt is not that change', () =>
    spec
      .given([...basicProgram('p1'), changed({ taxId: 'FR-1' }, '2026-03-02T00:00:00.000Z')])
      .when({
        command: 'changePartnerContactDetails',
        partnerId: 'p1',
        taxId: 'FR-1',
        occurredAt: '2026-03-03T00:00:00.000Z',
      })
      .thenRejects('NO_CHANGE', { field: 'taxId' }));
});

describe('changePartnerContactDetails: idempotent by its identity (requestId, else occurredAt)', () => {
  const setUp = async () => {
    const store = createInMemoryStore();
    await appendGiven(store, basicProgram('p1'));
    const ledger = createLedger({ store, clock: () => new Date(SPEC_NOW), ids: () => 'x' });
    const count = async () => {
      let n = 0;
      for await (const _ of store.readStream(streams.partner('p1'))) n += 1;
      return n;
    };
    return { ledger, count };
  };

  it('by requestId: a late retry after another change is already recorded and does not undo it', async () => {
    const { ledger, count } = await setUp();
    const first = { partnerId: 'p1', name: 'Blog One', requestId: 'crm-1' };
    const recorded = await ledger.changePartnerContactDetails(first)();
    expect(recorded).toMatchObject({ right: { alreadyRecorded: false } });
    expect(
      await ledger.changePartnerContactDetails({ partnerId: 'p1', name: 'Blog 1', requestId: 'crm-2' })(),
    ).toMatchObject({ right: { alreadyRecorded: false } });
    const before = await count();
    const retried = await ledger.changePartnerContactDetails(first)();
    expect(retried).toMatchObject({ right: { alreadyRecorded: true } });
    if (E.isRight(recorded) && E.isRight(retried))
      expect(retried.right.events.map((e) => e.id)).toEqual(recorded.right.events.map((e) => e.id));
    expect(await ledger.changePartnerContactDetails({ ...first, name: 'Other name' })()).toMatchObject({
      left: { code: 'IDEMPOTENCY_CONFLICT', field: 'requestId' },
    });
    expect(await count()).toBe(before);
  });

  it('by occurredAt: a re-sent change is already recorded, the same moment with other details a conflict', async () => {
    const { ledger, count } = await setUp();
    const first = { partnerId: 'p1', taxId: 'FR-1', occurredAt: '2026-03-10T00:00:00.000Z' };
    expect(await ledger.changePartnerContactDetails(first)()).toMatchObject({
      right: { alreadyRecorded: false },
    });
    expect(
      await ledger.changePartnerContactDetails({
        partnerId: 'p1',
        taxId: 'FR-2',
        occurredAt: '2026-03-11T00:00:00.000Z',
      })(),
    ).toMatchObject({ right: { alreadyRecorded: false } });
    const before = await count();
    expect(await ledger.changePartnerContactDetails(first)()).toMatchObject({
      right: { alreadyRecorded: true },
    });
    expect(await ledger.changePartnerContactDetails({ ...first, taxId: 'FR-3' })()).toMatchObject({
      left: { code: 'IDEMPOTENCY_CONFLICT', field: 'occurredAt' },
    });
    expect(await count()).toBe(before);
  });

  it('the event id is never derived from the details: the same details for two partners get unrelated ids', async () => {
    const { ledger } = await setUp();
    const a = await ledger.changePartnerContactDetails({ partnerId: 'p1', taxId: 'FR-1' })();
    const b = await ledger.changePartnerContactDetails({ partnerId: 'p1', taxId: 'FR-2' })();
    if (E.isLeft(a) || E.isLeft(b)) throw new Error('expected both recorded');
    // Both are revision-based: changing the details alone does not change what the id is made of.
    expect(a.right.events[0]!.id).not.toBe(b.right.events[0]!.id);
  });
});
