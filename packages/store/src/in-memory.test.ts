import { describeEventStoreContract } from '@partner-ledger/store/contract';
import { createInMemoryStoreWithTampering } from './in-memory';

describeEventStoreContract(
  'in-memory store',
  async () => {
    const { store, tampering } = createInMemoryStoreWithTampering({ defaultPageSize: 4 });
    const done = async () => store;
    return {
      store,
      cleanup: () => store.close(),
      tamper: {
        editEventData: (position, data) => done().then((s) => (tampering.editEventData(position, data), s)),
        deleteEvent: (position) => done().then((s) => (tampering.deleteEvent(position), s)),
        swapEvents: (a, b) => done().then((s) => (tampering.swapEvents(a, b), s)),
        insertEvent: (position, event) => done().then((s) => (tampering.insertEvent(position, event), s)),
      },
    };
  },
  { canTamper: true },
);
