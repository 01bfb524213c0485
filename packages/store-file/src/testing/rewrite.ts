import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { RecordedEvent } from '@partner-ledger/events';
import { frameSize, writeFrame } from '../frame';
import type { FrameFields } from '../frame';
import { SEGMENTS_DIR, encodeSegmentHeader, positionsIndexFile, segmentName } from '../layout';
import { openFileStore } from '../store';

/**
 * Plays an attacker with write access to a (closed) ledger: reads every event, lets `change` rewrite the
 * history, and writes it back as valid segments (checksums recomputed, positions renumbered, index
 * removed), so that only the hash chains can tell. Each record's JSON is `jsonOf` the event (default
 * JSON.stringify: not the canonical text the store writes). For tests only.
 */
export const rewriteLedger = async (
  directory: string,
  change: (events: RecordedEvent[]) => RecordedEvent[],
  jsonOf: (event: RecordedEvent) => string = (event) => JSON.stringify(event),
): Promise<void> => {
  const reader = await openFileStore({ directory, readOnly: true });
  const events: RecordedEvent[] = [];
  for await (const event of reader.readAll()) events.push(event);
  await reader.close();
  const changed = change(events).map((event, position) => ({ ...event, position }));
  const segmentsDir = join(directory, SEGMENTS_DIR);
  for (const name of await fs.readdir(segmentsDir)) await fs.rm(join(segmentsDir, name));
  await fs.rm(positionsIndexFile(directory), { force: true });
  const fields = changed.map((event): FrameFields => ({
    position: event.position,
    revision: event.revision,
    stream: event.stream,
    id: event.id,
    json: jsonOf(event),
    endsAppend: true,
  }));
  const header = encodeSegmentHeader(0, 0);
  const buffer = Buffer.alloc(header.length + fields.reduce((sum, f) => sum + frameSize(f), 0));
  header.copy(buffer);
  let cursor = header.length;
  for (const field of fields) cursor = writeFrame(buffer, cursor, field);
  await fs.writeFile(join(segmentsDir, segmentName(0)), buffer);
};
