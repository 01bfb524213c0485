import { createHash, createHmac } from 'node:crypto';
import { createInMemoryKeyStore, openSealedValue, pseudonymOf, sealValue } from '@partner-ledger/events';
import type { KeyStore } from '@partner-ledger/events';
import { commissionBalances, partnerRevenue, replay } from '@partner-ledger/projections';
import { createInMemoryStore, createSealingStore } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';
import { simulate } from '../simulate/simulate';

// What personal-data protection costs, in one process, each measure against its plaintext baseline:
//   decisions: the same simulation (clicks, conversions, reversals, payouts) without keys, then with
//     pseudonymized visitor ids and sealed partner fields (in-memory store: the ledger's own work, no I/O);
//   replay: balances and revenue replayed from the plaintext ledger, then from the sealed one through
//     the sealing store (which opens partners' fields: the only events it touches);
//   per visitor id: a keyed pseudonym (HMAC, the chosen design) against sealing the id with a key per
//     visitor (AES-256-GCM on append, again on every read), the alternative the design rejected.
//
//   node packages/cli/dist/bench/privacy-bench.js [EVENTS] [PARTNERS] [ROUNDS]

const events = Number(process.argv[2] ?? 5000);
const partners = Number(process.argv[3] ?? 100);
const rounds = Number(process.argv[4] ?? 3);

/** Reproducible keys: the bench compares costs, and the same keys make the same ledger every round. */
const seededKeys = (): KeyStore => {
  let counter = 0;
  return createInMemoryKeyStore({
    random: (n) =>
      createHash('sha256')
        .update(`bench-key-${(counter += 1)}`)
        .digest()
        .subarray(0, n),
  });
};

const seconds = async (task: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await task();
  return (performance.now() - started) / 1000;
};

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const replayAll = (store: EventStore) =>
  replay(store, { revenue: partnerRevenue({ granularity: 'month' }), balances: commissionBalances() });

const main = async (): Promise<void> => {
  console.log(
    `privacy bench: simulate --events ${events} --partners ${partners}, ${rounds} rounds, node ${process.version}`,
  );
  const decide = { plain: [] as number[], sealed: [] as number[] };
  const replays = { plain: [] as number[], sealed: [] as number[] };
  let same = true;
  for (let round = 0; round < rounds; round += 1) {
    const plain = createInMemoryStore();
    decide.plain.push(await seconds(() => simulate(plain, { partners, events, seed: 'bench', days: 90 })));
    const keys = seededKeys();
    const beneath = createInMemoryStore();
    const sealed = createSealingStore(beneath, keys);
    decide.sealed.push(
      await seconds(() => simulate(sealed, { partners, events, seed: 'bench', days: 90, keys })),
    );
    let plainResult = '';
    let sealedResult = '';
    replays.plain.push(
      await seconds(async () => (plainResult = JSON.stringify((await replayAll(plain)).results))),
    );
    replays.sealed.push(
      await seconds(async () => (sealedResult = JSON.stringify((await replayAll(sealed)).results))),
    );
    same &&= plainResult === sealedResult;
  }
  const line = (name: string, m: { plain: number[]; sealed: number[] }) =>
    console.log(
      `${name.padEnd(10)} plaintext ${median(m.plain).toFixed(3)} s, sealed + pseudonyms ${median(m.sealed).toFixed(3)} s: ratio ${(median(m.sealed) / median(m.plain)).toFixed(2)}`,
    );
  line('decisions', decide);
  line('replay', replays);
  console.log(`same balances and revenue from both ledgers: ${same}`);

  // Per visitor id, in isolation.
  const ids = Array.from({ length: 100_000 }, (_, i) => `visitor-${i}`);
  const key = createHash('sha256').update('k').digest();
  const hmac = await seconds(async () => {
    for (const id of ids) pseudonymOf(key, id);
  });
  let sealedIds: string[] = [];
  const seal = await seconds(async () => {
    // A key per visitor: derive (or fetch) the visitor's key, then seal its id.
    sealedIds = ids.map((id) =>
      sealValue(createHmac('sha256', key).update(id).digest(), `visitor:${id}`, 'e', id),
    );
  });
  const open = await seconds(async () => {
    for (let i = 0; i < ids.length; i += 1)
      openSealedValue(createHmac('sha256', key).update(ids[i]!).digest(), sealedIds[i]!);
  });
  console.log(
    `per id (100,000): pseudonym ${((hmac / ids.length) * 1e6).toFixed(2)} us; key per visitor: seal ${((seal / ids.length) * 1e6).toFixed(2)} us (ratio ${(seal / hmac).toFixed(2)}) and open ${((open / ids.length) * 1e6).toFixed(2)} us on every read (a pseudonym needs none)`,
  );
};

void main();
