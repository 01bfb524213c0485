import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The server the tests run against: set by the jest global set-up, or by the person running the tests. */
export const testDatabaseUrl = (): string => {
  const url = process.env.PARTNER_LEDGER_PG_URL;
  if (url === undefined || url === '') {
    throw new Error(
      'PARTNER_LEDGER_PG_URL is not set: run the tests through jest (its global set-up starts a server) or set it',
    );
  }
  return url;
};

/** A schema name no other test uses. */
export const uniqueSchema = (prefix = 't'): string => `${prefix}_${randomBytes(6).toString('hex')}`;

/** Drops a schema and everything in it. */
export const dropSchema = async (url: string, schema: string): Promise<void> => {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
};
