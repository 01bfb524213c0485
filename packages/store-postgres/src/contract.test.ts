import { describeEventStoreContract } from '@partner-ledger/store/contract';
import type { EventStore } from '@partner-ledger/store';
import { createPostgresStore } from './store';
import type { PostgresStoreOptions } from './store';
import { dropSchema, testDatabaseUrl, uniqueSchema } from './testing/database';
import { sqlTampering } from './testing/tamper';

// The shared contract suite, live, on a real PostgreSQL server: each test in a schema of its own. Twice:
// with the default options (the append path's statements prepared under names), and with
// `preparedStatements: false` (every statement unnamed). pgbouncer.test.ts runs it through PgBouncer.
const describeContract = (title: string, options: Pick<PostgresStoreOptions, 'preparedStatements'>) =>
  describeEventStoreContract(
    title,
    async () => {
      const url = testDatabaseUrl();
      const schema = uniqueSchema('contract');
      const open = () =>
        createPostgresStore({ connectionString: url, schema, pollIntervalMs: 200, ...options });
      let current: EventStore = await open();
      const tampering = sqlTampering(url, schema);
      const reopenAfter = (change: () => Promise<void>) => async (): Promise<EventStore> => {
        await current.close();
        await change();
        current = await open();
        return current;
      };
      return {
        store: current,
        reopen: reopenAfter(async () => undefined),
        cleanup: async () => {
          await current.close();
          await dropSchema(url, schema);
        },
        tamper: {
          editEventData: (position, data) => reopenAfter(() => tampering.editEventData(position, data))(),
          deleteEvent: (position) => reopenAfter(() => tampering.deleteEvent(position))(),
          swapEvents: (a, b) => reopenAfter(() => tampering.swapEvents(a, b))(),
          insertEvent: (position, event) => reopenAfter(() => tampering.insertEvent(position, event))(),
        },
      };
    },
    { canReopen: true, canTamper: true },
  );

describeContract('PostgreSQL store', {});
describeContract('PostgreSQL store, preparedStatements: false', { preparedStatements: false });
