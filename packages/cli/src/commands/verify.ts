import { isAbsolute, resolve } from 'node:path';
import { compareWithKept } from '@partner-ledger/store';
import type { DigestAt } from '@partner-ledger/store';
import { parseChoice, parseInteger, parseVerbArgs } from '../args';
import { verifyLedger } from '../audit/verify-ledger';
import { EXIT, UsageError } from '../exit';
import { createProgress } from '../progress';
import { readNamedFile } from '../read-named-file';
import { withStore } from '../store';
import type { Verb } from '../verb';

const options = {
  'up-to': {
    type: 'string',
    valueName: 'POSITION',
    description:
      'Verify the history up to this global position (inclusive), e.g. to compare with a digest kept then. ' +
      'A position past the head is an error.',
  },
  format: { type: 'string', valueName: 'FORMAT', description: 'text (default) or json.' },
  expect: {
    type: 'string',
    valueName: 'FILE',
    description:
      'A report that `verify --format json` wrote earlier (at a close): check that the history up to its head position still has the same digest, and name where it first differs.',
  },
  'checkpoint-every': {
    type: 'string',
    valueName: 'N',
    description:
      'Keep the digest every N events in the JSON report (default 1000), so that --expect can place a change within N events; 1 places it exactly.',
  },
} as const;

/** What --expect reads from a kept report: its head and its checkpoints. */
const readKept = async (cwd: string, file: string): Promise<DigestAt[]> => {
  const path = isAbsolute(file) ? file : resolve(cwd, file);
  const text = await readNamedFile(
    '--expect',
    path,
    'Write one at a close with `partner-ledger verify --format json > close.json`, and keep it outside the ledger.',
  );
  let kept: unknown;
  try {
    kept = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--expect: ${path} is not JSON: ${(error as Error).message}`);
  }
  const isDigestAt = (d: unknown): d is DigestAt =>
    typeof d === 'object' &&
    d !== null &&
    Number.isSafeInteger((d as DigestAt).position) &&
    Number.isSafeInteger((d as DigestAt).eventCount) &&
    typeof (d as DigestAt).digest === 'string' &&
    /^[0-9a-f]{64}$/.test((d as DigestAt).digest);
  const k = kept as {
    headPosition?: unknown;
    eventsChecked?: unknown;
    digest?: unknown;
    ok?: unknown;
    checkpoints?: unknown;
  };
  const head = { position: k.headPosition, eventCount: k.eventsChecked, digest: k.digest };
  if (!isDigestAt(head))
    throw new UsageError(
      `--expect: ${path} is not a report of \`partner-ledger verify --format json\` (it needs headPosition, eventsChecked and digest)`,
    );
  if (k.ok !== true)
    throw new UsageError(
      `--expect: ${path} records a verify that found a problem; keep the report of a clean verify`,
    );
  const checkpoints = Array.isArray(k.checkpoints) ? k.checkpoints.filter(isDigestAt) : [];
  return [...checkpoints.filter((d) => d.position < head.position), head];
};

