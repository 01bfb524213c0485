import * as E from 'fp-ts/Either';
import {
  ATTRIBUTION_MODELS,
  ATTRIBUTION_SOURCES,
  parseAmount,
  canonicalJson,
  repeatedSource,
} from '@partner-ledger/events';
import type { AttributionModel, AttributionSource, EventData } from '@partner-ledger/events';
import { createLedger, streams } from '@partner-ledger/ledger';
import { KEYS_ENV, createKeyFile, keyFilePathOf } from '@partner-ledger/open-ledger';
import { parseChoice, parseCurrency, parseInteger, parseMoment, parseVerbArgs } from '../args';
import { EXIT, UsageError } from '../exit';
import { cliIds } from '../ledger-setup';
import { describeStoreSpec } from '../store-spec';
import { KEYS_OPTION, withStore } from '../store';
import { resolveStoreSpec } from '../store-spec';
import type { Verb } from '../verb';

const options = {
  'program-id': { type: 'string', valueName: 'ID', description: 'The program\'s id (default "program").' },
  name: {
    type: 'string',
    valueName: 'NAME',
    description: 'The program\'s name (default "Partner program").',
  },
  currency: { type: 'string', valueName: 'CODE', description: 'Reporting currency, ISO 4217 (default USD).' },
  model: {
    type: 'string',
    valueName: 'MODEL',
    description: `Attribution model for clicks: ${ATTRIBUTION_MODELS.join(', ')} (default lastTouch).`,
  },
  window: {
    type: 'string',
    valueName: 'DAYS',
    description: 'Click attribution window in days, 1 to 365 (default 30).',
  },
  'half-life': {
    type: 'string',
    valueName: 'DAYS',
    description: 'Half-life of the timeDecay model in days (default 7).',
  },
  precedence: {
    type: 'string',
    valueName: 'LIST',
    description:
      'Which touch wins, first to last, each source at most once; a source left out never takes credit ' +
      '(default dealRegistration,coupon,clicks).',
  },
  'minimum-payout': {
    type: 'string',
    valueName: 'AMOUNT',
    description: 'No payout below this amount, a decimal string in the currency (default 50.00).',
  },
  'effective-from': {
    type: 'string',
    valueName: 'DATE',
    description:
      'From when the program runs: the settings are recorded as effective at DATE (a date, or an RFC 3339 time with its zone; default: now). Reports find the reporting currency whatever their --as-of date.',
  },
  'min-click-seconds': {
    type: 'string',
    valueName: 'SECONDS',
    description: 'A conversion sooner than this after its click is held for review (default 0: never).',
  },
  ...KEYS_OPTION,
} as const;

export type ProgramSettings = EventData<'ProgramConfigured'>;

