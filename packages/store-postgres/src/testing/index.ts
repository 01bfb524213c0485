/**
 * For tests of this and other packages (not part of the published API): the server that jest's global
 * set-up started, schemas of their own, and a real server to start (benchmarks).
 */
export { childEnvironment, compileForChildProcess } from './compile';
export { dropSchema, testDatabaseUrl, uniqueSchema } from './database';
export { startServerProcess } from './server-process';
export type { ServerProcess } from './server-process';
export { startTestServer } from './server';
export type { TestServer } from './server';