export const verifyVerb: Verb = {
  name: 'verify',
  summary: 'Check every hash link and every invariant; print the digest.',
  usage:
    'verify [--up-to POSITION] [--expect FILE] [--format text|json] [--checkpoint-every N] [--store STORE]',
  description:
    "Walks the whole history in global order and recomputes every event's hash and its link to the previous " +
    "event of its stream (on the file store, every record's checksum too), then replays it to check the " +
    "ledger's invariants: every event decodes; the credits of each conversion sum to its amount; commission " +
    'lines per partner sum to accrued minus reversed; no payout exceeded the balance payable at its time; the ' +
    'double-entry postings (commission expense, partner payable, cash) sum to zero per currency.\n\n' +
    'Prints the number of events checked, the head position and the digest of the history. What the hash ' +
    'links catch: any change to an event, and any removal, insertion or reorder WITHIN a stream (except ' +
    "removing a stream's last events). What only a kept digest catches: a reorder of events of different " +
    "streams, an event moved in global order, removing a stream's last events or the newest events of the " +
    'log, a history rewritten consistently. So keep the JSON report of a close outside the ledger, and check ' +
    'against it later with --expect FILE: it compares the digest up to the kept head position, and at every ' +
    'kept checkpoint, and names the window in which the history first differs.\n\n' +
    'On the first problem it names the event (or the kept position that differs) and exits 1.',
  options,
  examples: [
    ['partner-ledger verify', 'Verify the default ledger'],
    ['partner-ledger verify --format json > close.json', 'Keep the digest at a close, as JSON'],
    ['partner-ledger verify --expect close.json', 'Later: is the history up to that close unchanged?'],
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
    const checkpointEvery = parseInteger('checkpoint-every', parsed.options['checkpoint-every'] ?? '1000', {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
    });
    const kept =
      parsed.options.expect === undefined ? undefined : await readKept(io.cwd, parsed.options.expect);
    const storeOptions = { mustExist: true, readOnly: true, tolerateDamage: true };
    return withStore(io, parsed.options.store, storeOptions, async (store) => {
      const head = await store.headPosition();
      // The digest "up to P" of a ledger that does not reach P would be that of a shorter history, printed
      // as if it were asked for; like --known-at, a position past the head is a usage error naming the head.
      if (upToPosition !== undefined && upToPosition > head)
        throw new UsageError(
          `--up-to: position ${upToPosition} is past the ledger's head (${head === -1 ? 'the store is empty' : `position ${head}`})`,
          'Name a position the ledger holds; to check a digest kept at a close, use --expect FILE.',
        );
      const total = Math.min(head, upToPosition ?? head) + 1;
      const links = createProgress({ stream: io.stderr, label: 'verify links', total });
      const invariants = createProgress({ stream: io.stderr, label: 'verify invariants', total });
      const seen = { links: 0, invariants: 0 };
      const report = await verifyLedger(store, {
        ...(upToPosition === undefined ? {} : { upToPosition }),
        checkpointEvery,
        ...(kept === undefined ? {} : { digestsAt: kept.map((d) => d.position) }),
        onProgress: (phase, done) => {
          if (phase === 'invariants') links.finish();
          // The links start over when the one-pass check gives way to the two-pass one (on a problem).
          if (done <= seen[phase]) return;
          (phase === 'links' ? links : invariants).advance(done - seen[phase]);
          seen[phase] = done;
        },
      }).finally(() => {
        links.finish();
        invariants.finish();
      });
      const comparison = kept === undefined ? undefined : compareWithKept(kept, report.digestsAt, head);
      const expectProblem =
        comparison === undefined || comparison.same
          ? null
          : `the history differs from ${parsed.options.expect}: ${comparison.message}`;
      const problem = report.firstProblem;
      if (format === 'json') {
        const { digestsAt: _digestsAt, ...shown } = report;
        void _digestsAt;
        const expected =
          comparison === undefined
            ? {}
            : {
                expected: {
                  file: parsed.options.expect,
                  position: kept![kept!.length - 1]!.position,
                  same: comparison.same,
                  ...(comparison.same
                    ? {}
                    : {
                        sameUpTo: comparison.sameUpTo,
                        differsBy: comparison.differsBy,
                        message: comparison.message,
                      }),
                },
              };
        io.stdout.write(`${JSON.stringify({ ...shown, ...expected }, null, 2)}\n`);
      } else {
        const head = kept?.[kept.length - 1];
        io.stdout.write(
          [
            `status:         ${report.ok && expectProblem === null ? 'ok' : 'PROBLEM'}`,
            `events checked: ${report.eventsChecked}`,
            `head position:  ${report.headPosition}`,
            `digest:         ${report.digest}`,
            ...(head === undefined
              ? []
              : [
                  `expected:       ${comparison!.same ? 'same' : 'DIFFERENT'} digest up to position ${head.position} as ${parsed.options.expect}`,
                ]),
            ...(problem === null ? [] : [`first problem:  ${problem.message}`]),
            ...(expectProblem === null
              ? []
              : [`difference:     ${comparison!.same ? '' : comparison!.message}`]),
            '',
          ].join('\n'),
        );
      }
      if (problem !== null) io.stderr.write(`verify: ${problem.message}\n`);
      if (expectProblem !== null) io.stderr.write(`verify: ${expectProblem}\n`);
      return problem !== null || expectProblem !== null ? EXIT.problem : EXIT.ok;
    });
  },
};
