import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import { computeDigest } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { parseVerbArgs } from '../args';
import { count } from '../count';
import { EXIT, UsageError } from '../exit';
import type { CliIo } from '../io';
import { createProgress } from '../progress';
import { openStore } from '../store';
import { describeStoreSpec, resolveStoreSpec } from '../store-spec';
import type { StoreSpec } from '../store-spec';
import type { Verb } from '../verb';

const options = {
  from: { type: 'string', valueName: 'STORE', description: 'The ledger to copy (read only).' },
  to: {
    type: 'string',
    valueName: 'STORE',
    description: 'Where to copy it: an empty ledger, or an earlier, interrupted copy of the same ledger.',
  },
} as const;

/** The most events appended in one call: a run of consecutive events of one stream, up to this many. */
const MAX_RUN = 500;

/** The part of a stored event that an append takes: what its hash covers, besides the chain. */
const bodyOf = (event: RecordedEvent): NewEvent => ({
  id: event.id,
  type: event.type,
  schemaVersion: event.schemaVersion,
  data: event.data,
  occurredAt: event.occurredAt,
  recordedAt: event.recordedAt,
  actor: event.actor,
  correlationId: event.correlationId,
  causationId: event.causationId,
});

const open = async (spec: StoreSpec, role: string, mustExist: boolean): Promise<EventStore> => {
  try {
    return await openStore(spec, mustExist ? { mustExist: true, readOnly: true } : {});
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `copy: cannot open the ${role} ledger at ${describeStoreSpec(spec)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
};

/**
 * Copies `source` onto `target`, event by event in global order, keeping ids, bodies, stream revisions
 * and so hashes; the target's positions are its own. Resumes: events the target already holds must be the
 * source's first ones (checked by id and hash), and copying goes on after them.
 */
const copyEvents = async (io: CliIo, source: EventStore, target: EventStore, sourceIsDense: boolean) => {
  // The command's clock, not the process's: rates and ETAs follow what the caller injected.
  const progress = createProgress({ stream: io.stderr, label: 'copy', now: () => io.now().getTime() });
  const sourceHead = await source.headPosition();
  if (sourceIsDense) progress.setTotal(sourceHead + 1);
  // The target's events so far, checked against the source's first ones: a resumed copy, or a mistake.
  const sourceEvents = source.readAll()[Symbol.asyncIterator]();
  let already = 0;
  let lastCopied: RecordedEvent | undefined;
  for await (const held of target.readAll()) {
    const next = await sourceEvents.next();
    if (next.done === true || next.value.id !== held.id || next.value.hash !== held.hash) {
      throw new UsageError(
        `copy: the target already holds events that are not the source's (its event ${already}, id ${JSON.stringify(held.id)}, differs)`,
        'Copy into an empty ledger, or into an earlier copy of the same ledger to resume it.',
      );
    }
    lastCopied = next.value;
    already += 1;
  }
  progress.advance(already);
  let run: RecordedEvent[] = [];
  const flush = async (): Promise<void> => {
    const first = run[0];
    if (first === undefined) return;
    const result = await target.append(first.stream, run.map(bodyOf), {
      expectedRevision: first.revision === 0 ? 'noStream' : first.revision - 1,
    });
    result.events.forEach((copied, index) => {
      const original = run[index] as RecordedEvent;
      if (copied.hash !== original.hash) {
        throw new Error(
          `copy: event ${JSON.stringify(original.id)} was stored with hash ${copied.hash}, not ${original.hash}: the source's chain does not check out here (run verify on it)`,
        );
      }
    });
    lastCopied = run[run.length - 1];
    progress.advance(run.length);
    run = [];
  };
  try {
    // Up to the source's head when the copy started: a writer still appending to it does not keep the copy
    // going for ever (run copy again to take the rest).
    for (let next = await sourceEvents.next(); next.done !== true; next = await sourceEvents.next()) {
      const event = next.value;
      if (event.position > sourceHead) break;
      const last = run[run.length - 1];
      if (last !== undefined && (last.stream !== event.stream || run.length >= MAX_RUN)) await flush();
      run.push(event);
    }
    await flush();
  } finally {
    await sourceEvents.return?.();
    progress.finish();
  }
  return { already, lastCopied };
};

export const copyVerb: Verb = {
  name: 'copy',
  summary: 'Copy a ledger to another store (file, PostgreSQL, EventStoreDB), keeping ids, hashes and order.',
  usage: 'copy --from STORE --to STORE',
  description:
    'Copies every event of the --from ledger to the --to ledger in global order, keeping event ids, bodies, ' +
    'stream revisions and therefore hashes: verify prints the same digest on both. Global positions are ' +
    "the target's own (EventStoreDB numbers them its way).\n\n" +
    'Resumable: when the target already holds the first events of the source (an interrupted copy), ' +
    'copy checks them by id and hash and goes on after them; a target holding anything else is refused. ' +
    "Copies up to the source's head when it starts; run it again to take events appended since.\n\n" +
    'At the end it prints how many events it copied and the digest of both ledgers, and fails if they differ. ' +
    'Progress goes to stderr on a terminal.',
  options,
  takesStore: false,
  examples: [
    [
      'partner-ledger copy --from ./.partner-ledger --to postgres://ledger@db.internal/ledger',
      'Move an embedded ledger to PostgreSQL',
    ],
    [
      'partner-ledger copy --from postgres://ledger@db.internal/ledger --to ./ledger-copy',
      'And back, to a new directory',
    ],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('copy', args, options);
    if (parsed.positionals.length > 0)
      throw new UsageError(`copy: unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    const { from, to } = parsed.options;
    if (from === undefined || to === undefined)
      throw new UsageError('copy: give both --from STORE and --to STORE');
    if (parsed.options.store !== undefined)
      throw new UsageError('copy: name the ledgers with --from and --to, not --store');
    const fromSpec = resolveStoreSpec(from, io.env, io.cwd);
    const toSpec = resolveStoreSpec(to, io.env, io.cwd);
    if (JSON.stringify(fromSpec) === JSON.stringify(toSpec))
      throw new UsageError('copy: --from and --to name the same ledger');
    const source = await open(fromSpec, 'source', true);
    let target: EventStore;
    try {
      target = await open(toSpec, 'target', false);
    } catch (error) {
      await source.close().catch(() => undefined);
      throw error;
    }
    try {
      const { already, lastCopied } = await copyEvents(io, source, target, fromSpec.kind !== 'eventstoredb');
      const sourceDigest = await computeDigest(source, {
        upToPosition: lastCopied === undefined ? -1 : lastCopied.position,
      });
      const targetDigest = await computeDigest(target);
      io.stdout.write(
        [
          `copied:         ${count(targetDigest.eventCount - already, 'event', 'events')}` +
            (already > 0 ? ` (${count(already, 'was', 'were')} already there)` : ''),
          `from:           ${describeStoreSpec(fromSpec)}`,
          `to:             ${describeStoreSpec(toSpec)}`,
          `events:         ${targetDigest.eventCount.toLocaleString('en-US')}`,
          `source digest:  ${sourceDigest.digest}`,
          `target digest:  ${targetDigest.digest}`,
          '',
        ].join('\n'),
      );
      if (
        sourceDigest.digest !== targetDigest.digest ||
        sourceDigest.eventCount !== targetDigest.eventCount
      ) {
        io.stderr.write('copy: the digests differ: the target is not a copy of the source\n');
        return EXIT.problem;
      }
      return EXIT.ok;
    } finally {
      await Promise.all([source.close(), target.close()]);
    }
  },
};
