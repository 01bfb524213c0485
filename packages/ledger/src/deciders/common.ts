import { canonicalJson } from '@partner-ledger/events';
import type { CommandName, CommandOf } from '../commands';

/**
 * A command as a decider sees it: decoded, with its occurrence time resolved (the command's own, or the
 * ledger clock's `now`) and the facts the handler read from other streams (`facts`, where a decision needs
 * them: Emmett's "command enrichment", which keeps `decide` pure and over one stream's state).
 */
export type Resolved<N extends CommandName, Facts = undefined> = CommandOf<N> & {
  /** When it happened: the command's occurredAt, or `now`. */
  readonly at: string;
  /** Whether the caller gave occurredAt (then a repeat must give the same one to be the same command). */
  readonly atGiven: boolean;
  /** The ledger's clock when the command was handled. */
  readonly now: string;
} & (Facts extends undefined ? unknown : { readonly facts: Facts });

/** Whether two JSON values say the same thing (canonical form: key order does not matter). */
export const sameJson = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** Whether a repeated command happened at the same time as the first one, as far as its caller said. */
export const sameTime = (
  command: { readonly at: string; readonly atGiven: boolean },
  first: string,
): boolean => !command.atGiven || command.at === first;
