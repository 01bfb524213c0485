import { constants } from 'node:fs';
import { access, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as E from 'fp-ts/Either';
import { isCurrencyCode, minorUnitsOf, parseAmount } from '@partner-ledger/events';
import { createLedger } from '@partner-ledger/ledger';
import { PAYOUT_BATCH_METHODS, preparePayouts, reconcilePayouts } from '@partner-ledger/payouts';
import { parseChoice, parseMoment, parseVerbArgs } from '../args';
import { EXIT, UsageError } from '../exit';
import { write } from '../io';
import { makeDirectory } from '../make-directory';
import { readNamedFile } from '../read-named-file';
import { cliIds } from '../ledger-setup';
import { KEYS_OPTION, withKeyedStore } from '../store';
import type { Verb } from '../verb';

const options = {
  'as-of': {
    type: 'string',
    valueName: 'T',
    description:
      'prepare: pay what is payable at T (a date alone means the end of that day, UTC; a T later than now means now). Required.',
  },
  method: {
    type: 'string',
    valueName: 'METHOD',
    description:
      'prepare: paypal (PayPal Payouts CSV), wise (Wise batch CSV) or csv (a generic CSV with every payee detail). Required.',
  },
  out: {
    type: 'string',
    valueName: 'DIRECTORY',
    description: 'prepare: where the batch files go (created when missing). Required.',
  },
  minimum: {
    type: 'string',
    valueName: 'AMOUNT:CUR',
    multiple: true,
    description:
      "prepare: the least a payout may be in a currency (repeatable: --minimum 5000:HUF --minimum 50:EUR). Default: the program's minimum payout in its currency, more than zero in others.",
  },
  note: { type: 'string', valueName: 'TEXT', description: "prepare: PayPal's note to the recipient." },
  actor: {
    type: 'string',
    valueName: 'ACTOR',
    description: 'The actor of the recorded events (default service:partner-ledger-payouts).',
  },
  ...KEYS_OPTION,
} as const;

const parseMinimums = (given: readonly string[] | undefined): Record<string, string> => {
  const minimums: Record<string, string> = {};
  for (const text of given ?? []) {
    const match = /^([0-9]+(?:\.[0-9]+)?):([A-Z]{3})$/.exec(text);
    if (match === null)
      throw new UsageError(
        `--minimum: expected AMOUNT:CURRENCY such as 5000:HUF, got ${JSON.stringify(text)}`,
      );
    // An amount the currency cannot hold (5.001:USD) or a code that is no currency (5:XYZ) is a typo to name,
    // not a minimum to compare balances with.
    const currency = match[2]!;
    if (!isCurrencyCode(currency))
      throw new UsageError(
        `--minimum: ${currency} is not an ISO 4217 currency code (in ${JSON.stringify(text)})`,
      );
    const amount = parseAmount(match[1], currency);
    if (E.isLeft(amount))
      throw new UsageError(
        `--minimum: ${currency} has ${minorUnitsOf(currency)} decimals, got ${match[1]!} (in ${JSON.stringify(text)})`,
      );
    minimums[currency] = amount.right;
  }
  return minimums;
};

export const payoutsVerb: Verb = {
  name: 'payouts',
  summary: "Prepare payout batch files (PayPal, Wise, CSV) and reconcile the provider's results.",
  usage:
    'payouts prepare --as-of T --method paypal|wise|csv --out DIRECTORY [--minimum AMOUNT:CUR]... [--note TEXT] [--keys FILE] [--store STORE]\n' +
    '       payouts reconcile FILE [--keys FILE] [--store STORE]',
  description:
    'prepare: every partner whose payable balance in a currency at T reaches the minimum is paid it: a ' +
    "PayoutIssued through the ledger's rules, and a row in the provider's batch file (PayPal: no header, one " +
    'currency and at most 5,000 rows a file, HUF, JPY and TWD in whole units, the fraction staying payable; ' +
    "Wise: its batch template's columns, at most 1,000 rows a file; csv: one file with a header). Payee " +
    'details are personal data, read with the key file; a partner without usable ones (none, erased, for ' +
    'another method) is listed on stderr with the reason and not paid. Preparing again pays nothing twice; ' +
    'run again with the same T (after a crash between recording and writing, say), it writes the files of ' +
    'the payouts it recorded that are still open, byte for byte, and refuses, recording nothing, to overwrite ' +
    'a file that differs.\n\n' +
    "reconcile: reads the provider's results: the provider's own JSON (PayPal's payout batch details, a " +
    'payout item, or a PAYMENT.PAYOUTS-ITEM.* webhook event; a Wise transfer, a list of transfers, or a ' +
    'transfers#state-change webhook event), or a CSV with a header naming the payout id (payoutId, Item ID, ' +
    'Customer ID or paymentReference) and status columns, and optionally reason, providerReference ' +
    '(Transaction ID, Transfer ID) and date. Paid items are confirmed (PayoutConfirmed); failed and returned ' +
    'ones fail (PayoutFailed), so their amount is payable again; pending ones are listed and record ' +
    'nothing. A bad item is named and nothing is recorded; reading a result again records nothing more ' +
    '(docs/payments.md).',
  options,
  examples: [
    [
      'partner-ledger payouts prepare --as-of 2026-03-31 --method paypal --out payouts/',
      'The March PayPal batch files, one per currency',
    ],
    [
      'partner-ledger payouts reconcile payouts/paypal-results.csv',
      "Records PayPal's results: paid, failed, returned",
    ],
    [
      'partner-ledger payouts reconcile wise-transfer-50001.json',
      'Records a Wise transfer as GET /v1/transfers/{id} returned it (a return weeks later too)',
    ],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('payouts', args, options);
    const [which, ...rest] = parsed.positionals;
    if (which !== 'prepare' && which !== 'reconcile')
      throw new UsageError(
        which === undefined
          ? 'payouts: prepare or reconcile?'
          : `payouts: unknown action ${JSON.stringify(which)}; expected prepare or reconcile`,
        'Run `partner-ledger payouts --help`.',
      );
    const actor = parsed.options.actor ?? 'service:partner-ledger-payouts';
    if (which === 'prepare') {
      if (rest.length > 0)
        throw new UsageError(`payouts prepare: unexpected argument ${JSON.stringify(rest[0])}`);
      const { out } = parsed.options;
      if (parsed.options['as-of'] === undefined)
        throw new UsageError('payouts prepare: --as-of T is required');
      if (parsed.options.method === undefined)
        throw new UsageError('payouts prepare: --method paypal|wise|csv is required');
      if (out === undefined) throw new UsageError('payouts prepare: --out DIRECTORY is required');
      const method = parseChoice('method', parsed.options.method, PAYOUT_BATCH_METHODS);
      const minimums = parseMinimums(parsed.options.minimum);
      const given = parseMoment('as-of', parsed.options['as-of'], 'endOfDay');
      const now = io.now().toISOString();
      const asOf = given > now ? now : given;
      return withKeyedStore(
        io,
        parsed.options.store,
        parsed.options.keys,
        { mustExist: true },
        async (store, _s, keys) => {
          if (keys === undefined)
            io.stderr.write(
              'payouts prepare: this ledger has no key file: payee details are read as stored (plaintext, or sealed and then unusable)\n',
            );
          // The payouts are recorded before the files are written. A run that stopped in between is run
          // again with the same --as-of: it writes the files of the payouts it recorded, byte for byte. A
          // file in --out that differs from the one the run writes is refused before anything is recorded.
          const directory = resolve(io.cwd, out);
          // An --out that cannot hold the files (a file of that name, no permission) is refused now, before
          // anything is recorded: recording the payouts and then failing to write them would need a rerun.
          await makeDirectory(directory)
            .then(() => access(directory, constants.W_OK))
            .catch((error: NodeJS.ErrnoException) => {
              throw new UsageError(
                `payouts prepare: --out ${directory} cannot take the batch files (${error.code ?? error.message}: ${error.code === 'EEXIST' || error.code === 'ENOTDIR' ? 'a file, not a directory' : error.message}); nothing was recorded`,
              );
            });
          const existing = async (name: string): Promise<string | undefined> =>
            readFile(join(directory, name), 'utf8').catch(() => undefined);
          const ledger = createLedger({ store, clock: io.now, ids: cliIds(), actor });
          const result = await preparePayouts({
            ledger,
            store,
            asOf,
            method,
            minimums,
            ...(parsed.options.note === undefined ? {} : { note: parsed.options.note }),
            beforeRecording: async (files) => {
              for (const file of files) {
                const there = await existing(file.name);
                if (there !== undefined && there !== file.content)
                  return E.left({
                    code: 'FILE_CONFLICT',
                    message: `${join(directory, file.name)} exists and differs from the file this run writes; nothing was recorded. Move it away or give another --out`,
                  });
              }
              return E.right(undefined);
            },
          })();
          if (E.isLeft(result)) throw new UsageError(`payouts prepare: ${result.left.message}`);
          const batch = result.right;
          await makeDirectory(directory);
          const unchanged = new Set<string>();
          for (const file of batch.files) {
            const path = join(directory, file.name);
            const there = await existing(file.name);
            if (there === file.content) {
              unchanged.add(file.name);
              continue;
            }
            if (there !== undefined)
              throw new UsageError(
                `payouts prepare: ${path} exists and differs from the file this run writes (another run wrote it meanwhile?); the payouts are recorded: run again with the same --as-of once it is moved away`,
              );
            // Whole or not at all: a crash leaves a .partial file, never a short batch file to upload.
            await writeFile(`${path}.partial`, file.content);
            await rename(`${path}.partial`, path);
          }
          for (const skipped of batch.skipped)
            io.stderr.write(
              `payouts prepare: not paid: ${skipped.partnerId} ${skipped.payable} ${skipped.currency}: ${skipped.reason}\n`,
            );
          await write(
            io.stdout,
            `payouts prepare: ${batch.payouts.length} payouts as of ${asOf} (${method}), ${batch.skipped.length} not paid, ` +
              `${batch.belowMinimum} below the minimum` +
              (batch.reopened.length === 0
                ? ''
                : `, ${batch.reopened.length} recorded earlier and still open (their files written again)`) +
              '\n' +
              batch.files
                .map(
                  (file) =>
                    `${join(directory, file.name)}: ${file.rows} ${file.rows === 1 ? 'row' : 'rows'}${unchanged.has(file.name) ? ' (already there, unchanged)' : ''}\n`,
                )
                .join(''),
          );
          return EXIT.ok;
        },
      );
    }
    if (rest.length !== 1)
      throw new UsageError(
        "payouts reconcile: give the provider's result (a CSV file or its JSON document): payouts reconcile FILE",
      );
    const path = resolve(io.cwd, rest[0]!);
    const text = await readNamedFile('payouts reconcile', path);
    return withKeyedStore(
      io,
      parsed.options.store,
      parsed.options.keys,
      { mustExist: true },
      async (store) => {
        const ledger = createLedger({ store, clock: io.now, ids: cliIds(), actor });
        const result = await reconcilePayouts({ ledger, store, text, now: io.now })();
        if (E.isLeft(result)) {
          for (const problem of result.left)
            io.stderr.write(`${problem.where}: ${problem.field}: ${problem.message}\n`);
          io.stderr.write(
            `payouts reconcile: ${path} has bad results; nothing was recorded. Fix them and run it again.\n`,
          );
          return EXIT.usage;
        }
        const s = result.right;
        await write(
          io.stdout,
          `payouts reconcile: ${s.confirmed} paid, ${s.failed} failed, ${s.returned} returned, ` +
            `${s.alreadyRecorded} already recorded, ${s.pending} pending\n` +
            s.pendingResults
              .map(
                (p) => `pending: ${p.payoutId ?? '(no payout known for it yet)'}: ${p.status} (${p.where})\n`,
              )
              .join('') +
            s.notes.map((note) => `note: ${note}\n`).join(''),
        );
        return EXIT.ok;
      },
    );
  },
};
