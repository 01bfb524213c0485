import { canonicalJson } from '@partner-ledger/events';
import { createPersonalDataOperations } from '@partner-ledger/ledger';
import type { SubjectExport } from '@partner-ledger/ledger';
import { parseVerbArgs } from '../args';
import { EXIT, UsageError } from '../exit';
import { write } from '../io';
import { KEYS_OPTION, withKeyedStore } from '../store';
import type { Verb } from '../verb';
import { SUBJECT_OPTIONS, subjectOf } from './erase';

const options = { ...SUBJECT_OPTIONS, ...KEYS_OPTION } as const;

/** Why an export lists no events: no event names the id, or no visitor can be linked at all. */
const noEventsWarning = (exported: SubjectExport): string => {
  const { kind, id } = exported.subject;
  const prefix = `partner-ledger: warning: export-subject: the ledger holds no event about ${kind} ${JSON.stringify(id)}`;
  // Without a pseudonym, no visitor has been recorded under the current visitors' key (none yet, or none
  // since every visitor was erased): no id, right or mistyped, can be linked to an event.
  if (kind === 'visitor' && exported.pseudonym === undefined)
    return `${prefix}: no visitor has been recorded under the current visitors' key (${exported.key.keyId})`;
  return `${prefix}; check the id (a typo is the likely cause)`;
};

export const exportSubjectVerb: Verb = {
  name: 'export-subject',
  summary: 'Write everything the ledger holds about a partner or a visitor, decrypted, as JSON.',
  usage: 'export-subject (--partner ID | --visitor ID) [--keys FILE] [--store STORE]',
  description:
    "The right of access: writes one JSON document to stdout with the subject, its key's state (present, " +
    "erased or missing), and every event of its streams (a partner's joining and contact-details changes, " +
    "a visitor's clicks and the conversions that name it, and any erasure), its personal fields opened " +
    'with the key file. Fields whose key was destroyed read as [erased], fields this key file has no key ' +
    'for as [sealed].\n\n' +
    'An id the ledger holds no event about still gets its document, with "events": [] (exit 0), and a ' +
    'warning on stderr: a mistyped id is the likely cause.',
  options,
  examples: [
    ['partner-ledger export-subject --partner blog-1 > blog-1.json', "Partner blog-1's data"],
    ['partner-ledger export-subject --visitor v-9', "Visitor v-9's clicks and conversions"],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('export-subject', args, options);
    if (parsed.positionals.length > 0)
      throw new UsageError(`export-subject: unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    const subject = subjectOf('export-subject', parsed.options);
    return withKeyedStore(
      io,
      parsed.options.store,
      parsed.options.keys,
      { mustExist: true, readOnly: true },
      async (store, _spec, keys) => {
        if (keys === undefined)
          throw new UsageError(
            'export-subject: this ledger has no key file',
            'Name it with --keys or $PARTNER_LEDGER_KEYS (a ledger without one holds personal data in plaintext: `export` shows it).',
          );
        const exported = await createPersonalDataOperations({ store, keys }).exportSubject(subject);
        await write(io.stdout, `${JSON.stringify(JSON.parse(canonicalJson(exported)), null, 2)}\n`);
        // "events": [] is a true answer, but a request for access answered with it is most often a
        // mistyped id: say so where a person looks, and keep stdout the document a script expects.
        if (exported.events.length === 0) io.stderr.write(`${noEventsWarning(exported)}\n`);
        return EXIT.ok;
      },
    );
  },
};
