#!/usr/bin/env node
import { runCli } from './cli';
import { commandLine } from './invocation';

// The binary: the real process streams, environment and clock. Exit through process.exitCode so that
// stdout (a pipe to `head`, a large export) is flushed before the process ends.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // `partner-ledger export | head` closes the pipe early: that is not a failure of the command.
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

void runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  now: () => new Date(),
  commandLine: commandLine(process.env, process.argv[1], process.cwd()),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `partner-ledger: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 2;
  },
);
