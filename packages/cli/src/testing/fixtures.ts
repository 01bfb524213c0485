import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newEvent } from '@partner-ledger/events';
import type { NewEvent } from '@partner-ledger/events';

/** The repository's root, from packages/cli/src/testing. */
export const REPO_ROOT = join(__dirname, '..', '..', '..', '..');
export const BIN = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');

const sleep = (ms: number): void =>
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms) as unknown as void;

/**
 * Builds the command (and what it depends on) with tsc -b: incremental, so cheap when up to date. Test files
 * run in parallel workers, so the build takes a lock (a directory, created atomically): two tsc processes
 * must not write the same outputs at once.
 */
export const buildCli = (): void => {
  const lock = join(
    tmpdir(),
    `partner-ledger-cli-build-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}.lock`,
  );
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than three minutes was left by a killed run.
      if (
        waited > 180_000 ||
        Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 180_000
      )
        rmSync(lock, { recursive: true, force: true });
      sleep(200);
    }
  }
  try {
    execFileSync(
      process.execPath,
      [
        join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-b',
        join(REPO_ROOT, 'packages', 'cli', 'tsconfig.json'),
      ],
      { cwd: REPO_ROOT, stdio: 'inherit' },
    );
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
};

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built binary as a user would, with optional stdin and environment. */
export const runBin = (
  args: readonly string[],
  options: { readonly cwd?: string; readonly input?: string; readonly env?: Record<string, string> } = {},
): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });

const at = (minute: number): string => new Date(Date.UTC(2026, 0, 5, 9, minute)).toISOString();

/** A few valid events of the catalogue, written straight to a store (no ledger): for the store-only verbs. */
export const sampleEvents = (): Array<{ stream: string; events: NewEvent[] }> => {
  const meta = (id: string, minute: number) => ({
    id,
    occurredAt: at(minute),
    recordedAt: at(minute),
    actor: 'test:fixture',
    correlationId: `corr-${id}`,
    causationId: null,
  });
  return [
    {
      stream: 'program',
      events: [
        newEvent(
          'ProgramConfigured',
          {
            programId: 'acme',
            name: 'Acme partners',
            currency: 'USD',
            attribution: {
              model: 'lastTouch',
              clickWindowDays: 30,
              halfLifeDays: 7,
              precedence: ['dealRegistration', 'coupon', 'clicks'],
            },
            minimumPayout: '50.00',
            minClickToConversionSeconds: 0,
          },
          meta('evt-program', 0),
        ),
      ],
    },
    {
      stream: 'partner-p1',
      events: [
        newEvent(
          'PartnerJoined',
          {
            partnerId: 'p1',
            name: 'Blog One',
            partnerType: 'affiliate',
            planId: 'plan-a',
            parentPartnerId: null,
            payoutCurrency: 'USD',
            couponCodes: [],
            ownAccountIds: [],
          },
          meta('evt-p1', 1),
        ),
      ],
    },
    {
      stream: 'adjustments-p1',
      events: [1, 2, 3].map((n) =>
        newEvent(
          'ManualAdjustmentRecorded',
          {
            adjustmentId: `adj-${n}`,
            partnerId: 'p1',
            amount: `${n}12.50`,
            currency: 'USD',
            reason: 'goodwill',
          },
          meta(`evt-adj-${n}`, 1 + n),
        ),
      ),
    },
  ];
};
