import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import {
  Amount,
  AttributionSettingsInput,
  CommissionCaps,
  CommissionRule,
  Currency,
  HoldDays,
  Id,
  NonNegativeInteger,
  PARTNER_STATUSES,
  PARTNER_TYPES,
  PayeeDetails,
  PlanVersionNumber,
  Ratio,
  SignedAmount,
  Text,
  PositiveDecimal,
  TimestampInput,
  describeAmountProblem,
  findForbiddenKey,
  nullable,
  oneOf,
  parseAmount,
  struct,
  tagged,
  toDecodeProblems,
} from '@partner-ledger/events';
import type { CurrencyCode, DecodeProblem } from '@partner-ledger/events';
import type { LedgerRejection } from './rejection';

// The commands of the ledger, as io-ts codecs: what `createLedger`'s methods accept and what the CLI reads
// from NDJSON, one command per line, tagged by `command`. Fields reuse the catalogue's primitives, so a
// command is refused with the same readable, field-naming errors as a malformed event.

/** A rate as a command gives it: as the catalogue's ForeignExchange, with its date in any RFC 3339 form. */
const ForeignExchangeInput = struct('a foreign-exchange rate', {
  from: Currency,
  to: Currency,
  rate: PositiveDecimal,
  source: Text,
  date: TimestampInput,
});

/** Fields every command may carry: when it happened (default: now) and who and what caused it. */
const meta = {
  /** When it happened in the source system; default: the ledger's clock. Never in the future. */
  occurredAt: TimestampInput,
  /** Default: the ledger's `actor` option. */
  actor: Id,
  /** Default: a fresh id from the ledger's id generator. */
  correlationId: Id,
  causationId: Id,
};

/** A keyed HMAC-SHA-256 (64 lowercase hex digits), as ClickTracked stores it. */
const Fingerprint = new t.Type<string, string, unknown>(
  'a keyed HMAC-SHA-256 fingerprint (64 lowercase hex digits)',
  (u): u is string => typeof u === 'string' && /^[0-9a-f]{64}$/.test(u),
  (u, c) =>
    typeof u === 'string' && /^[0-9a-f]{64}$/.test(u)
      ? t.success(u)
      : t.failure(
          u,
          c,
          'expected a keyed HMAC-SHA-256 fingerprint (64 lowercase hex digits), never a raw IP address or user agent',
        ),
  (a) => a,
);

const command = <N extends string, R extends Record<string, t.Mixed>, O extends Record<string, t.Mixed>>(
  name: N,
  required: R,
  optional: O,
) => struct(`a ${name} command`, { command: t.literal(name), ...required }, { ...meta, ...optional });

export const ConfigureProgram = command(
  'configureProgram',
  {
    programId: Id,
    name: Text,
    currency: Currency,
    attribution: AttributionSettingsInput,
    minimumPayout: Amount,
    minClickToConversionSeconds: NonNegativeInteger,
  },
  {},
);

export const JoinPartner = command(
  'joinPartner',
  {
    partnerId: Id,
    name: Text,
    partnerType: oneOf(PARTNER_TYPES),
    planId: Id,
    payoutCurrency: Currency,
  },
  {
    parentPartnerId: nullable(Id),
    couponCodes: t.array(Id),
    ownAccountIds: t.array(Id),
    /** Personal data: sealed with the partner's key when the ledger has a key store. */
    contactEmail: Text,
    payee: PayeeDetails,
    taxId: Text,
  },
);

/**
 * Any of a partner's personal details; each given replaces the last, at least one is required. Idempotent
 * by its `requestId` when given, else by its `occurredAt` when given (a repeat is already recorded, the same
 * identity with other details is an IDEMPOTENCY_CONFLICT), else by repeating the partner's last change
 * exactly; a change to the details the partner already has is refused (NO_CHANGE).
 */
export const ChangePartnerContactDetails = command(
  'changePartnerContactDetails',
  { partnerId: Id },
  { name: Text, contactEmail: Text, payee: PayeeDetails, taxId: Text, requestId: Id },
);

export const PublishPlan = command(
  'publishPlan',
  {
    planId: Id,
    version: PlanVersionNumber,
    name: Text,
    currency: Currency,
    holdDays: HoldDays,
    effectiveFrom: TimestampInput,
    rules: t.array(CommissionRule),
  },
  {
    /** Default null: renewals earn for as long as the customer pays. */
    recurringMaxMonths: nullable(NonNegativeInteger),
    /** Default: no caps. */
    caps: CommissionCaps,
    twoTierOverrideRate: nullable(Ratio),
  },
);

