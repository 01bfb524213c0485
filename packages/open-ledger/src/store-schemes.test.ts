import { createInMemoryStore } from '@partner-ledger/store';
import { openStore } from './open-store';
import { openLedger } from './open-ledger';
import { STORE_SCHEMES, StoreAdapterMissingError, schemeOf } from './store-schemes';
import { describeStoreSpec, resolveStoreSpec } from './store-spec';

/** A loader as Node's require fails for a package that is not installed. */
const notInstalled = (packageName: string): never => {
  throw Object.assign(new Error(`Cannot find module '${packageName}'\nRequire stack:\n- /app/index.js`), {
    code: 'MODULE_NOT_FOUND',
  });
};

describe('store names', () => {
  it('sends each connection string scheme to its adapter, and anything else to the file store', () => {
    const kind = (name: string) => resolveStoreSpec(name, {}, '/srv').kind;
    for (const name of [
      'esdb://h:2113?tls=false',
      'esdb+discover://h:2113',
      'kurrentdb://h:2113',
      'KurrentDB+discover://h',
    ])
      expect(kind(name)).toBe('eventstoredb');
    for (const name of ['postgres://u:p@db/ledger', 'postgresql://db/ledger'])
      expect(kind(name)).toBe('postgres');
    expect(resolveStoreSpec('file:///var/lib/my%20ledger', {}, '/srv')).toEqual({
      kind: 'file',
      directory: '/var/lib/my ledger',
    });
    expect(resolveStoreSpec('books', {}, '/srv')).toEqual({ kind: 'file', directory: '/srv/books' });
    expect(resolveStoreSpec(undefined, {}, '/srv')).toEqual({
      kind: 'file',
      directory: '/srv/.partner-ledger',
    });
    expect(resolveStoreSpec(undefined, { PARTNER_LEDGER_STORE: 'postgres://db/x' }, '/srv').kind).toBe(
      'postgres',
    );
    expect(schemeOf('mysql://db/x')).toBeUndefined();
  });

  it('names a server store without its credentials', () => {
    expect(describeStoreSpec(resolveStoreSpec('postgres://alice:secret@db:5432/ledger', {}, '/'))).toBe(
      'postgres://***@db:5432/ledger',
    );
    expect(describeStoreSpec(resolveStoreSpec('esdb://admin:changeit@h:2113', {}, '/'))).toBe(
      'esdb://***@h:2113',
    );
  });

  it('gives the EventStoreDB client an esdb:// string for a kurrentdb:// one', () => {
    const esdb = STORE_SCHEMES.find((s) => s.kind === 'eventstoredb')!;
    expect(esdb.optionsFor('kurrentdb+discover://a:b@h:2113?tls=false')).toEqual({
      connectionString: 'esdb+discover://a:b@h:2113?tls=false',
    });
    expect(esdb.optionsFor('esdb://h:2113')).toEqual({ connectionString: 'esdb://h:2113' });
  });

  it("takes PostgreSQL's ?schema=NAME out of the connection string and gives it to the store", () => {
    const postgres = STORE_SCHEMES.find((s) => s.kind === 'postgres')!;
    expect(postgres.optionsFor('postgres://u:p@db:5432/app?schema=ledger_a&sslmode=require')).toEqual({
      connectionString: 'postgres://u:p@db:5432/app?sslmode=require',
      schema: 'ledger_a',
    });
    expect(postgres.optionsFor('postgresql://db/app')).toEqual({ connectionString: 'postgresql://db/app' });
  });
});

describe('loading a server adapter', () => {
  it('loads the adapter package only when its connection string is opened, and passes the connection string', async () => {
    const loaded: string[] = [];
    const store = createInMemoryStore();
    const received: unknown[] = [];
    const load = (name: string) => {
      loaded.push(name);
      return { createPostgresStore: (options: unknown) => (received.push(options), store) };
    };
    const file = resolveStoreSpec('x', {}, '/nonexistent-parent-for-test');
    await expect(openStore(file, { mustExist: true, load })).rejects.toThrow('no ledger at');
    expect(loaded).toEqual([]);
    const ledger = await openLedger({ store: 'postgresql://db/ledger', load });
    expect(loaded).toEqual(['@partner-ledger/store-postgres']);
    expect(received).toEqual([{ connectionString: 'postgresql://db/ledger' }]);
    expect(ledger.store).toBe(store);
    await ledger.close();
  });

  it('says which package to install when the adapter is absent', async () => {
    const attempt = openLedger({ store: 'postgres://db/ledger', load: notInstalled });
    await expect(attempt).rejects.toBeInstanceOf(StoreAdapterMissingError);
    await expect(attempt).rejects.toThrow(
      'a postgres:// connection string names a PostgreSQL store, whose adapter is not installed: run `npm install @partner-ledger/store-postgres` beside partner-ledger',
    );
    await expect(
      openStore(resolveStoreSpec('kurrentdb://h:2113', {}, '/'), { load: notInstalled }),
    ).rejects.toThrow('npm install @partner-ledger/store-eventstoredb');
  });

  it('does not hide a broken adapter behind "not installed"', async () => {
    const brokenInside = () => notInstalled('@grpc/grpc-js');
    await expect(openLedger({ store: 'esdb://h:2113', load: brokenInside })).rejects.toThrow(
      "Cannot find module '@grpc/grpc-js'",
    );
    await expect(openLedger({ store: 'esdb://h:2113', load: () => ({}) })).rejects.toThrow(
      '@partner-ledger/store-eventstoredb does not export createEventStoreDbStore',
    );
  });

  it('opens the real EventStoreDB adapter by its package name (no server is contacted until a read or append)', async () => {
    const ledger = await openLedger({ store: 'esdb://localhost:1?tls=false' });
    expect(typeof ledger.store.append).toBe('function');
    await ledger.close();
  });
});
