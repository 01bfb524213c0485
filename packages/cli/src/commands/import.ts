import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Readable } from 'node:stream';
import * as E from 'fp-ts/Either';
import { canonicalJson, createInMemoryKeyStore } from '@partner-ledger/events';
import type { KeyStore } from '@partner-ledger/events';
import { createLedger, decodeCommand, pseudonymizeVisitors } from '@partner-ledger/ledger';
import type { Ledger, LedgerRejection } from '@partner-ledger/ledger';
import { createInMemoryStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { parseVerbArgs } from '../args';
import { count } from '../count';
import { EXIT, UsageError } from '../exit';
import type { CliIo } from '../io';
import { parseJsonLine } from '../json-line';
import { cliIds } from '../ledger-setup';
import { createProgress } from '../progress';
import { checkNamedFile } from '../read-named-file';
import { KEYS_OPTION, withKeyedStore } from '../store';
import type { Verb } from '../verb';

const options = {
  actor: {
    type: 'string',
    valueName: 'ACTOR',
    description: 'The actor of commands that name none (default service:partner-ledger-import).',
  },
  atomic: {
    type: 'boolean',
    description:
      'All or nothing: rehearse every command on a copy of the ledger first, and apply none if a rule refuses any.',
  },
  ...KEYS_OPTION,
} as const;

/** One problem with one line of the file. */
interface LineProblem {
  readonly line: number;
  readonly field: string;
  readonly message: string;
}

/** One line of the file: its text, or null with the reason when it cannot be read as text. */
interface Line {
  readonly number: number;
  readonly text: string | null;
  /** Why `text` is null: not UTF-8, or too long. */
  readonly unreadable?: string;
}

/**
 * The longest line read, in bytes: the file store's largest event (16 MiB), which no command comes near. A
 * longer line is refused as such, and its bytes are skipped rather than kept: a file of one endless line
 * would otherwise fill the memory, and a line past V8's longest string (about 512 MiB) would fail to decode
 * and be reported as "not valid UTF-8".
 */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

// ignoreBOM keeps a byte order mark in the text, so that dropping it is done (and said) below, not by default.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * One line's text. A UTF-8 byte order mark at the start of ANY line is dropped, not only on line 1: files that
 * each begin with one (saved by an editor) and are joined with `cat` carry it at the start of later lines too,
 * where it stands before the JSON object, outside every value, so dropping it changes no field.
 */
const decodeLine = (bytes: Buffer, number: number): Line => {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
  try {
    return { number, text: utf8.decode(bytes.subarray(0, end)).replace(/^\uFEFF/, '') };
  } catch {
    return { number, text: null, unreadable: 'not valid UTF-8 text' };
  }
};

const tooLong = (number: number, bytes: number): Line => ({
  number,
  text: null,
  unreadable: `${bytes} bytes, more than the ${MAX_LINE_BYTES} (16 MiB) a line may have: no command is that large`,
});

/**
 * The lines of a byte stream, each decoded strictly: a byte sequence that is not UTF-8 is reported, never
 * turned into U+FFFD (an id would silently change).
 */
async function* lines(source: Readable): AsyncGenerator<Line> {
  let number = 0;
  let pending: Buffer[] = [];
  // The bytes of the current line so far; past MAX_LINE_BYTES, `pending` is dropped and only counted.
  let length = 0;
  const take = (part: Buffer): void => {
    length += part.length;
    if (length > MAX_LINE_BYTES) pending = [];
    else pending.push(part);
  };
  const line = (): Line => {
    const read =
      length > MAX_LINE_BYTES ? tooLong(number, length) : decodeLine(Buffer.concat(pending), number);
    pending = [];
    length = 0;
    return read;
  };
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    let start = 0;
    for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, start)) {
      take(bytes.subarray(start, at));
      number += 1;
      yield line();
      start = at + 1;
    }
    if (start < bytes.length) take(bytes.subarray(start));
  }
  if (length > 0) {
    number += 1;
    yield line();
  }
}

const jsonKind = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

/** Reads one NDJSON line: a JSON object that decodes as a command, or every problem with it. */
const readLine = ({ text, unreadable }: Line): E.Either<Array<Omit<LineProblem, 'line'>>, unknown> => {
  if (text === null) return E.left([{ field: '(line)', message: unreadable ?? 'not valid UTF-8 text' }]);
  const parsed = parseJsonLine(text);
  if (E.isLeft(parsed)) return E.left([parsed.left]);
  const value = parsed.right;
  // A line that is JSON but not an object (an array, a string, null) has no command field to name: the codec
  // would report the array's indexes as fields ("[NaN]") or a missing "command", which misleads.
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return E.left([
      { field: '(line)', message: `expected a JSON object (one command), got ${jsonKind(value)}` },
    ]);
  const decoded = decodeCommand(value);
  if (E.isRight(decoded)) return E.right(value);
  const rejection: LedgerRejection = decoded.left;
  const problems = rejection.problems ?? [
    { path: rejection.field ?? '(command)', message: rejection.message },
  ];
  return E.left(problems.map((p) => ({ field: p.path === '' ? '(command)' : p.path, message: p.message })));
};

