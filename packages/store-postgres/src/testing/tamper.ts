import { canonicalJson } from '@partner-ledger/events';
import type { RecordedEvent } from '@partner-ledger/events';
import { Client } from 'pg';

// An attacker with write access to the database, for the contract suite's tamper tests: each change is
// made in SQL behind the store's back, and nothing the store checks on append stands in the way (the
// unique constraints an attacker could drop are dropped before an insert).

const SHIFT = 1_000_000_000_000;

export interface SqlTampering {
  editEventData(position: number, data: unknown): Promise<void>;
  deleteEvent(position: number): Promise<void>;
  swapEvents(a: number, b: number): Promise<void>;
  insertEvent(position: number, event: RecordedEvent): Promise<void>;
}

export const sqlTampering = (url: string, schema: string): SqlTampering => {
  const run = async (statements: readonly (readonly [string, readonly unknown[]])[]): Promise<void> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('BEGIN');
      for (const [sql, params] of statements) await client.query(sql, [...params]);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  };
  const events = `${schema}.events`;
  /** Moves the positions from `from` on by `by`, in two steps so that the unique index never clashes. */
  const shift = (from: number, by: number): (readonly [string, readonly unknown[]])[] => [
    [`UPDATE ${events} SET position = position + ${SHIFT} WHERE position >= $1`, [from]],
    [`UPDATE ${events} SET position = position - ${SHIFT} + $1 WHERE position >= $2`, [by, from + SHIFT]],
  ];
  return {
    editEventData: (position, data) =>
      run([
        [
          `UPDATE ${events} SET data_text = $2::text, data = $2::jsonb WHERE position = $1`,
          [position, canonicalJson(data)],
        ],
      ]),
    deleteEvent: (position) =>
      run([[`DELETE FROM ${events} WHERE position = $1`, [position]], ...shift(position + 1, -1)]),
    swapEvents: (a, b) =>
      run([
        [`UPDATE ${events} SET position = -1 WHERE position = $1`, [a]],
        [`UPDATE ${events} SET position = $1 WHERE position = $2`, [a, b]],
        [`UPDATE ${events} SET position = $1 WHERE position = -1`, [b]],
      ]),
    insertEvent: (position, event) =>
      run([
        [
          `ALTER TABLE ${events} DROP CONSTRAINT IF EXISTS events_id_key, DROP CONSTRAINT IF EXISTS events_stream_revision_key`,
          [],
        ],
        ...shift(position, 1),
        [
          `INSERT INTO ${events} (batch, batch_index, position, id, stream, revision, type, schema_version,
             occurred_at, recorded_at, actor, correlation_id, causation_id, data_text, data, prev_hash, hash)
           VALUES (nextval('${schema}.batches'), 0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text, $12::jsonb,
             $13, $14)`,
          [
            position,
            event.id,
            event.stream,
            event.revision,
            event.type,
            event.schemaVersion,
            event.occurredAt,
            event.recordedAt,
            event.actor,
            event.correlationId,
            event.causationId,
            canonicalJson(event.data),
            event.prevHash,
            event.hash,
          ],
        ],
      ]),
  };
};