export const ChangePartnerPlan = command('changePartnerPlan', { partnerId: Id, planId: Id }, {});

export const ChangePartnerTier = command(
  'changePartnerTier',
  { partnerId: Id, tier: Text, reason: Text },
  {},
);

export const ChangePartnerStatus = command(
  'changePartnerStatus',
  { partnerId: Id, status: oneOf(PARTNER_STATUSES), reason: Text },
  {},
);

export const TrackClick = command(
  'trackClick',
  { clickId: Id, partnerId: Id, visitorId: Id },
  {
    campaign: nullable(Text),
    url: nullable(Text),
    /** Keyed HMACs (64 hex digits) of the IP address and user agent; the raw values are never accepted. */
    ipFingerprint: nullable(Fingerprint),
    userAgentFingerprint: nullable(Fingerprint),
    /** Set by the caller's fraud screening: the click is kept but never eligible. */
    fraudReason: nullable(Text),
  },
);

export const RecordInfluenceTouch = command(
  'recordInfluenceTouch',
  {
    touchId: Id,
    partnerId: Id,
    accountId: Id,
    kind: oneOf(['integrationInstalled', 'coSelling', 'introduction', 'servicesEngagement'] as const),
  },
  { note: nullable(Text) },
);

export const RegisterDeal = command(
  'registerDeal',
  {
    registrationId: Id,
    partnerId: Id,
    accountId: Id,
    expectedValue: Amount,
    currency: Currency,
    expiresAt: TimestampInput,
  },
  {},
);

const registrationRef = { registrationId: Id, accountId: Id };

export const ApproveDealRegistration = command('approveDealRegistration', registrationRef, {});
export const RejectDealRegistration = command(
  'rejectDealRegistration',
  { ...registrationRef, reason: Text },
  {},
);
export const ExtendDealRegistration = command(
  'extendDealRegistration',
  { ...registrationRef, expiresAt: TimestampInput },
  {},
);
export const ExpireDealRegistration = command('expireDealRegistration', registrationRef, {});

export const RecordConversion = command(
  'recordConversion',
  {
    conversionId: Id,
    customerId: Id,
    kind: oneOf(['order', 'invoice', 'renewal', 'closedWon'] as const),
    amount: Amount,
    currency: Currency,
  },
  {
    accountId: nullable(Id),
    visitorId: nullable(Id),
    couponCode: nullable(Id),
    /** Rates from the conversion currency into each plan currency that differs from it. */
    fx: t.array(ForeignExchangeInput),
  },
);

export const ReverseConversion = command(
  'reverseConversion',
  {
    reversalId: Id,
    conversionId: Id,
    kind: oneOf(['refund', 'chargeback', 'fraud'] as const),
  },
  {
    /** The part reversed, in the conversion's currency; omitted: all that is left. */
    amount: Amount,
    reason: nullable(Text),
  },
);

const lineRef = { conversionId: Id, lineId: Id };

/**
 * A review (hold, release, reject) is idempotent by its `requestId` when given (a repeat is already recorded,
 * the same id with other details is an IDEMPOTENCY_CONFLICT), else by its `occurredAt` when given (a
 * re-imported file repeats both), else not at all: a second hold of a held line is refused, and a hold after
 * a release is a new hold.
 */
const review = { requestId: Id };

export const HoldCommission = command('holdCommission', { ...lineRef, reason: Text }, review);
export const ReleaseCommission = command('releaseCommission', lineRef, { ...review, note: nullable(Text) });
export const RejectCommission = command('rejectCommission', { ...lineRef, reason: Text }, review);

export const RecordManualAdjustment = struct(
  'a recordManualAdjustment command',
  {
    command: t.literal('recordManualAdjustment'),
    adjustmentId: Id,
    partnerId: Id,
    amount: SignedAmount,
    currency: Currency,
    reason: Text,
    /** Required here: a manual adjustment always names the person who made it. */
    actor: Id,
  },
  { occurredAt: TimestampInput, correlationId: Id, causationId: Id },
);

export const IssuePayout = command(
  'issuePayout',
  {
    payoutId: Id,
    partnerId: Id,
    amount: Amount,
    currency: Currency,
    method: oneOf(['bankTransfer', 'paypal', 'wise', 'stripe', 'check', 'other'] as const),
  },
  { externalReference: nullable(Text) },
);