const REVIEWS = new Set(['holdCommission', 'releaseCommission', 'rejectCommission']);

/**
 * The command of a valid line, as the ledger gets it. A hold, release or rejection that carries neither a
 * requestId nor an occurredAt gets its line's content as its requestId, so that importing the same file again
 * (even after another file released a line it holds) records nothing new.
 */
const commandOf = (text: string): Record<string, unknown> => {
  const command = (parseJsonLine(text) as E.Right<Record<string, unknown>>).right;
  if (!REVIEWS.has(command['command'] as string) || 'requestId' in command || 'occurredAt' in command)
    return command;
  const digest = createHash('sha256').update(canonicalJson(command)).digest('hex');
  return { ...command, requestId: `import-${digest}` };
};

const describeRejection = (rejection: LedgerRejection): string =>
  `${rejection.code}${rejection.field === undefined ? '' : ` (${rejection.field})`}: ${rejection.message}`;

/**
 * The commands of a file, validated all first. A file is read twice (validate, then apply) so that memory
 * does not grow with its size; standard input can be read only once, so it is kept.
 */
const commandSource = async (io: CliIo, file: string): Promise<{ name: string; open: () => Readable }> => {
  if (file === '-') {
    const kept: Buffer[] = [];
    for await (const chunk of io.stdin)
      kept.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer));
    const all = Buffer.concat(kept);
    return { name: 'standard input', open: () => Readable.from([all]) };
  }
  const path = isAbsolute(file) ? file : resolve(io.cwd, file);
  await checkNamedFile('import', path, 'file of commands');
  return { name: path, open: () => createReadStream(path) };
};

/** What applying the file did, command by command. */
interface Tally {
  applied: number;
  events: number;
  repeated: number;
  rejected: number;
}

/** Applies every valid command of the file in order, reporting each refusal with its line number. */
const applyAll = async (
  ledger: Ledger,
  source: Readable,
  onRefusal: (line: number, rejection: LedgerRejection) => void,
  onCommand: () => void,
): Promise<Tally> => {
  const tally: Tally = { applied: 0, events: 0, repeated: 0, rejected: 0 };
  for await (const { number, text } of lines(source)) {
    if (text === null || text.trim() === '') continue;
    const outcome = await ledger.execute(commandOf(text))();
    onCommand();
    if (E.isLeft(outcome)) {
      tally.rejected += 1;
      onRefusal(number, outcome.left);
    } else if (outcome.right.alreadyRecorded) {
      tally.repeated += 1;
    } else {
      tally.applied += 1;
      tally.events += outcome.right.events.length;
    }
  }
  return tally;
};

/**
 * A copy of the ledger in memory, to rehearse an --atomic import on: every stored event in its stream, in
 * global order, with its times and ids, so that the ledger decides on the copy as it would on the store.
 */
const copyOf = async (store: EventStore): Promise<EventStore> => {
  const copy = createInMemoryStore();
  for await (const event of store.readAll()) {
    const { id, type, schemaVersion, data, occurredAt, recordedAt, actor, correlationId, causationId } =
      event;
    await copy.append(event.stream, [
      { id, type, schemaVersion, data, occurredAt, recordedAt, actor, correlationId, causationId },
    ]);
  }
  return copy;
};

/**
 * The keys of an --atomic rehearsal: the ledger's keys as they are, and a key the rehearsal needs that the
 * key file lacks (the visitors' key of a new generation, for the first click after `erase --all-visitors`)
 * made in memory only. A rehearsal that is then refused must leave the key file as it was; when it passes,
 * applying makes the key for real (a new visitor's pseudonym under another key changes no decision: its
 * visitor has no events under either).
 */
const rehearsalKeys = (keys: KeyStore): KeyStore => {
  const made = createInMemoryKeyStore();
  return {
    get: async (keyId) => {
      const found = await keys.get(keyId);
      return found.state === 'missing' ? made.get(keyId) : found;
    },
    getOrCreate: async (keyId) =>
      (await keys.get(keyId)).state === 'missing' ? made.getOrCreate(keyId) : keys.getOrCreate(keyId),
    destroy: () => Promise.reject(new Error('an --atomic rehearsal erases nothing')),
  };
};

