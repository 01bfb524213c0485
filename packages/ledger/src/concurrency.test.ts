import { createInMemoryStore } from '@partner-ledger/store';
import { ledgerConcurrencySuite } from './testing/concurrency';

ledgerConcurrencySuite('the in-memory store', () => createInMemoryStore());