export const RecordPayoutFailure = command(
  'recordPayoutFailure',
  { payoutId: Id, partnerId: Id, reason: Text },
  {},
);

/** The provider confirmed that a payout reached the partner: no balance changes (PayoutConfirmed). */
export const ConfirmPayout = command(
  'confirmPayout',
  { payoutId: Id, partnerId: Id },
  { providerReference: nullable(Text) },
);

/** Every command, by name. */
export const COMMANDS = {
  configureProgram: ConfigureProgram,
  joinPartner: JoinPartner,
  publishPlan: PublishPlan,
  changePartnerPlan: ChangePartnerPlan,
  changePartnerTier: ChangePartnerTier,
  changePartnerContactDetails: ChangePartnerContactDetails,
  changePartnerStatus: ChangePartnerStatus,
  trackClick: TrackClick,
  recordInfluenceTouch: RecordInfluenceTouch,
  registerDeal: RegisterDeal,
  approveDealRegistration: ApproveDealRegistration,
  rejectDealRegistration: RejectDealRegistration,
  extendDealRegistration: ExtendDealRegistration,
  expireDealRegistration: ExpireDealRegistration,
  recordConversion: RecordConversion,
  reverseConversion: ReverseConversion,
  holdCommission: HoldCommission,
  releaseCommission: ReleaseCommission,
  rejectCommission: RejectCommission,
  recordManualAdjustment: RecordManualAdjustment,
  issuePayout: IssuePayout,
  confirmPayout: ConfirmPayout,
  recordPayoutFailure: RecordPayoutFailure,
} as const;

/** The name of a command: `joinPartner`, `trackClick`, `recordConversion`, ... */
export type CommandName = keyof typeof COMMANDS;
/** A command named N, as its codec decodes it (with its `command` tag). */
export type CommandOf<N extends CommandName> = t.TypeOf<(typeof COMMANDS)[N]>;
/** Any command, discriminated by `command`. */
export type LedgerCommand = { [N in CommandName]: CommandOf<N> }[CommandName];
/** What a ledger method takes: the command without its tag. */
export type CommandInput<N extends CommandName> = Omit<CommandOf<N>, 'command'>;

/** The codec of any command: decodes with the member its `command` field names. */
export const LedgerCommandCodec = tagged('a ledger command', 'command', COMMANDS);

/** Every amount of a command with the currency whose minor units it must respect. */
const moneyOf = (
  c: LedgerCommand,
): Array<{ path: string; amount: string; currency: CurrencyCode; signed?: boolean }> => {
  switch (c.command) {
    case 'configureProgram':
      return [{ path: 'minimumPayout', amount: c.minimumPayout, currency: c.currency }];
    case 'publishPlan':
      return [
        ...c.rules.flatMap((rule, i) =>
          rule.kind === 'flat'
            ? [{ path: `rules[${i}].amount`, amount: rule.amount, currency: c.currency }]
            : rule.kind === 'tieredRevenueShare' && rule.measure === 'revenue'
              ? rule.tiers.map((tier, j) => ({
                  path: `rules[${i}].tiers[${j}].from`,
                  amount: tier.from,
                  currency: c.currency,
                }))
              : [],
        ),
        ...(c.caps?.perConversion
          ? [{ path: 'caps.perConversion', amount: c.caps.perConversion, currency: c.currency }]
          : []),
        ...(c.caps?.perPartnerPerPeriod
          ? [
              {
                path: 'caps.perPartnerPerPeriod.amount',
                amount: c.caps.perPartnerPerPeriod.amount,
                currency: c.currency,
              },
            ]
          : []),
      ];
    case 'registerDeal':
      return [{ path: 'expectedValue', amount: c.expectedValue, currency: c.currency }];
    case 'recordConversion':
      return [{ path: 'amount', amount: c.amount, currency: c.currency }];
    case 'recordManualAdjustment':
      return [{ path: 'amount', amount: c.amount, currency: c.currency, signed: true }];
    case 'issuePayout':
      return [{ path: 'amount', amount: c.amount, currency: c.currency }];
    default:
      return [];
  }
};

/** How deep a command may nest objects and arrays; a command needs five levels at most. */
const MAX_COMMAND_DEPTH = 64;

/** Whether some value is nested deeper than `limit`, found without recursion (and without naming paths). */
const nestsDeeperThan = (value: unknown, limit: number): boolean => {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const current = values.pop();
    const depth = depths.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const item of Array.isArray(current) ? current : Object.values(current)) {
      values.push(item);
      depths.push(depth + 1);
    }
  }
  return false;
};

