import { describeEventStoreContract } from '@partner-ledger/store/contract';
import { createEventStoreDbStore } from './store';
import type { EventStoreDbStore } from './store';
import { createScriptedClient } from './testing/scripted-client';
import type { ScriptedClient } from './testing/scripted-client';

// The shared contract suite over the scripted client: a mapping test, NOT proof against a server. It shows
// that what the adapter sends and how it reads the answers satisfy the port wherever the scripted client
// follows the server's documented rules; the live suite (live.test.ts) is the one that proves the adapter.
describeEventStoreContract(
  'EventStoreDB adapter over the scripted client (mapping test; does not prove the adapter against a server)',
  async () => {
    const client: ScriptedClient = createScriptedClient();
    const stores: EventStoreDbStore[] = [createEventStoreDbStore({ client, disposeClientOnClose: false })];
    return {
      store: stores[0]!,
      reopen: async () => {
        await stores[stores.length - 1]!.close();
        const reopened = createEventStoreDbStore({ client, disposeClientOnClose: false });
        stores.push(reopened);
        return reopened;
      },
      cleanup: async () => {
        await Promise.all(stores.map((store) => store.close()));
      },
    };
  },
  { canReopen: true, canTamper: false, positions: 'increasing', largeStreamEvents: 3000 },
);
