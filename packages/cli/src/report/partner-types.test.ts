import fc from 'fast-check';
import { ecosystemHealth, replay } from '@partner-ledger/projections';
import {
  createEventBuilder,
  historyArbitrary,
  partnerJoined,
  programConfigured,
  simulate,
  storeWith,
} from '@partner-ledger/projections/testing';
import type { SimulatedEvent } from '@partner-ledger/projections/testing';
import { partnerTypes } from './partner-types';

const RUNS = Number(process.env['PROJECTION_RUNS'] ?? 25);

/** The types both ways: from the health result's partners, and from partnerTypes. */
const bothWays = async (events: readonly SimulatedEvent[], effectiveAt?: string) => {
  const outcome = await replay(
    await storeWith(events),
    { health: ecosystemHealth(), types: partnerTypes() },
    effectiveAt === undefined ? {} : { effectiveAt },
  );
  const fromHealth = Object.fromEntries(
    Object.entries(outcome.results.health.partners).map(([id, p]) => [id, p.partnerType]),
  );
  return { fromHealth, types: outcome.results.types, checkpoint: outcome.checkpoint() };
};

describe('partnerTypes', () => {
  it('gives every partner the type the ecosystem health result gives it, and no other partner, as of any moment', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(60), fc.nat(), async (actions, pick) => {
        const events = simulate(actions);
        const whole = await bothWays(events);
        expect(whole.types).toEqual(whole.fromHealth);
        const effectiveAt = events[pick % events.length]!.event.occurredAt;
        const past = await bothWays(events, effectiveAt);
        expect(past.types).toEqual(past.fromHealth);
      }),
      { numRuns: RUNS },
    );
  });

  it('says "unknown" for a partner seen before or without joining, its joined type once it joins', async () => {
    const b = createEventBuilder()
      .add('program', 'ProgramConfigured', programConfigured())
      .add('partner-p1', 'PartnerJoined', partnerJoined('p1', 'reseller'));
    for (const [partnerId, touchId] of [
      ['ghost', 't1'],
      ['late', 't2'],
      ['p1', 't3'],
    ] as const)
      b.add(`account-a-${touchId}`, 'InfluenceTouchRecorded', {
        touchId,
        partnerId,
        accountId: 'a',
        kind: 'coSelling',
        note: null,
      });
    b.at('2026-02-01T00:00:00.000Z').add(
      'partner-late',
      'PartnerJoined',
      partnerJoined('late', 'technology'),
    );
    const { types, fromHealth, checkpoint } = await bothWays(b.events);
    expect(types).toEqual({ p1: 'reseller', ghost: 'unknown', late: 'technology' });
    expect(types).toEqual(fromHealth);
    // Saved and loaded: only the partner still not joined is kept, and the result is the same.
    const saved = checkpoint.states['types']!.state;
    expect(saved).toEqual({ format: 'partnerTypes@1', unjoined: ['ghost', 'late'] });
    const before = await bothWays(b.events, '2026-01-15T00:00:00.000Z');
    expect(before.types).toEqual({ p1: 'reseller', ghost: 'unknown', late: 'unknown' });
    expect(before.types).toEqual(before.fromHealth);
  });

  it('refuses a saved state of another format, so that the replay starts from the beginning', () => {
    expect(() => partnerTypes().load({ unjoined: [] })).toThrow(
      'The saved partner types are not of the format partnerTypes@1: replay from the start',
    );
    expect([...partnerTypes().load({ format: 'partnerTypes@1', unjoined: ['x'] })]).toEqual(['x']);
  });
});
