import { StoreCorruptionError, verifyStore } from '@partner-ledger/store';
import type { VerifyReport } from '@partner-ledger/store';
import type { DamageReport } from './recovery';
import { DEFAULT_DIRECTORY, openFileStore } from './store';
import { verifyInOnePass } from './verify-pass';

/** The first thing wrong with a ledger: a damaged record, or an event whose chain does not check out. */
export interface FileVerifyProblem {
  readonly position: number | null;
  readonly eventId: string | null;
  readonly stream: string | null;
  /** Where the damaged bytes are, for damage; null for a chain problem (the bytes are intact, the content is not). */
  readonly file: string | null;
  readonly offset: number | null;
  readonly message: string;
}

/** What `verifyFileStore` found: damaged records in the files, and the verification of the hash chains. */
export interface FileVerifyReport {
  readonly ok: boolean;
  /** Records whose bytes do not check out (checksums, framing, missing segments, index disagreements). */
  readonly damage: readonly DamageReport[];
  /** The hash-chain verification over what could be read; null when reading stopped at damage. */
  readonly chains: VerifyReport | null;
  readonly firstProblem: FileVerifyProblem | null;
}

/**
 * Verifies a ledger directory end to end, even a damaged one: opens it read-only tolerating damage, checks
 * every record's bytes and every hash link (verifyStore), and names the first event that does not check
 * out, with the file and offset of its bytes when they are damaged. Works while a writer is running.
 *
 * A clean ledger is verified in one read of its bytes (verifyInOnePass); anything to report (damage, a torn
 * tail, a broken link) is then found again by the open and verifyStore, whose reports say exactly what and where.
 */
export const verifyFileStore = async (
  options: { readonly directory?: string } = {},
): Promise<FileVerifyReport> => {
  const directory = options.directory ?? DEFAULT_DIRECTORY;
  const clean = await verifyInOnePass(directory);
  if (clean !== undefined && clean.ok) return { ok: true, damage: [], chains: clean, firstProblem: null };
  const store = await openFileStore({
    directory,
    readOnly: true,
    tolerateDamage: true,
  });
  try {
    const damage = store.openReport.damage;
    let chains: VerifyReport | null = null;
    let readFailure: StoreCorruptionError | null = null;
    try {
      chains = await verifyStore(store);
    } catch (error) {
      if (!(error instanceof StoreCorruptionError)) throw error;
      readFailure = error;
    }
    const candidates: FileVerifyProblem[] = damage.map((d) => ({
      position: d.position,
      eventId: d.eventId,
      stream: d.stream,
      file: d.file,
      offset: d.offset,
      message: d.reason,
    }));
    if (chains !== null && !chains.ok) {
      const { position, eventId, stream, message } = chains.firstProblem;
      candidates.push({ position, eventId, stream, file: null, offset: null, message });
    }
    if (readFailure !== null && candidates.length === 0) {
      candidates.push({
        position: readFailure.position ?? null,
        eventId: null,
        stream: null,
        file: readFailure.file ?? null,
        offset: readFailure.offset ?? null,
        message: readFailure.message,
      });
    }
    // The earliest position first; damage that cannot be placed (a missing segment) comes first of all.
    candidates.sort((a, b) => (a.position ?? -1) - (b.position ?? -1));
    const firstProblem = candidates[0] ?? null;
    return { ok: firstProblem === null, damage, chains, firstProblem };
  } finally {
    await store.close();
  }
};
