/**
 * @packageDocumentation
 * The contract suite of the EventStore port: what every store must do, as jest tests. An adapter runs it
 * from one of its test files:
 *
 * ```ts
 * import { describeEventStoreContract } from '@partner-ledger/store/contract';
 * describeEventStoreContract('file store', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'pl-'));
 *   const store = await openFileStore(dir);
 *   return { store, cleanup: async () => { await store.close(); await rm(dir, { recursive: true }); } };
 * });
 * ```
 *
 * It uses jest's globals (describe, it, expect, beforeEach, afterEach) and nothing else at run time. The
 * events it appends are of made-up types (`ContractChecked`): a store keeps events whatever their type.
 */
import {
  describeAppendAndReadBack,
  describeAtomicBatches,
  describeConcurrency,
  describeExpectedRevision,
} from './appends';
import { describeAppendConditions, describeAppendConditionsAcrossReopen } from './conditions';
import { describeHashLinks, describeTamperDetection, describeVerifyAndDigest } from './hashes';
import { describeIdempotentAppends } from './idempotency';
import { describeClosing, describeReopening } from './lifecycle';
import { describeRandomizedModel } from './model';
import type { ContractOptions, ContractStore } from './options';
import { describeAsOfReads, describeGlobalOrderAndPaging } from './reads';
import { describeSubscriptions } from './subscriptions';
import { createContractSuite } from './suite';

export type { ContractOptions, ContractStore, TamperHooks } from './options';

/**
 * Declares the contract suite for one store. `setup` creates a fresh, empty store for every test.
 * Tests that need a capability the store does not declare (reopen, tamper) are skipped, and their names
 * say so.
 */
export const describeEventStoreContract = (
  name: string,
  setup: () => Promise<ContractStore>,
  options: ContractOptions = {},
): void => {
  describe(`EventStore contract: ${name}`, () => {
    const suite = createContractSuite(name, setup, options);
    // In this order: an adapter's test run lists the tests as it always has.
    describeAppendAndReadBack(suite);
    describeHashLinks(suite);
    describeExpectedRevision(suite);
    describeConcurrency(suite);
    describeAppendConditions(suite);
    describeIdempotentAppends(suite);
    describeAtomicBatches(suite);
    describeGlobalOrderAndPaging(suite);
    describeSubscriptions(suite);
    describeAsOfReads(suite);
    describeVerifyAndDigest(suite);
    describeRandomizedModel(suite);
    describeClosing(suite);
    describeReopening(suite);
    describeAppendConditionsAcrossReopen(suite);
    describeTamperDetection(suite);
  });
};
