import { builtInProjections, replay } from '@partner-ledger/projections';
import type { EventStore } from '@partner-ledger/store';
import type { Pool } from 'pg';
import { readModelFacts } from '../facts';
import { TABLES, rowsOf } from '../tables';
import type { ProjectedResults, Row } from '../tables';

/** Every table read back from the reader-facing schema, as comparable text: table -> sorted rows. */
export const readTables = async (pool: Pool, schema: string): Promise<Record<string, string[]>> => {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const columns = table.columns
      .map((column) =>
        column.type === 'timestamptz'
          ? `to_char(${column.name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
          : `${column.name}::text`,
      )
      .join(', ');
    const result = await pool.query({
      text: `SELECT ${columns} FROM ${schema}.${table.name}`,
      rowMode: 'array',
    });
    out[table.name] = (result.rows as Array<Array<string | null>>).map((row) => JSON.stringify(row)).sort();
  }
  return out;
};

const text = (value: Row[number], type: string): string | null => {
  if (value === null) return null;
  if (type === 'timestamptz') return new Date(value as string).toISOString();
  if (type === 'boolean') return value === true ? 'true' : 'false';
  return String(value);
};

/** What the tables must hold for the store: the rows of a replay of it, as readTables gives them. */
export const expectedTables = async (
  store: EventStore,
  reportingCurrency?: string,
): Promise<Record<string, string[]>> => {
  const outcome = await replay(
    store,
    { ...builtInProjections({ granularity: 'month' }), facts: readModelFacts() },
    reportingCurrency === undefined ? {} : { reportingCurrency },
  );
  const rows = rowsOf(outcome.results as unknown as ProjectedResults);
  const out: Record<string, string[]> = {};
  for (const table of TABLES)
    out[table.name] = rows
      .get(table.name)!
      .map((row) => JSON.stringify(row.map((value, i) => text(value, table.columns[i]!.type))))
      .sort();
  return out;
};
