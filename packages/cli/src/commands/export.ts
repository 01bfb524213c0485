import { canonicalJson } from '@partner-ledger/events';
import { parseChoice, parseVerbArgs } from '../args';
import { AS_OF_OPTIONS, checkKnownAtWithinHead, parseAsOf } from '../as-of';
import { EXIT, UsageError } from '../exit';
import { write } from '../io';
import { createProgress } from '../progress';
import { withStore } from '../store';
import type { Verb } from '../verb';

const options = {
  format: {
    type: 'string',
    valueName: 'FORMAT',
    description: 'Output format: ndjson (the only one, and the default).',
  },
  ...AS_OF_OPTIONS,
} as const;

export const exportVerb: Verb = {
  name: 'export',
  summary: 'Write the events, as stored, one JSON object per line.',
  usage: 'export [--format ndjson] [--as-of T] [--known-at K] [--store STORE]',
  description:
    'Writes every event of the ledger to stdout in global order, one per line, exactly as stored: envelope, ' +
    'data, revision, position, prevHash and hash. Each line is RFC 8785 canonical JSON, so that two exports ' +
    'of the same history are byte-identical whatever the store, and tools can re-check the hashes.\n\n' +
    '--known-at K exports the history as the ledger knew it at K (a prefix, whose hash links still verify); ' +
    '--as-of T keeps only the events that happened at or before T (a filter: events recorded late for an ' +
    'earlier time are kept, later facts are left out).',
  options,
  examples: [
    ['partner-ledger export > events.ndjson', 'Everything, for another tool'],
    [
      'partner-ledger export --known-at 2026-03-31 > march-close.ndjson',
      'The history as known at the March close',
    ],
    [
      'partner-ledger export --store esdb://localhost:2113?tls=false | gzip > backup.ndjson.gz',
      'From EventStoreDB',
    ],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('export', args, options);
    if (parsed.positionals.length > 0)
      throw new UsageError(`export: unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    parseChoice('format', parsed.options.format ?? 'ndjson', ['ndjson'] as const);
    const asOf = parseAsOf(parsed.options);
    return withStore(io, parsed.options.store, { mustExist: true, readOnly: true }, async (store, spec) => {
      await checkKnownAtWithinHead(store, asOf);
      const progress = createProgress({ stream: io.stderr, label: 'export' });
      // The file store numbers events 0, 1, 2...: its head gives the count. EventStoreDB's positions are
      // commit positions, which count nothing: there the bar shows events done, with no total.
      if (spec.kind === 'file') progress.setTotal((await store.headPosition()) + 1);
      try {
        for await (const event of store.readAll(
          asOf.knownAt === undefined ? {} : { asKnownAt: asOf.knownAt },
        )) {
          progress.advance();
          if (asOf.effectiveAt !== undefined && event.occurredAt > asOf.effectiveAt) continue;
          await write(io.stdout, `${canonicalJson(event)}\n`);
        }
      } finally {
        progress.finish();
      }

      return EXIT.ok;
    });
  },
};
