import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p` that fails fast. Node's `mkdir(path, { recursive: true })` never returns for a path under
 * /proc on Linux (it keeps retrying the ENOENT of a directory that cannot be made there), so a command given
 * `--out /proc/x` hung. This walks up to the nearest existing ancestor, refuses one that is not a directory,
 * then makes each missing directory on its own: every failure is an ordinary error, at once. The error's
 * `code` is the failing call's (ENOENT, ENOTDIR, EACCES...), and its message names `directory` and the path
 * that failed.
 */
export const makeDirectory = async (directory: string): Promise<void> => {
  const target = resolve(directory);
  const missing: string[] = [];
  let current = target;
  for (;;) {
    const found = await stat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw failure(target, current, error.code, error.message);
    });
    if (found !== undefined) {
      if (!found.isDirectory()) throw failure(target, current, 'ENOTDIR', 'a file, not a directory');
      break;
    }
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const path of missing)
    await mkdir(path).catch(async (error: NodeJS.ErrnoException) => {
      // Made meanwhile by another process: fine if it is a directory.
      if (error.code === 'EEXIST' && (await stat(path).catch(() => undefined))?.isDirectory() === true)
        return;
      throw failure(target, path, error.code, error.message);
    });
};

const failure = (
  target: string,
  path: string,
  code: string | undefined,
  reason: string,
): NodeJS.ErrnoException => {
  const error: NodeJS.ErrnoException = new Error(
    `cannot create the directory ${target}${path === target ? '' : ` (at ${path})`}: ${reason}`,
  );
  if (code !== undefined) error.code = code;
  error.path = path;
  return error;
};
