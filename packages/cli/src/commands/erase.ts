import * as E from 'fp-ts/Either';
import { ALL_VISITORS, createPersonalDataOperations } from '@partner-ledger/ledger';
import type { PersonalDataSubject } from '@partner-ledger/ledger';
import type { EventStore } from '@partner-ledger/store';
import { parseVerbArgs } from '../args';
import { EXIT, UsageError } from '../exit';
import { write } from '../io';
import { KEYS_OPTION, withKeyedStore } from '../store';
import type { Verb } from '../verb';

/** The subject flags of `erase` and `export-subject`: exactly one of them. */
export const SUBJECT_OPTIONS = {
  partner: { type: 'string', valueName: 'ID', description: 'The partner whose personal data it is.' },
  visitor: {
    type: 'string',
    valueName: 'ID',
    description: 'The visitor whose data it is: its id as your site knows it, or its pseudonym (vp-...).',
  },
} as const;

/** The one subject `--partner` or `--visitor` names; anything else is a usage error. */
export const subjectOf = (
  verb: string,
  options: { readonly partner?: string | undefined; readonly visitor?: string | undefined },
  // erase also takes --all-visitors: the message names every choice the verb has.
  others: readonly string[] = [],
): PersonalDataSubject => {
  if ((options.partner === undefined) === (options.visitor === undefined)) {
    const choices = ['--partner ID', '--visitor ID', ...others];
    throw new UsageError(
      `${verb}: give exactly one of ${choices.slice(0, -1).join(', ')} and ${choices.at(-1)!}`,
    );
  }
  return options.partner !== undefined
    ? { kind: 'partner', id: options.partner }
    : { kind: 'visitor', id: options.visitor! };
};

const options = {
  ...SUBJECT_OPTIONS,
  'all-visitors': {
    type: 'boolean',
    description:
      "Every visitor at once: destroys the key of the visitors' pseudonyms (see below), instead of --partner or --visitor.",
  },
  'requested-by': {
    type: 'string',
    valueName: 'REF',
    description: "Who asked: a reference to the request (a ticket, a role), not a person's name. Required.",
  },
  reason: { type: 'string', valueName: 'TEXT', description: 'Why (default "erasure request").' },
  actor: {
    type: 'string',
    valueName: 'ACTOR',
    description: 'The actor of the PersonalDataErased event (default service:partner-ledger-erase).',
  },
  ...KEYS_OPTION,
} as const;

/**
 * The erasure record already stored under the id an append was refused for (a DuplicateEventIdError), as
 * the request that recorded it; undefined for any other error.
 */
const recordedErasure = async (
  store: EventStore,
  error: unknown,
): Promise<{ occurredAt: string; requestedBy: string; reason: string } | undefined> => {
  const refused = error as { code?: unknown; eventId?: unknown; stream?: unknown };
  if (refused.code !== 'DUPLICATE_EVENT_ID' || typeof refused.stream !== 'string') return undefined;
  for await (const event of store.readStream(refused.stream))
    if (event.id === refused.eventId && event.type === 'PersonalDataErased') {
      const data = event.data as { requestedBy: string; reason: string };
      return { occurredAt: event.occurredAt, requestedBy: data.requestedBy, reason: data.reason };
    }
  return undefined;
};

