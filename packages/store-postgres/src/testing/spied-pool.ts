import { Pool } from 'pg';

/**
 * A pool that records every statement the store sends on it, and every failure: a failed group is tried
 * again append by append, which hides a broken group statement from tests that look at outcomes only.
 */
export const spiedPool = (url: string, max = 4) => {
  const pool = new Pool({ connectionString: url, max });
  const sent: { name?: string; text: string; values?: unknown }[] = [];
  const failures: unknown[] = [];
  const spied = new WeakSet<object>();
  pool.on('acquire', (client) => {
    if (spied.has(client)) return;
    spied.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const [first] = args;
      sent.push(
        typeof first === 'string'
          ? { text: first, values: args[1] }
          : (first as { name?: string; text: string; values?: unknown }),
      );
      const result = query(...args);
      if (result instanceof Promise) result.catch((error: unknown) => failures.push(error));
      return result;
    };
  });
  return { pool, sent, failures };
};
