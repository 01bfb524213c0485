import type { Position } from '@eventstore/db-client';

// The port's global position is a number; the server's is a pair {commit, prepare} of byte offsets in its
// transaction log. The adapter uses the commit position as the number:
// - it is unique per event and grows in $all order for every event written through the gRPC API (an append
//   of several events gives each its own record, and commit == prepare; only the legacy TCP API's explicit
//   transactions give several events one commit position, and this client cannot write those);
// - it is sparse: positions are byte offsets, so the ledger's positions jump (0, 1, 2 on the in-memory store;
//   something like 1284, 1912, 2530 here). Code must compare positions, never count with them;
// - a number holds it exactly up to 2^53 bytes (8 PiB of log), far beyond any single database.
// The server only accepts positions that start a record: the adapter never sends a number it made up; it
// sends positions that it read from the server (see start.ts).

/** The port's position of an event, from the server's. */
export const toPortPosition = (position: Position): number => {
  if (position.commit < 0n || position.commit > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`commit position ${position.commit} does not fit the ledger's positions`);
  }
  return Number(position.commit);
};

/** The server's position for a port position that is known to be an event's position. */
export const toClientPosition = (position: number): Position => {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new RangeError(`a position must be an integer >= 0, got ${String(position)}`);
  }
  const value = BigInt(position);
  return { commit: value, prepare: value };
};

/** Whether two server positions are the same record. */
export const samePosition = (a: Position, b: Position): boolean =>
  a.commit === b.commit && a.prepare === b.prepare;
