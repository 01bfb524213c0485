import * as E from 'fp-ts/Either';
import type { EventData } from '@partner-ledger/events';
import { alreadyRecorded, append } from '../decider';
import type { Decider } from '../decider';
import { eventIdFor } from '../naming';
import type { Resolved } from './common';
import { sameJson } from './common';
import { canonicalJson } from '@partner-ledger/events';

/** A program's settings, as ProgramConfigured records them. */
export type ProgramSettings = EventData<'ProgramConfigured'>;

export interface ProgramState {
  readonly revision: number;
  readonly settings: ProgramSettings | null;
  readonly lastEventId: string | null;
}

/** The `program` stream: the program's settings, replaced as a whole by each ProgramConfigured. */
export const programDecider: Decider<Resolved<'configureProgram'>, ProgramState> = {
  initialState: { revision: -1, settings: null, lastEventId: null },
  evolveDraft: (draft, event) => {
    if (event.type !== 'ProgramConfigured') return;
    draft.revision = event.revision;
    draft.settings = event.data;
    draft.lastEventId = event.id;
  },
  decide: (command, state) => {
    const settings: ProgramSettings = {
      programId: command.programId,
      name: command.name,
      currency: command.currency,
      attribution: command.attribution,
      minimumPayout: command.minimumPayout,
      minClickToConversionSeconds: command.minClickToConversionSeconds,
    };
    // Configuring the same settings again is a repeat, not a change: nothing to record.
    if (state.settings !== null && state.lastEventId !== null && sameJson(state.settings, settings))
      return E.right(alreadyRecorded(state.lastEventId));
    return E.right(
      append({
        id: eventIdFor('ProgramConfigured', state.revision + 1, canonicalJson(settings)),
        type: 'ProgramConfigured',
        data: settings,
        occurredAt: command.at,
      }),
    );
  },
};
