// The lag row: where a projector is against the store's head, as the projector writes it and as anyone
// reads it back (the CLI's `project --status`, or a query on `<schema>.projector_status`).
import { openDatabase } from './database';
import type { ProjectorDatabase } from './database';

/** The lag row: where a projector is, against the store's head. */
export interface ProjectorStatus {
  /** The generation written (the live one, or the one being rebuilt). */
  readonly generation: number;
  readonly codeVersion: string;
  /** `live` (caught up, serving), `catching-up`, or `rebuilding` (a new generation, not yet swapped in). */
  readonly state: 'live' | 'catching-up' | 'rebuilding';
  /** The position of the last event projected (-1 before the first). */
  readonly position: number;
  readonly eventsRead: number;
  readonly headPosition: number;
  /** headPosition - position: events on stores with dense positions (file, PostgreSQL, in-memory). */
  readonly eventsBehind: number;
  /** recordedAt of the head event minus recordedAt of the last event projected, in seconds (0 when caught up). */
  readonly secondsBehind: number;
  readonly lastRecordedAt: string | null;
  readonly headRecordedAt: string | null;
  /** The moment the figures describe: the latest occurredAt projected, as the CLI's reports say it. */
  readonly asOf: string | null;
  readonly reportingCurrency: string | null;
  /** When the row was written (database clock). */
  readonly updatedAt: string;
}

export interface StatusRow {
  generation: number;
  code_version: string;
  state: ProjectorStatus['state'];
  position: string;
  events_read: string;
  head_position: string;
  events_behind: string;
  seconds_behind: string;
  last_recorded_at: Date | null;
  head_recorded_at: Date | null;
  as_of: Date | null;
  reporting_currency: string | null;
  updated_at: Date;
}

export const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

export const statusOf = (row: StatusRow): ProjectorStatus => ({
  generation: row.generation,
  codeVersion: row.code_version,
  state: row.state,
  position: Number(row.position),
  eventsRead: Number(row.events_read),
  headPosition: Number(row.head_position),
  eventsBehind: Number(row.events_behind),
  secondsBehind: Number(row.seconds_behind),
  lastRecordedAt: iso(row.last_recorded_at),
  headRecordedAt: iso(row.head_recorded_at),
  asOf: iso(row.as_of),
  reportingCurrency: row.reporting_currency,
  updatedAt: row.updated_at.toISOString(),
});

/** Reads the lag row of the projector writing into the schema: null when none has written yet. */
export const readProjectorStatus = async (database: ProjectorDatabase): Promise<ProjectorStatus | null> => {
  const { pool, owned, schema } = openDatabase(database);
  try {
    const exists = await pool.query(`SELECT to_regclass($1) AS t`, [`${schema}.projector_status`]);
    if (exists.rows[0].t === null) return null;
    const found = await pool.query(`SELECT * FROM ${schema}.projector_status WHERE id = 1`);
    return found.rowCount === 0 ? null : statusOf(found.rows[0] as StatusRow);
  } finally {
    if (owned) await pool.end();
  }
};
