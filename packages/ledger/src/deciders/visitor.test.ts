import * as fc from 'fast-check';
import type { LedgerEvent } from '@partner-ledger/events';
import { fold } from '../decider';
import { expectSameFoldsWithoutDraft, storedEnvelope } from '../testing/decider-spec';
import { visitorDecider } from './visitor';

// The visitor's stream is folded without a draft (`evolve`); it must give exactly what the draft does.

const event = (
  type: 'ClickTracked' | 'PartnerJoined',
  clickId: string,
  partnerId: string,
  revision: number,
): LedgerEvent =>
  ({
    ...storedEnvelope('visitor-v1', revision),
    type,
    data: {
      clickId,
      partnerId,
      visitorId: 'v1',
      landing: { campaign: null, url: null },
      ipFingerprint: null,
      userAgentFingerprint: null,
      fraudReason: null,
    },
  }) as LedgerEvent;

describe('the visitor decider folded without a draft', () => {
  it('gives the state the draft gives, for any clicks (repeated ids and other events included), in any batches', () => {
    const step = fc.record({
      other: fc.boolean(),
      clickId: fc.constantFrom('a', 'b', 'c', 'd', 'constructor'),
      partnerId: fc.constantFrom('p1', 'p2'),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.integer({ min: 1, max: 30 }), (steps, batch) => {
        const events = steps.map((s, i) =>
          event(s.other ? 'PartnerJoined' : 'ClickTracked', s.clickId, s.partnerId, i),
        );
        expectSameFoldsWithoutDraft(visitorDecider, events, batch);
      }),
    );
  });

  it('leaves the state it folded from as it was', () => {
    const before = fold(visitorDecider, visitorDecider.initialState, [event('ClickTracked', 'a', 'p1', 0)]);
    const after = fold(visitorDecider, before, [event('ClickTracked', 'b', 'p2', 1)]);
    expect(Object.keys(before.clicks)).toEqual(['a']);
    expect(before.revision).toBe(0);
    expect(Object.keys(after.clicks)).toEqual(['a', 'b']);
    expect(after.clicks['a']).toBe(before.clicks['a']);
  });
});
