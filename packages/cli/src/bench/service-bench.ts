import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import type { NewEvent, RecordedEvent } from '@partner-ledger/events';
import { createLedger } from '@partner-ledger/ledger';
import { createInMemoryStore } from '@partner-ledger/store';
import type { Ledger, Outcome } from '@partner-ledger/ledger';
import { openFileStore } from '@partner-ledger/store-file';

// Commands from a service: the ledger's command API used the way a service uses it, by 1, 8 and 64
// concurrent callers issuing a realistic mix (mostly trackClick, then recordConversion, reversals and
// payouts) against the file store; against the same file store appending the very same events (the batches
// the ledger appended, each caller's in its order) with the same concurrency. Ledger and store alternate in
// half-second slices (a shared machine then disturbs both alike); the ratio is the ledger's commands per
// second over the store's appends per second (one append per command that recorded something), with
// latency percentiles of both.
//
//   npm run build && node packages/cli/dist/bench/service-bench.js
//
// Environment: BENCH_SECONDS (per concurrency, default 3), BENCH_RUNS (default 3; the median run is shown),
// BENCH_PARTNERS (default 50), BENCH_CALLERS (default "1,8,64"), BENCH_DIR (default the OS temp directory),
// BENCH_STORE (default 1; 0 leaves the store loop out, to profile the ledger's callers alone: no ratio then),
// BENCH_PAYOUT_HISTORY (default 3000; 0 skips the payout check below).
//
// Then a check that payouts do not slow down with history: one partner with BENCH_PAYOUT_HISTORY conversions
// all paid already, one with 10, each then owed the same 20 new lines; payouts of 1.00 alternate between the
// two (blocks of 25, CPU time of each block), on the in-memory store (no fsync, so the decision is most of
// the cost; the file store would take minutes to build the history). The ratio long / short is about 1 when
// a payout reads only what is still owed, and grows with the history when it reads every line.

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PARTNERS = Number(process.env.BENCH_PARTNERS ?? 50);
const CALLERS = (process.env.BENCH_CALLERS ?? '1,8,64').split(',').map(Number);
const STORE_LOOP = process.env.BENCH_STORE !== '0';
const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'pl-service-bench-'));

