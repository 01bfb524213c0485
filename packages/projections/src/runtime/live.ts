import type { EventStore } from '@partner-ledger/store';
import type { CheckpointStore } from './checkpoints';
import type { ProjectionSet, ResultsOf } from './projection';
import { createSession } from './runner';
import type { FoldOptions } from './runner';

export interface FollowOptions extends FoldOptions {
  readonly checkpoints: CheckpointStore;
  /** The id the projection set's checkpoint is saved under. */
  readonly checkpointId: string;
  /** Save a checkpoint after this many events (and on caught-up and on stop). Default 10,000. */
  readonly checkpointEvery?: number;
  /** Stops following: the last checkpoint is saved, then `stopped` resolves. */
  readonly signal?: AbortSignal;
  /** Called each time the subscription reports it has caught up with the log. */
  readonly onCaughtUp?: (position: number) => void;
}

/** Projections kept up to date by `followLive`: their latest results, and a way to stop. */
export interface LiveProjections<P extends ProjectionSet> {
  /** The results as of the last event applied. */
  results(): ResultsOf<P>;
  /** The global position of the last event read. */
  position(): number;
  /** Resolves once the backlog has been applied (the first caught-up). */
  readonly caughtUp: Promise<number>;
  /** Resolves when following has stopped (signal aborted) and the final checkpoint is saved. */
  readonly stopped: Promise<void>;
}

/**
 * Catch-up and live: resumes from the saved checkpoint (or from the start), applies the backlog, then
 * follows new events as they are appended, saving a checkpoint every `checkpointEvery` events. Position and
 * states are saved in one document, and the session ignores any event at or before its position, so a
 * restart resumes with no gap and no double count.
 */
export const followLive = async <P extends ProjectionSet>(
  store: EventStore,
  projections: P,
  options: FollowOptions,
): Promise<LiveProjections<P>> => {
  const from = await options.checkpoints.load(options.checkpointId);
  const session = createSession(projections, { ...options, store }, from);
  const every = options.checkpointEvery ?? 10_000;
  let sinceSave = 0;
  let savedAt = from?.position ?? -1;
  const save = async (): Promise<void> => {
    if (session.position === savedAt) return;
    await options.checkpoints.save(options.checkpointId, session.checkpoint());
    savedAt = session.position;
    sinceSave = 0;
  };
  let markCaughtUp: (position: number) => void = () => undefined;
  let failCaughtUp: (error: unknown) => void = () => undefined;
  const caughtUp = new Promise<number>((resolve, reject) => {
    markCaughtUp = resolve;
    failCaughtUp = reject;
  });
  // A rejection nobody awaits must not crash the process; `stopped` carries the error too.
  caughtUp.catch(() => undefined);

  const run = async (): Promise<void> => {
    for await (const message of store.subscribe({
      fromPosition: session.position + 1,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })) {
      if (message.kind === 'event') {
        if (message.event.type === 'ConversionReversed') await session.prepare(message.event);
        session.handle(message.event);
        sinceSave += 1;
        if (sinceSave >= every) await save();
      } else {
        await save();
        options.onCaughtUp?.(session.position);
        markCaughtUp(session.position);
      }
      if (options.signal?.aborted) break;
    }
    await save();
  };
  const stopped = run().catch((error: unknown) => {
    failCaughtUp(error);
    throw error;
  });
  return {
    results: () => session.results(),
    position: () => session.position,
    caughtUp,
    stopped,
  };
};