/**
 * The path of a value nested deeper than `limit`, found without recursion; undefined when none is. The paths
 * are spelled out only for a command that has such a value (most commands are checked without a string).
 */
const deeperThan = (value: unknown, limit: number): string | undefined => {
  if (!nestsDeeperThan(value, limit)) return undefined;
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { value: current, depth, path } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return path === '' ? '(command)' : path;
    if (Array.isArray(current))
      current.forEach((item, i) => stack.push({ value: item, depth: depth + 1, path: `${path}[${i}]` }));
    else
      for (const [key, item] of Object.entries(current))
        stack.push({ value: item, depth: depth + 1, path: path === '' ? key : `${path}.${key}` });
  }
  return undefined;
};

const invalid = (problems: readonly DecodeProblem[]): LedgerRejection => ({
  code: 'INVALID_COMMAND',
  message: problems.map((p) => `${p.path}: ${p.message}`).join('; '),
  field: problems[0]?.path ?? '',
  problems,
});

/**
 * Decodes a command: its shape with the codec, then every amount against its currency's minor units (an
 * amount with more decimals than its currency has is refused, never rounded). Errors name the field.
 */
export const decodeCommand = (input: unknown): E.Either<LedgerRejection, LedgerCommand> =>
  decodeCommandOwned(input, false);

/**
 * decodeCommand for an input that only the caller holds (`owned`: the ledger's command methods copy what
 * they are given into a fresh object): a valid flat command is then taken as it is, not copied again. Any
 * other input is copied (a decoded command never shares an object with what a caller may still change).
 */
export const decodeCommandOwned = (
  input: unknown,
  owned: boolean,
): E.Either<LedgerRejection, LedgerCommand> => {
  const shaped = isFlatCommand(input) ? E.right(owned ? input : { ...input }) : decodeShape(input);
  return E.isLeft(shaped) ? shaped : moneyChecked(shaped.right);
};

/**
 * Whether a command is flat (every field a string, number, boolean or null: a click, a conversion without
 * rates, a refund, a payout, the usual commands of a service) and valid as it is. The codec's type guard
 * accepts exactly what it decodes (a struct refuses unknown fields, and with them every forbidden key; the
 * field codecs decode a valid value to itself), so such a command decodes to a copy of itself; the guard
 * builds no error contexts and no copies, which the full decode does field by field. A field set to
 * undefined is left to the full decode, which drops it.
 */
const isFlatCommand = (input: unknown): input is LedgerCommand => {
  // A plain object (what JSON.parse and literals make): a spread copies all its fields.
  if (input === null || typeof input !== 'object' || Object.getPrototypeOf(input) !== Object.prototype)
    return false;
  for (const key in input) {
    const value = (input as Record<string, unknown>)[key];
    if (value === undefined || (value !== null && typeof value === 'object')) return false;
  }
  return LedgerCommandCodec.is(input);
};

/** The full decode: any command, and the field-naming errors of one that is not valid. */
const decodeShape = (input: unknown): E.Either<LedgerRejection, LedgerCommand> => {
  // Before anything walks it recursively: a value nested 200,000 deep would overflow the stack.
  const deep = deeperThan(input, MAX_COMMAND_DEPTH);
  if (deep !== undefined)
    return E.left(
      invalid([
        { path: deep, message: `nested deeper than ${MAX_COMMAND_DEPTH} levels of objects and arrays` },
      ]),
    );
  const forbidden = findForbiddenKey(input);
  if (forbidden !== undefined)
    return E.left(
      invalid([{ path: forbidden, message: 'forbidden key (it could reach an object prototype)' }]),
    );
  const decoded = LedgerCommandCodec.decode(input);
  if (E.isLeft(decoded)) return E.left(invalid(toDecodeProblems('', decoded.left)));
  return E.right(decoded.right as LedgerCommand);
};

/** Every amount against its currency's minor units. */
const moneyChecked = (command: LedgerCommand): E.Either<LedgerRejection, LedgerCommand> => {
  const problems = moneyOf(command).flatMap((field) => {
    const parsed = parseAmount(field.amount, field.currency, { signed: field.signed === true });
    return E.isLeft(parsed) ? [{ path: field.path, message: describeAmountProblem(parsed.left) }] : [];
  });
  return problems.length > 0 ? E.left(invalid(problems)) : E.right(command);
};