/** A small seeded generator (mulberry32): the same mix for the same caller in every run. */
const seeded = (seed: number) => {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
const median = <T>(values: readonly T[], key: (v: T) => number): T =>
  [...values].sort((a, b) => key(a) - key(b))[Math.floor(values.length / 2)]!;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => `${n.toFixed(2)} ms`;

const asNew = (event: RecordedEvent): NewEvent => ({
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

const HEX = '0123456789abcdef';

const setUp = async (ledger: Ledger): Promise<void> => {
  const must = (r: E.Either<unknown, Outcome>): void => {
    if (E.isLeft(r)) throw new Error(`set-up failed: ${JSON.stringify(r.left)}`);
  };
  must(
    await ledger.configureProgram({
      programId: 'bench',
      name: 'Bench program',
      currency: 'USD',
      attribution: {
        model: 'lastTouch',
        clickWindowDays: 30,
        halfLifeDays: 7,
        precedence: ['dealRegistration', 'coupon', 'clicks'],
      },
      minimumPayout: '1.00',
      minClickToConversionSeconds: 0,
    })(),
  );
  must(
    await ledger.publishPlan({
      planId: 'standard',
      version: 1,
      name: 'Standard',
      currency: 'USD',
      holdDays: 0,
      effectiveFrom: '2020-01-01T00:00:00.000Z',
      rules: [{ kind: 'revenueShare', rate: '0.2' }],
      recurringMaxMonths: null,
      caps: { perConversion: null, perPartnerPerPeriod: null },
      twoTierOverrideRate: null,
    })(),
  );
  for (let p = 0; p < PARTNERS; p++)
    must(
      await ledger.joinPartner({
        partnerId: `partner-${p}`,
        name: `Partner ${p}`,
        partnerType: 'affiliate',
        planId: 'standard',
        payoutCurrency: 'USD',
        occurredAt: '2020-01-01T00:00:00.000Z',
      })(),
    );
};

interface Caller {
  readonly random: () => number;
  readonly visitors: { visitorId: string; partnerId: string }[];
  readonly conversions: { conversionId: string; partnerId: string; reversed: number }[];
  counter: number;
}

/** One command of the mix: 70% clicks, 20% conversions, 5% partial refunds, 5% payouts. */
const nextCommand = (
  ledger: Ledger,
  name: string,
  caller: Caller,
): { kind: string; run: () => Promise<E.Either<unknown, Outcome>> } => {
  const r = caller.random();
  const id = `${name}-${(caller.counter += 1)}`;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(caller.random() * items.length)]!;
  if (r < 0.7 || caller.visitors.length === 0) {
    const reuse = caller.visitors.length > 0 && caller.random() < 0.3;
    const visitor = reuse
      ? pick(caller.visitors)
      : { visitorId: `visitor-${id}`, partnerId: `partner-${Math.floor(caller.random() * PARTNERS)}` };
    if (!reuse) caller.visitors.push(visitor);
    let fingerprint = '';
    for (let i = 0; i < 64; i++) fingerprint += HEX[Math.floor(caller.random() * 16)];
    return {
      kind: 'trackClick',
      run: ledger.trackClick({
        clickId: `click-${id}`,
        partnerId: visitor.partnerId,
        visitorId: visitor.visitorId,
        campaign: 'newsletter',
        url: 'https://vendor.example/landing/pricing',
        ipFingerprint: fingerprint,
        userAgentFingerprint: null,
        fraudReason: null,
      }),
    };
  }
  if (r < 0.9 || caller.conversions.length === 0) {
    const visitor = pick(caller.visitors);
    const conversionId = `order-${id}`;
    caller.conversions.push({ conversionId, partnerId: visitor.partnerId, reversed: 0 });
    return {
      kind: 'recordConversion',
      run: ledger.recordConversion({
        conversionId,
        customerId: `customer-${visitor.visitorId}`,
        kind: 'order',
        amount: '100.00',
        currency: 'USD',
        visitorId: visitor.visitorId,
      }),
    };
  }
  const conversion = pick(caller.conversions);
  if (r < 0.95 && conversion.reversed < 50) {
    conversion.reversed += 1;
    return {
      kind: 'reverseConversion',
      run: ledger.reverseConversion({
        reversalId: `refund-${id}`,
        conversionId: conversion.conversionId,
        kind: 'refund',
        amount: '1.00',
        reason: 'customer asked for a partial refund',
      }),
    };
  }
  return {
    kind: 'issuePayout',
    run: ledger.issuePayout({
      payoutId: `payout-${id}`,
      partnerId: conversion.partnerId,
      amount: '1.00',
      currency: 'USD',
      method: 'bankTransfer',
      externalReference: null,
    }),
  };
};

const runLevel = async (callers: number, run: number) => {
  const ledgerStore = await openFileStore({ directory: join(root, `ledger-${callers}-${run}`) });
  const baseStore = await openFileStore({ directory: join(root, `store-${callers}-${run}`) });
  const ledger = createLedger({ store: ledgerStore });
  await setUp(ledger);
  const state: Caller[] = Array.from({ length: callers }, (_, w) => ({
    random: seeded(1000 * run + w + 1),
    visitors: [],
    conversions: [],
    counter: 0,
  }));
  const ledgerLatency: number[] = [];
  const storeLatency: number[] = [];
  const kinds = new Map<string, number[]>();
  let commands = 0;
  let rejected = 0;
  let appends = 0;
  let ledgerSeconds = 0;
  let storeSeconds = 0;
  let ledgerCpu = 0;
  let storeCpu = 0;
  const cpu = (): number => {
    const used = process.cpuUsage();
    return used.user + used.system;
  };
  for (let slice = 0; slice < SECONDS * 2; slice++) {
    const batches: RecordedEvent[][][] = Array.from({ length: callers }, () => []);
    const deadline = Date.now() + 500;
    const started = performance.now();
    const cpuStarted = cpu();
    await Promise.all(
      state.map(async (caller, w) => {
        while (Date.now() < deadline) {
          const { kind, run: command } = nextCommand(ledger, `c${w}s${slice}`, caller);
          const t0 = performance.now();
          const result = await command();
          const latency = performance.now() - t0;
          ledgerLatency.push(latency);
          commands += 1;
          if (!kinds.has(kind)) kinds.set(kind, []);
          kinds.get(kind)!.push(latency);
          if (E.isLeft(result)) rejected += 1;
          else if (!result.right.alreadyRecorded && result.right.events.length > 0)
            batches[w]!.push([...result.right.events]);
        }
      }),
    );
    ledgerSeconds += (performance.now() - started) / 1000;
    ledgerCpu += cpu() - cpuStarted;
    const storeStarted = performance.now();
    const storeCpuStarted = cpu();
    await Promise.all(
      (STORE_LOOP ? batches : []).map(async (own) => {
        for (const batch of own) {
          const t0 = performance.now();
          await baseStore.append(batch[0]!.stream, batch.map(asNew));
          storeLatency.push(performance.now() - t0);
          appends += 1;
        }
      }),
    );
    storeSeconds += (performance.now() - storeStarted) / 1000;
    storeCpu += cpu() - storeCpuStarted;
  }
  await ledgerStore.close();
  await baseStore.close();
  rmSync(join(root, `ledger-${callers}-${run}`), { recursive: true, force: true });
  rmSync(join(root, `store-${callers}-${run}`), { recursive: true, force: true });
  ledgerLatency.sort((a, b) => a - b);
  storeLatency.sort((a, b) => a - b);
  const ledgerRate = commands / ledgerSeconds;
  const storeRate = appends / storeSeconds;
  return {
    callers,
    commands,
    rejected,
    appends,
    kinds,
    ledgerRate,
    storeRate,
    ratio: ledgerRate / storeRate,
    ledgerCpuPer: ledgerCpu / commands,
    storeCpuPer: storeCpu / appends,
    ledgerP50: percentile(ledgerLatency, 50),
    ledgerP99: percentile(ledgerLatency, 99),
    storeP50: percentile(storeLatency, 50),
    storeP99: percentile(storeLatency, 99),
  };
};

const PAYOUT_HISTORY = Number(process.env.BENCH_PAYOUT_HISTORY ?? 3000);

/** CPU microseconds per payout for a partner with a long paid history over one with a short one. */
const payoutHistoryCheck = async (): Promise<{
  long: number;
  short: number;
  wallLong: number;
  wallShort: number;
}> => {
  const ledger = createLedger({ store: createInMemoryStore() });
  await setUp(ledger);
  const must = async (run: () => Promise<E.Either<unknown, Outcome>>): Promise<void> => {
    const r = await run();
    if (E.isLeft(r)) throw new Error(`payout check failed: ${JSON.stringify(r.left)}`);
  };
  let n = 0;
  const convert = async (partnerId: string): Promise<void> => {
    n += 1;
    const visitorId = `history-visitor-${n}`;
    await must(
      ledger.trackClick({
        clickId: `history-click-${n}`,
        partnerId,
        visitorId,
        campaign: 'newsletter',
        url: 'https://vendor.example/landing/pricing',
        ipFingerprint: null,
        userAgentFingerprint: null,
        fraudReason: null,
      }),
    );
    await must(
      ledger.recordConversion({
        conversionId: `history-order-${n}`,
        customerId: `history-customer-${n}`,
        kind: 'order',
        amount: '100.00',
        currency: 'USD',
        visitorId,
      }),
    );
  };
  const pay = (partnerId: string, amount: string) => {
    n += 1;
    return ledger.issuePayout({
      payoutId: `history-payout-${n}`,
      partnerId,
      amount,
      currency: 'USD',
      method: 'bankTransfer',
      externalReference: null,
    });
  };
  const LONG = 'partner-0';
  const SHORT = 'partner-1';
  // The paid history: every commission (20% of 100.00) settled by one payout.
  for (const [partnerId, lines] of [
    [LONG, PAYOUT_HISTORY],
    [SHORT, 10],
  ] as const) {
    for (let i = 0; i < lines; i++) await convert(partnerId);
    await must(pay(partnerId, (lines * 20).toFixed(2)));
  }
  // What both are owed now: 20 lines of 20.00, enough for 400 payouts of 1.00.
  for (let i = 0; i < 20; i++) {
    await convert(LONG);
    await convert(SHORT);
  }
  const spent = { [LONG]: [0, 0], [SHORT]: [0, 0] } as Record<string, [number, number]>;
  const count = { [LONG]: 0, [SHORT]: 0 } as Record<string, number>;
  for (let block = 0; block < 16; block++)
    for (const partnerId of [LONG, SHORT]) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < 25; i++) await must(pay(partnerId, '1.00'));
      const cpu1 = process.cpuUsage(cpu0);
      spent[partnerId]![0] += cpu1.user + cpu1.system;
      spent[partnerId]![1] += (performance.now() - t0) * 1000;
      count[partnerId]! += 25;
    }
  return {
    long: spent[LONG]![0] / count[LONG]!,
    short: spent[SHORT]![0] / count[SHORT]!,
    wallLong: spent[LONG]![1] / count[LONG]!,
    wallShort: spent[SHORT]![1] / count[SHORT]!,
  };
};