export const importVerb: Verb = {
  name: 'import',
  summary: 'Apply commands from an NDJSON file (or stdin), all validated first.',
  usage: 'import FILE|- [--atomic] [--actor ACTOR] [--store STORE]',
  description:
    'Reads ledger commands as NDJSON: one JSON object per line, with a "command" field naming it ' +
    '(configureProgram, publishPlan, joinPartner, trackClick, recordConversion, reverseConversion, ' +
    'issuePayout, ...) and the same fields as the ledger API (docs/cli.md lists them). Blank lines are skipped, and a UTF-8 byte order mark at ' +
    'the start of any line is dropped (files saved with one and joined with cat carry it on later lines too). A file is read twice ' +
    '(validated, then applied), so memory does not grow with its size; standard input (-) can be read only once, so it is ' +
    'held in memory: name a file for a large import.\n\n' +
    'Two kinds of bad line. An INVALID line (not UTF-8, longer than 16 MiB, not JSON, JSON but not an object, a key repeated in one object, nesting ' +
    'deeper than 64 levels, an unknown command, a missing or malformed field) is found before anything is ' +
    'applied: every invalid line is reported on stderr with its line number and field, NOTHING is applied, ' +
    'and the exit code is 2. A valid command that a business rule REFUSES (a payout above the payable ' +
    'balance, a partner not yet joined, a ledger without init) is found only when it is applied: it is ' +
    'reported with its line number, the OTHER commands are applied, and the exit code is 2. With --atomic, ' +
    'every command is first rehearsed on a copy of the ledger read into memory; if a rule refuses any, ' +
    'nothing is applied (exit 2). The rehearsal holds as long as no one else writes to the ledger during the ' +
    'import; if another writer changes it in between, a refusal can still come while applying, and import ' +
    'says so.\n\n' +
    'Commands are idempotent by their identity (their ids; a hold, release or rejection by its requestId, ' +
    'else its occurredAt, else the line itself), so importing the same file again appends nothing new and ' +
    'exits 0 with "N already recorded".',
  options,
  examples: [
    ['partner-ledger import commands.ndjson', 'Apply a file of commands'],
    ['partner-ledger import --atomic payouts.ndjson', 'All of them or none'],
    ['partner-ledger import - < nightly-export.ndjson', 'From standard input'],
    ['partner-ledger import payouts.ndjson --actor user:ana@vendor.com', 'Record who ran it'],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('import', args, options);
    const [file, ...extra] = parsed.positionals;
    if (file === undefined) throw new UsageError('import: which file? (a path, or - for standard input)');
    if (extra.length > 0) throw new UsageError(`import: unexpected argument ${JSON.stringify(extra[0])}`);
    const source = await commandSource(io, file);

    // 1. Validate every line; apply nothing if any is invalid.
    const problems: LineProblem[] = [];
    let commands = 0;
    for await (const line of lines(source.open())) {
      if (line.text !== null && line.text.trim() === '') continue;
      commands += 1;
      const read = readLine(line);
      if (E.isLeft(read)) problems.push(...read.left.map((p) => ({ line: line.number, ...p })));
    }
    if (problems.length > 0) {
      const badLines = new Set(problems.map((p) => p.line)).size;
      for (const p of problems) io.stderr.write(`line ${p.line}: ${p.field}: ${p.message}\n`);
      io.stderr.write(
        `import: ${badLines} of ${commands} lines are invalid; nothing was applied. Fix them and import the file again.\n`,
      );
      return EXIT.usage;
    }

    // 2. Apply in order (after a rehearsal on a copy, with --atomic).
    return withKeyedStore(io, parsed.options.store, parsed.options.keys, {}, async (store, _spec, keys) => {
      const ledgerOn = (target: EventStore, keysOf: (keys: KeyStore) => KeyStore = (k) => k) =>
        createLedger({
          store: target,
          ...(keys === undefined ? {} : { prepareCommand: pseudonymizeVisitors(keysOf(keys)) }),
          clock: io.now,
          ids: cliIds(),
          actor: parsed.options.actor ?? 'service:partner-ledger-import',
        });
      if (parsed.options.atomic === true) {
        const refusals: string[] = [];
        const rehearsal = await applyAll(
          ledgerOn(await copyOf(store), rehearsalKeys),
          source.open(),
          (line, rejection) => refusals.push(`line ${line}: rejected: ${describeRejection(rejection)}`),
          () => undefined,
        );
        if (rehearsal.rejected > 0) {
          for (const refusal of refusals) io.stderr.write(`${refusal}\n`);
          io.stderr.write(
            `import: --atomic: ${rehearsal.rejected} of ${commands} commands would be refused; nothing was applied.\n`,
          );
          return EXIT.usage;
        }
      }
      const progress = createProgress({
        stream: io.stderr,
        label: 'import',
        unit: 'commands',
        total: commands,
      });
      let tally: Tally;
      try {
        tally = await applyAll(
          ledgerOn(store),
          source.open(),
          (line, rejection) => progress.note(`line ${line}: rejected: ${describeRejection(rejection)}`),
          () => progress.advance(),
        );
      } finally {
        progress.finish();
      }
      io.stderr.write(
        `import: ${count(commands, 'command', 'commands')} from ${source.name}: ${tally.applied} applied (${count(tally.events, 'event', 'events')}), ` +
          `${tally.repeated} already recorded, ${tally.rejected} rejected\n`,
      );
      if (tally.rejected > 0)
        io.stderr.write(
          parsed.options.atomic === true
            ? 'import: --atomic: the rehearsal passed, but the ledger changed before the commands were applied (another writer); the commands before the refused ones stay applied.\n'
            : 'import: the refused commands changed nothing; the others were applied. Fix the refused lines and import the file again: what was applied is recorded once.\n',
        );
      return tally.rejected > 0 ? EXIT.usage : EXIT.ok;
    });
  },
};
