import type { Readable, Writable } from 'node:stream';

/** A writable stream that may be a terminal (process.stderr is one when run interactively). */
export type OutputStream = Writable & { readonly isTTY?: boolean; readonly columns?: number };

/**
 * Everything the command touches in its environment, injected, so that tests run it in-process with
 * in-memory streams and the binary passes the real process streams.
 */
export interface CliIo {
  /** Data: reports, exports, digests. Nothing else is ever written here. */
  readonly stdout: OutputStream;
  /** Diagnostics, warnings and the progress bar. */
  readonly stderr: OutputStream;
  /** Read by `import -`. */
  readonly stdin: Readable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths (the store directory, import files) are resolved against this. */
  readonly cwd: string;
  /** The wall clock, for progress rates and for `recordedAt` of what the command records. */
  readonly now: () => Date;
  /**
   * How a user runs this command again (`npx partner-ledger`, `node packages/cli/dist/bin.js`), for the
   * command lines a verb suggests. Default `partner-ledger`.
   */
  readonly commandLine?: string;
}

/** Writes text to a stream and waits when the stream asks us to (large exports must not buffer unboundedly). */
export const write = (stream: Writable, text: string): Promise<void> | void => {
  if (stream.write(text)) return undefined;
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      stream.off('drain', onDrain);
      reject(error);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
};