export const initVerb: Verb = {
  name: 'init',
  summary: "Create an empty ledger with the program's settings.",
  usage:
    'init [--currency CODE] [--model MODEL] [--window DAYS] [--minimum-payout AMOUNT] [...] [--store STORE]',
  description:
    "Creates the ledger (for the file store, its directory) and records the program's settings: reporting " +
    'currency, attribution model, click window, precedence of deal registrations, coupons and clicks, ' +
    'minimum payout, and the click-to-conversion time under which a commission is held for review.\n\n' +
    'Running init again with the same settings changes nothing; with other settings it refuses (exit 2): ' +
    'settings are changed by a configureProgram command (see `partner-ledger import`), which records the change.\n\n' +
    "init also creates the ledger's key file, readable by its owner only (mode 0600): <ledger>.keys beside a " +
    "file store's directory, or the file --keys or $PARTNER_LEDGER_KEYS names (required for a server store to " +
    "have one). With it, partners' personal fields are sealed with a key per partner and visitor ids are " +
    "pseudonymized, so that `erase` can erase them (docs/privacy.md). Keep it out of the ledger's backups.",
  options,
  examples: [
    ['partner-ledger init', 'A USD program, last touch, 30-day window, 50.00 minimum payout'],
    [
      'partner-ledger init --effective-from 2025-01-01',
      'The same, effective from the start of 2025 (for a history imported with earlier dates)',
    ],
    [
      'partner-ledger init --currency EUR --model positionBased --window 60 --minimum-payout 100.00 --store books',
      'A EUR program with U-shaped attribution, in ./books',
    ],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('init', args, options);
    if (parsed.positionals.length > 0)
      throw new UsageError(`init: unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    const o = parsed.options;
    const currency = parseCurrency('currency', o.currency ?? 'USD');
    const model: AttributionModel = parseChoice('model', o.model ?? 'lastTouch', ATTRIBUTION_MODELS);
    const precedence = (o.precedence ?? 'dealRegistration,coupon,clicks')
      .split(',')
      .map((s) => parseChoice('precedence', s.trim(), ATTRIBUTION_SOURCES) as AttributionSource);
    const repeated = repeatedSource(precedence);
    if (repeated !== undefined)
      throw new UsageError(
        `--precedence: ${JSON.stringify(repeated)} is given more than once (each of ${ATTRIBUTION_SOURCES.join(', ')} at most once, first to last)`,
      );
    const minimumPayout = o['minimum-payout'] ?? (currency === 'JPY' ? '5000' : '50.00');
    const amount = parseAmount(minimumPayout, currency);
    if (E.isLeft(amount))
      throw new UsageError(
        `--minimum-payout: ${JSON.stringify(minimumPayout)} is not an amount of ${currency}`,
      );
    const settings: ProgramSettings = {
      programId: o['program-id'] ?? 'program',
      name: o.name ?? 'Partner program',
      currency,
      attribution: {
        model,
        clickWindowDays: parseInteger('window', o.window ?? '30', { min: 1, max: 365 }),
        halfLifeDays: parseInteger('half-life', o['half-life'] ?? '7', { min: 1, max: 365 }),
        precedence,
      },
      minimumPayout,
      minClickToConversionSeconds: parseInteger('min-click-seconds', o['min-click-seconds'] ?? '0', {
        min: 0,
        max: 10 ** 9,
      }),
    };
    const effectiveFrom =
      o['effective-from'] === undefined
        ? undefined
        : parseMoment('effective-from', o['effective-from'], 'startOfDay');
    const keyFile = keyFilePathOf(resolveStoreSpec(o.store, io.env, io.cwd), o.keys, io.env, io.cwd);
    return withStore(io, o.store, {}, async (store, spec) => {
      const keyNotice =
        keyFile === undefined
          ? `init: no key file (give --keys FILE or $${KEYS_ENV} for a server store): personal data will be stored in plaintext\n`
          : (await createKeyFile(keyFile))
            ? `init: created the key file ${keyFile} (mode 0600): keep it secret and backed up apart\n`
            : '';
      let current: unknown;
      for await (const event of store.readStream(streams.program(), { direction: 'backwards', maxCount: 1 }))
        current = event.data;
      if (current !== undefined) {
        if (canonicalJson(current) === canonicalJson(settings)) {
          io.stderr.write(
            `init: the ledger at ${describeStoreSpec(spec)} already has these settings; nothing to do\n`,
          );
          io.stderr.write(keyNotice);
          return EXIT.ok;
        }
        throw new UsageError(
          `init: the ledger at ${describeStoreSpec(spec)} is already initialised with other settings`,
          'Change them with a configureProgram command (`partner-ledger import`), which records the change.',
        );
      }
      const ledger = createLedger({
        store,
        clock: io.now,
        ids: cliIds(),
        actor: 'service:partner-ledger-init',
      });
      const outcome = await ledger.configureProgram(
        effectiveFrom === undefined ? settings : { ...settings, occurredAt: effectiveFrom },
      )();
      if (E.isLeft(outcome)) throw new UsageError(`init: ${outcome.left.message}`);
      io.stderr.write(
        `init: created the ledger at ${describeStoreSpec(spec)}: ${settings.currency}, ${model}, ${settings.attribution.clickWindowDays}-day window, minimum payout ${minimumPayout}\n`,
      );
      io.stderr.write(keyNotice);
      return EXIT.ok;
    });
  },
};