const main = async (): Promise<void> => {
  console.log(
    `# commands from a service: ledger vs file store (node ${process.version}, ${new Date().toISOString()}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
  console.log(`${PARTNERS} partners; ${SECONDS} s per run in half-second slices; ${RUNS} runs; median shown`);
  console.log(
    'callers | commands (rejected) | mix | ledger cmd/s | store appends/s | ledger / store (median; runs) | ledger p50 / p99 | store p50 / p99 | CPU per command / per append',
  );
  if (!STORE_LOOP)
    console.log('BENCH_STORE=0: the store loop is left out; its columns and the ratio are empty');
  const medians = [];
  for (const callers of CALLERS) {
    const runs = [];
    for (let run = 0; run < RUNS; run++) runs.push(await runLevel(callers, run));
    const r = median(runs, (x) => x.ratio);
    medians.push(r);
    const mix = [...r.kinds]
      .map(([k, n]) => `${k} ${((n.length / r.commands) * 100).toFixed(0)}%`)
      .join(', ');
    console.log(
      `${callers} | ${fmt(r.commands)} (${fmt(r.rejected)}) | ${mix} | ${fmt(r.ledgerRate)} | ${fmt(r.storeRate)} | ${(r.ratio * 100).toFixed(0)}% (${runs.map((x) => `${(x.ratio * 100).toFixed(0)}%`).join(', ')}) | ${ms(r.ledgerP50)} / ${ms(r.ledgerP99)} | ${ms(r.storeP50)} / ${ms(r.storeP99)} | ${fmt(r.ledgerCpuPer)} us / ${fmt(r.storeCpuPer)} us`,
    );
  }
  console.log('\nlatency by command (p50 / p99), median run of each caller count:');
  for (const r of medians) {
    const byKind = [...r.kinds].map(([k, n]) => {
      const sorted = [...n].sort((a, b) => a - b);
      return `${k} ${ms(percentile(sorted, 50))} / ${ms(percentile(sorted, 99))}`;
    });
    console.log(`${r.callers}: ${byKind.join('; ')}`);
  }
  if (PAYOUT_HISTORY > 0) {
    const p = await payoutHistoryCheck();
    console.log(
      `\npayouts and history (in-memory store; 400 payouts per partner, alternating): ${fmt(PAYOUT_HISTORY)} paid lines before: ${p.long.toFixed(1)} us CPU (${p.wallLong.toFixed(1)} us wall) per payout; 10 paid lines before: ${p.short.toFixed(1)} us CPU (${p.wallShort.toFixed(1)} us wall); long / short ${(p.long / p.short).toFixed(2)} CPU, ${(p.wallLong / p.wallShort).toFixed(2)} wall`,
    );
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  rmSync(root, { recursive: true, force: true });
};

main().catch((error: unknown) => {
  console.error(error);
  rmSync(root, { recursive: true, force: true });
  process.exit(1);
});
