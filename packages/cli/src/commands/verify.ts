import { parseChoice, parseInteger, parseVerbArgs } from '../args';
import { verifyLedger } from '../audit/verify-ledger';
import { EXIT, UsageError } from '../exit';
import { createProgress } from '../progress';
import { withStore } from '../store';
import type { Verb } from '../verb';

const options = {
  'up-to': {
    type: 'string',
    valueName: 'POSITION',
    description:
      'Verify the history up to this global position (inclusive), e.g. to compare with a digest kept then.',
  },
  format: { type: 'string', valueName: 'FORMAT', description: 'text (default) or json.' },
} as const;

export const verifyVerb: Verb = {
  name: 'verify',
  summary: 'Check every hash link and every invariant; print the digest.',
  usage: 'verify [--up-to POSITION] [--format text|json] [--store STORE]',
  description:
    "Walks the whole history in global order and recomputes every event's hash and its link to the previous " +
    "event of its stream (on the file store, every record's checksum too), then replays it to check the " +
    "ledger's invariants: every event decodes; the credits of each conversion sum to its amount; commission " +
    'lines per partner sum to accrued minus reversed; no payout exceeded the balance payable at its time; the ' +
    'double-entry postings (commission expense, partner payable, cash) sum to zero per currency.\n\n' +
    'Prints the number of events checked, the head position and the digest of the history (keep it outside ' +
    'the ledger: a later verify that prints the same digest for the same position proves nothing up to it ' +
    'changed). On the first problem it names the event and exits 1.',
  options,
  examples: [
    ['partner-ledger verify', 'Verify the default ledger'],
    ['partner-ledger verify --format json > verify.json', 'Keep the digest as JSON'],
    ['partner-ledger verify --up-to 41999 --format json', 'The digest of the first 42,000 events'],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('verify', args, options);
    if (parsed.positionals.length > 0)
      throw new UsageError(`verify: unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    const format = parseChoice('format', parsed.options.format ?? 'text', ['text', 'json'] as const);
    const upToPosition =
      parsed.options['up-to'] === undefined
        ? undefined
        : parseInteger('up-to', parsed.options['up-to'], { min: 0, max: Number.MAX_SAFE_INTEGER });
    const storeOptions = { mustExist: true, readOnly: true, tolerateDamage: true };
    return withStore(io, parsed.options.store, storeOptions, async (store) => {
      const head = await store.headPosition();
      const total = Math.min(head, upToPosition ?? head) + 1;
      const links = createProgress({ stream: io.stderr, label: 'verify links', total });
      const invariants = createProgress({ stream: io.stderr, label: 'verify invariants', total });
      const seen = { links: 0, invariants: 0 };
      const report = await verifyLedger(store, {
        ...(upToPosition === undefined ? {} : { upToPosition }),
        onProgress: (phase, done) => {
          if (phase === 'invariants') links.finish();
          (phase === 'links' ? links : invariants).advance(done - seen[phase]);
          seen[phase] = done;
        },
      }).finally(() => {
        links.finish();
        invariants.finish();
      });
      const problem = report.firstProblem;
      if (format === 'json') {
        io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        io.stdout.write(
          [
            `status:         ${report.ok ? 'ok' : 'PROBLEM'}`,
            `events checked: ${report.eventsChecked}`,
            `head position:  ${report.headPosition}`,
            `digest:         ${report.digest}`,
            ...(problem === null ? [] : [`first problem:  ${problem.message}`]),
            '',
          ].join('\n'),
        );
      }
      if (problem !== null) {
        io.stderr.write(`verify: ${problem.message}\n`);
        return EXIT.problem;
      }
      return EXIT.ok;
    });
  },
};
