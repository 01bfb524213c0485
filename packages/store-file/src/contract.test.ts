import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEventStoreContract } from '@partner-ledger/store/contract';
import type { EventStore } from '@partner-ledger/store';
import { openFileStore } from './store';
import { rewriteLedger } from './testing/rewrite';

describeEventStoreContract(
  'file store',
  async () => {
    const directory = await mkdtemp(join(tmpdir(), 'pl-contract-'));
    // Small segments, so that the suite also runs across segment boundaries.
    const open = () => openFileStore({ directory, segmentBytes: 256 * 1024 });
    let current: EventStore = await open();
    const reopen = async () => {
      await current.close();
      current = await open();
      return current;
    };
    const tamperWith = (change: Parameters<typeof rewriteLedger>[1]) => async () => {
      await current.close();
      await rewriteLedger(directory, change);
      current = await open();
      return current;
    };
    return {
      store: current,
      reopen,
      cleanup: async () => {
        await current.close();
        await rm(directory, { recursive: true, force: true });
      },
      tamper: {
        editEventData: (position, data) =>
          tamperWith((events) => events.map((e, i) => (i === position ? { ...e, data } : e)))(),
        deleteEvent: (position) => tamperWith((events) => events.filter((_, i) => i !== position))(),
        swapEvents: (a, b) =>
          tamperWith((events) => events.map((e, i) => (i === a ? events[b]! : i === b ? events[a]! : e)))(),
        insertEvent: (position, event) =>
          tamperWith((events) => [...events.slice(0, position), event, ...events.slice(position)])(),
      },
    };
  },
  { canReopen: true, canTamper: true },
);
