import type { PoolClient } from 'pg';
import type { Row, TableDefinition } from '../tables';

/** A value in COPY's text format: \N for null, backslash, tab, newline and carriage return escaped. */
const copyText = (value: Row[number]): string => {
  if (value === null) return '\\N';
  const text = String(value);
  return /[\\\t\n\r]/.test(text)
    ? text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : text;
};

/** Rows as the data of `COPY ... FROM STDIN` (text format), in buffers of about 64 kB. */
export const copyData = (rows: readonly Row[]): Buffer[] => {
  const buffers: Buffer[] = [];
  let lines: string[] = [];
  let size = 0;
  for (const row of rows) {
    const line = `${row.map(copyText).join('\t')}\n`;
    lines.push(line);
    size += line.length;
    if (size >= 65_536) {
      buffers.push(Buffer.from(lines.join(''), 'utf8'));
      lines = [];
      size = 0;
    }
  }
  if (lines.length > 0) buffers.push(Buffer.from(lines.join(''), 'utf8'));
  return buffers;
};

interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/**
 * `COPY <schema>.<table> FROM STDIN` with the given data, over the client's connection: the COPY
 * sub-protocol of `pg` (a submittable, as the pg-copy-streams package does it), without that dependency.
 */
export const copyInto = (
  client: PoolClient,
  schema: string,
  table: TableDefinition,
  data: readonly Buffer[],
): Promise<void> =>
  new Promise((resolve, reject) => {
    const columns = table.columns.map((column) => column.name).join(', ');
    const noop = (): void => undefined;
    const submittable = {
      submit: (connection: CopyConnection) => {
        connection.query(`COPY ${schema}.${table.name} (${columns}) FROM STDIN`);
      },
      handleCopyInResponse: (connection: CopyConnection) => {
        for (const chunk of data) connection.sendCopyFromChunk(chunk);
        connection.endCopyFrom();
      },
      handleCommandComplete: noop,
      handleRowDescription: noop,
      handleDataRow: noop,
      handleEmptyQuery: noop,
      handlePortalSuspended: noop,
      handleCopyData: noop,
      handleReadyForQuery: () => resolve(),
      handleError: (error: Error) => reject(error),
    };
    void client.query(submittable as never);
  });
