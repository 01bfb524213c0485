import * as E from 'fp-ts/Either';
import { createInMemoryStore } from '@partner-ledger/store';
import { createLedger } from './ledger';

// A service gives createLedger only its store: the system clock and time-ordered correlation ids are the
// defaults (tests and replays inject theirs, as every other test here does).
describe('createLedger with only a store', () => {
  it('stamps events with the system clock and gives each command its own time-ordered correlation id', async () => {
    const store = createInMemoryStore();
    const ledger = createLedger({ store });
    const before = Date.now();
    const configure = (n: number) =>
      ledger.configureProgram({
        programId: 'program',
        name: `Program ${n}`,
        currency: 'USD',
        attribution: {
          model: 'lastTouch',
          clickWindowDays: 30,
          halfLifeDays: 7,
          precedence: ['dealRegistration', 'coupon', 'clicks'],
        },
        minimumPayout: '50.00',
        minClickToConversionSeconds: 0,
      })();
    const first = await configure(1);
    const second = await configure(2);
    const after = Date.now();
    if (E.isLeft(first) || E.isLeft(second)) throw new Error('configureProgram was refused');
    const events = [...first.right.events, ...second.right.events];
    for (const event of events) {
      const recorded = Date.parse(event.recordedAt);
      expect(recorded).toBeGreaterThanOrEqual(before);
      expect(recorded).toBeLessThanOrEqual(after);
    }
    const correlations = events.map((e) => e.correlationId);
    for (const id of correlations)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(correlations[0]).not.toBe(correlations[1]);
    expect([...correlations].sort()).toEqual(correlations);
  });
});
