import type * as t from 'io-ts';
import { CATALOGUE } from '../catalogue/events';
import { fieldsOf } from './personal';

/** Field names that identify a person, or look as if they might: each must be marked or excused below. */
const LOOKS_PERSONAL =
  /name|e-?mail|phone|address|tax|iban|bic|swift|payee|holder|recipient|visitor|fingerprint|\bip|birth|passport|ssn|ipaddr|useragent/i;

/**
 * Fields whose name looks personal but which hold no personal data, each with the reason. Adding a field
 * to this list is a decision a reviewer sees.
 */
const NOT_PERSONAL: Record<string, string> = {
  'ProgramConfigured.name': "the program's own name (a business, not a person)",
  'CommissionPlanPublished.name': "a commission plan's name",
  'CommissionPlanPublished.rules[].tiers[].name': "a tier's label in a plan",
};

const catalogueFields = Object.entries(CATALOGUE).flatMap(([type, definition]) =>
  fieldsOf(definition.data as t.Mixed).map((field) => ({ ...field, key: `${type}.${field.path}` })),
);

describe('personal data in the catalogue', () => {
  it('walks every event (the walker sees the fields of each codec)', () => {
    for (const [type, definition] of Object.entries(CATALOGUE))
      expect([type, fieldsOf(definition.data as t.Mixed).length > 0]).toEqual([type, true]);
  });

  it('marks every field whose name looks personal, unless it is excused with a reason', () => {
    const unmarked = catalogueFields
      .filter((f) => LOOKS_PERSONAL.test(f.name) && f.personal === undefined && !(f.key in NOT_PERSONAL))
      .map((f) => f.key);
    expect(unmarked).toEqual([]);
  });

  it('excuses only fields that exist and are not marked', () => {
    for (const key of Object.keys(NOT_PERSONAL)) {
      const field = catalogueFields.find((f) => f.key === key);
      expect([key, field?.personal]).toEqual([key, undefined]);
      expect(field).toBeDefined();
    }
  });

  it('lists the personal fields of the catalogue, with how each is protected', () => {
    expect(
      catalogueFields.filter((f) => f.personal !== undefined).map((f) => `${f.key}: ${f.personal}`),
    ).toEqual([
      'PartnerJoined.name: sealed',
      'PartnerJoined.contactEmail: sealed',
      'PartnerJoined.payee: sealed',
      'PartnerJoined.payee.email: sealed',
      'PartnerJoined.payee.accountHolderName: sealed',
      'PartnerJoined.payee.iban: sealed',
      'PartnerJoined.payee.wiseRecipientId: sealed',
      'PartnerJoined.taxId: sealed',
      'PartnerContactDetailsChanged.name: sealed',
      'PartnerContactDetailsChanged.contactEmail: sealed',
      'PartnerContactDetailsChanged.payee: sealed',
      'PartnerContactDetailsChanged.payee.email: sealed',
      'PartnerContactDetailsChanged.payee.accountHolderName: sealed',
      'PartnerContactDetailsChanged.payee.iban: sealed',
      'PartnerContactDetailsChanged.payee.wiseRecipientId: sealed',
      'PartnerContactDetailsChanged.taxId: sealed',
      'ClickTracked.visitorId: pseudonym',
      'ClickTracked.ipFingerprint: pseudonym',
      'ClickTracked.userAgentFingerprint: pseudonym',
      'ConversionAttributed.visitorId: pseudonym',
    ]);
  });
});
