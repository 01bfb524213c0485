import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import {
  commissionBalances,
  createDirectoryShelf,
  createSession,
  CHECKPOINT_FORMAT,
} from '@partner-ledger/projections';
import type { Checkpoint } from '@partner-ledger/projections';
import type { EventStore } from '@partner-ledger/store';
import { openFileStore } from '@partner-ledger/store-file';
import { namesAtRevisions, partnerNameEvents } from '../report/names';
import type { NameEvent } from '../report/names';
import { partnerTypes } from '../report/partner-types';
import { runReport } from '../report/run-report';

// Where a resumed `report balances` spends its time, step by step, in the ledger and checkpoints that
// report-resume-bench leaves behind (run it first): each step of what runReport does with checkpoints, done
// one after the other with the clock read between them, best of ROUNDS rounds each, in one open store. The
// steps are redone here from the packages' public API (the projections' own code, not copies of it), so
// that each can be timed alone; the last line times runReport itself, whose output must match.
//
//   node packages/cli/dist/bench/report-resume-steps.js [EVENTS] [ROUNDS]

const events = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 15);
const root = join(tmpdir(), `partner-ledger-resume-bench-${events}`);
const ledger = join(root, 'ledger');
const checkpoints = `${ledger}.checkpoints`;

const crc32 = (zlib as unknown as { crc32: (data: string) => number }).crc32;

const firstAt = async (store: EventStore, position: number) => {
  for await (const event of store.readAll({ fromPosition: position, pageSize: 1, asKnownAt: { position } }))
    return event;
  return undefined;
};

const main = async (): Promise<void> => {
  const store = await openFileStore({ directory: ledger, readOnly: true });
  const shelf = createDirectoryShelf(checkpoints);
  const [set] = readdirSync(checkpoints);
  const times = new Map<string, number[]>();
  let clock = 0;
  const lap = (step: string): void => {
    const now = performance.now();
    const list = times.get(step) ?? [];
    list.push(now - clock);
    times.set(step, list);
    clock = performance.now();
  };
  let output = '';
  let whole = '';
  for (let round = 0; round < rounds; round += 1) {
    clock = performance.now();
    const positions = [...(await shelf.positions(set!))].sort((a, b) => b - a);
    const header = JSON.parse((await shelf.header(set!, positions[0]!))!) as {
      position: number;
      eventsRead: number;
      eventsApplied: number;
      lastOccurredAt: string | null;
      bodyCrc32: number;
    };
    lap('1 shelf: list, read and parse the header');
    await firstAt(store, 0);
    await firstAt(store, header.position);
    lap('2 the two events checked (genesis, position)');
    const text = await shelf.body(set!, header.position);
    lap('3 read and decode the body (floor)');
    if (crc32(text!) !== header.bodyCrc32) throw new Error('checksum');
    lap('4 CRC-32 of the body');
    const body = JSON.parse(text!) as { reference: Checkpoint['reference']; states: Checkpoint['states'] };
    lap('5 JSON.parse of the body (floor)');
    const projections = {
      balances: commissionBalances(),
      types: partnerTypes(),
      partnerNames: partnerNameEvents(),
    };
    const session = createSession(
      projections,
      { store },
      {
        format: CHECKPOINT_FORMAT,
        position: header.position,
        eventsRead: header.eventsRead,
        eventsApplied: header.eventsApplied,
        lastOccurredAt: header.lastOccurredAt,
        effectiveAt: null,
        reportingCurrency: null,
        reference: body.reference,
        states: body.states,
      },
    );
    lap('6 createSession: load the reference and the states');
    const fresh = [];
    for await (const event of store.readAll({ fromPosition: header.position + 1 })) fresh.push(event);
    lap('7a read the new events (floor)');
    for (const event of fresh) {
      if (event.type === 'ConversionReversed') await session.prepare(event);
      session.handle(event);
    }
    lap('7b decode and apply them');
    const results = session.results();
    lap('8 results (balances, types, name events)');
    const names = await namesAtRevisions(
      store,
      Object.keys(results.balances.partners),
      results.partnerNames as Record<string, NameEvent>,
    );
    lap('9 names (namesAtRevisions)');
    const types = new Map(Object.entries(results.types));
    void types;
    const document = {
      by: 'partner',
      effectiveAt: null,
      eventsRead: session.eventsRead,
      knownAt: null,
      partnerNames: names,
      position: session.position,
      report: 'balances',
      result: results.balances,
    };
    lap('10a envelope');
    output = `${JSON.stringify(document, null, 2)}\n`;
    lap('10b JSON.stringify (render)');
    // The results step apart: each projection's result on its own, from a state loaded afresh.
    const balances = commissionBalances();
    const state = balances.load(body.states['balances']!.state);
    const context = { asOf: header.lastOccurredAt, position: session.position, reference: session.reference };
    clock = performance.now();
    balances.result(state, context);
    lap('8a balances result alone (state as loaded, no new event)');
    const report = await runReport(store, 'balances', { checkpoints: { shelf } });
    whole = `${JSON.stringify(report.json, null, 2)}\n`;
    lap("runReport + stringify (the bench's resumed side)");
  }
  await store.close();
  if (whole !== output) throw new Error('the steps printed other bytes than runReport');
  let sum = 0;
  for (const [step, list] of [...times].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    const best = Math.min(...list);
    if (/^\d/.test(step) && !step.startsWith('8a')) sum += best;
    console.log(
      `${step.padEnd(60)} best ${best.toFixed(1).padStart(6)} ms  median ${median(list).toFixed(1).padStart(6)} ms`,
    );
  }
  console.log(`sum of the steps' bests ${sum.toFixed(1)} ms`);
};

const median = (list: readonly number[]): number => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
