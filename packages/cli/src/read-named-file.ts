import { access, readFile, stat } from 'node:fs/promises';
import { UsageError } from './exit';

// A file the user named on the command line that cannot be read (missing, a directory) is the user's
// mistake: a UsageError (exit 2) that says so in plain words, prefixed with what named it (`import`,
// `payouts reconcile`, `--expect`), instead of Node's raw "ENOENT: no such file or directory, open '...'".

const unreadable = (what: string, path: string, error: unknown, kind: string, hint?: string): UsageError => {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? `it is a directory, not a ${kind}`
        : (error as Error).message;
  return new UsageError(`${what}: cannot read ${path}: ${why}`, hint);
};

/** The text of a file the user named. */
export const readNamedFile = async (what: string, path: string, hint?: string): Promise<string> => {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw unreadable(what, path, error, 'file', hint);
  }
};

/**
 * Checks that a file the user named can be read, for a command that streams it later: a directory passes
 * `access` and would fail only on the first read, with a bare EISDIR. `kind` names what the file should be.
 */
export const checkNamedFile = async (what: string, path: string, kind: string): Promise<void> => {
  try {
    await access(path);
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
  } catch (error) {
    throw unreadable(what, path, error, kind);
  }
};
