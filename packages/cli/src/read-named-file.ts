import { readFile } from 'node:fs/promises';
import { UsageError } from './exit';

/**
 * The text of a file the user named on the command line. A missing file or a directory is the user's
 * mistake, so it is a UsageError (exit 2) that says so in the words `import` uses ("no such file"),
 * prefixed with what named it (`payouts reconcile`, `--expect`), instead of Node's raw
 * "ENOENT: no such file or directory, open '...'".
 */
export const readNamedFile = async (what: string, path: string, hint?: string): Promise<string> => {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory, not a file'
          : (error as Error).message;
    throw new UsageError(`${what}: cannot read ${path}: ${why}`, hint);
  }
};
