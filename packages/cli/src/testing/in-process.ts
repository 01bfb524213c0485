import { tmpdir } from 'node:os';
import { PassThrough } from 'node:stream';
import { runCli } from '../cli';
import type { CliIo } from '../io';

/** Runs the CLI in this process (no build, no child process), with its output captured. */
export const runInProcess = async (
  args: string[],
  options: { readonly now?: string; readonly stdin?: Buffer } = {},
): Promise<{ code: number; stdout: string; stderr: string }> => {
  const out = { stdout: '', stderr: '' };
  const stream = (key: 'stdout' | 'stderr') => {
    const s = new PassThrough();
    s.on('data', (chunk: Buffer) => (out[key] += chunk.toString('utf8')));
    return s;
  };
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? Buffer.alloc(0));
  const io: CliIo = {
    stdout: stream('stdout'),
    stderr: stream('stderr'),
    stdin,
    env: {},
    cwd: tmpdir(),
    now: () => new Date(options.now ?? '2026-12-04T10:00:00.000Z'),
  };
  const code = await runCli(args, io);
  return { code, ...out };
};
