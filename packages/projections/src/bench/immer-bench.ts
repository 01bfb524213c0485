/**
 * Why the projections mutate a private state instead of using immer: the per-event cost of folding click
 * events into a Map of 5,000 partners, three ways, in one process.
 *
 *   npm run bench:immer -w @partner-ledger/projections
 */
import { enableMapSet, produce } from 'immer';

enableMapSet();

const PARTNERS = 5_000;
const EVENTS = 20_000;

interface Partner {
  clicks: number;
  last: string | null;
}

const events = Array.from({ length: EVENTS }, (_, i) => ({
  partnerId: `p${(i * 7919) % PARTNERS}`,
  at: new Date(1e12 + i * 1000).toISOString(),
}));

const fresh = (): Map<string, Partner> =>
  new Map(Array.from({ length: PARTNERS }, (_, i) => [`p${i}`, { clicks: 0, last: null }]));

const fold = (state: Map<string, Partner>, event: (typeof events)[number]): void => {
  const partner = state.get(event.partnerId)!;
  partner.clicks += 1;
  if (partner.last === null || event.at > partner.last) partner.last = event.at;
};

const time = (label: string, count: number, run: () => void): void => {
  const start = process.hrtime.bigint();
  run();
  const micros = Number(process.hrtime.bigint() - start) / 1e3;
  console.log(`${label}: ${(micros / count).toFixed(2)} µs/event`);
};

time('mutate a private Map', EVENTS, () => {
  const state = fresh();
  for (const event of events) fold(state, event);
});
time('immer produce per event', 2_000, () => {
  let state = fresh();
  for (const event of events.slice(0, 2_000)) state = produce(state, (draft) => fold(draft, event));
});
time('immer produce per 1,000 events', EVENTS, () => {
  let state = fresh();
  for (let i = 0; i < EVENTS; i += 1_000)
    state = produce(state, (draft) => {
      for (const event of events.slice(i, i + 1_000)) fold(draft, event);
    });
});