export const eraseVerb: Verb = {
  name: 'erase',
  summary: "Erase a partner's or a visitor's personal data (crypto-shredding).",
  usage:
    'erase (--partner ID | --visitor ID | --all-visitors) --requested-by REF [--reason TEXT] [--keys FILE] [--store STORE]',
  description:
    "Records PersonalDataErased (who asked, when, why) and destroys the subject's key in the key file. From " +
    "then on every report and statement shows a partner's name, contact e-mail, payee details and tax id as " +
    '[erased]; money figures are unchanged, and verify is ok: the hash links cover the ciphertext, which ' +
    'stays. A visitor has no key of its own (visitor ids are stored as keyed pseudonyms, never in ' +
    'plaintext): its erasure is recorded against its pseudonym, and nothing else changes.\n\n' +
    '--all-visitors records the erasure of every visitor (in the stream erasure-visitors) and destroys the key ' +
    "of the visitors' pseudonyms: from then on no visitor id can be linked to its pseudonym, by anyone. Clicks " +
    'and conversions keep counting under their pseudonyms; new visitors get pseudonyms under a new key, so ' +
    'conversions recorded afterwards no longer match clicks made before (run it at the end of a retention ' +
    'window). Until a new visitor is recorded, --visitor with an id (not a vp- pseudonym) is refused (exit 2): ' +
    'nothing held can be linked to it, and no key is made to record it.\n\n' +
    'A partner whose events were written before the ledger had a key file has plaintext in them: it then ' +
    'reads as [erased], but its bytes remain in the store (docs/privacy.md). Running erase again is safe.',
  options,
  examples: [
    [
      'partner-ledger erase --partner blog-1 --requested-by ticket:DPO-142 --reason "GDPR art. 17"',
      "Erases partner blog-1's personal data",
    ],
    [
      'partner-ledger erase --visitor v-9 --requested-by ticket:DPO-143',
      'Records the erasure of visitor v-9',
    ],
    [
      'partner-ledger erase --all-visitors --requested-by retention:2026 --reason "end of retention window"',
      "Destroys the visitors' pseudonym key",
    ],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('erase', args, options);
    if (parsed.positionals.length > 0)
      throw new UsageError(`erase: unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    const all = parsed.options['all-visitors'] === true;
    if (all && (parsed.options.partner !== undefined || parsed.options.visitor !== undefined))
      throw new UsageError('erase: give exactly one of --partner ID, --visitor ID and --all-visitors');
    if (parsed.options.visitor === ALL_VISITORS)
      throw new UsageError(`erase: --visitor ${ALL_VISITORS}: to erase every visitor, say --all-visitors`);
    const subject = all
      ? { kind: 'visitor' as const, id: ALL_VISITORS }
      : subjectOf('erase', parsed.options, ['--all-visitors']);
    const requestedBy = parsed.options['requested-by'];
    if (requestedBy === undefined || requestedBy.trim() === '')
      throw new UsageError('erase: --requested-by REF is required (a ticket or role, not a name)');
    return withKeyedStore(
      io,
      parsed.options.store,
      parsed.options.keys,
      { mustExist: true },
      async (store, _spec, keys) => {
        if (keys === undefined)
          throw new UsageError(
            'erase: this ledger has no key file, so its personal data is in plaintext and cannot be erased by destroying a key',
            'Name the key file with --keys or $PARTNER_LEDGER_KEYS; a ledger made by `partner-ledger init` has one beside it.',
          );
        const operations = createPersonalDataOperations({
          store,
          keys,
          clock: io.now,
          actor: parsed.options.actor ?? 'service:partner-ledger-erase',
        });
        const request = { subject, requestedBy, reason: parsed.options.reason ?? 'erasure request' };
        const outcome = await operations
          .erasePersonalData(request)()
          .catch(async (error: unknown) => {
            // The record's id is the subject's, but its time is now: run again later, the same id comes with
            // another body and the store refuses it. Running erase again must be safe (and destroy the key if
            // a first run stopped before it did), so repeat the first record's time and request instead.
            const first = await recordedErasure(store, error);
            if (first === undefined) throw error;
            return operations.erasePersonalData({ ...request, ...first })();
          });
        if (E.isLeft(outcome)) throw new UsageError(`erase: ${outcome.left.message}`);
        const event = outcome.right.events[0];
        const data = event?.type === 'PersonalDataErased' ? event.data : undefined;
        await write(
          io.stdout,
          `erase: ${all ? 'every visitor' : `${subject.kind} ${data?.subject.id ?? subject.id}`}: ${
            outcome.right.alreadyRecorded ? 'already recorded' : 'recorded'
          } in ${outcome.right.stream}; ${data?.keyId ? `key ${data.keyId} destroyed` : 'no key to destroy'}\n`,
        );
        return EXIT.ok;
      },
    );
  },
};
