/**
 * For tests of this and other packages (not part of the published API): the simulated write side and its
 * fast-check arbitraries.
 */
export { actionArbitrary, historyArbitrary, simulate, storeWith } from './arbitraries';
export { commissionLine, conversion, createEventBuilder, partnerJoined, programConfigured } from './builder';
export type { EventBuilder } from './builder';
export { createSimulator } from './simulator';
export type { Action, SimulatedEvent, Simulator, SimulatorOptions } from './simulator';
