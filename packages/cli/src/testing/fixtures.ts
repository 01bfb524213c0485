import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { newEvent } from '@partner-ledger/events';
import type { NewEvent } from '@partner-ledger/events';

/** The repository's root, from packages/cli/src/testing. */
export const REPO_ROOT = join(__dirname, '..', '..', '..', '..');
export const BIN = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');

/** Builds the command (and what it depends on) with tsc -b: incremental, so cheap when up to date. */
export const buildCli = (): void => {
  execFileSync(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-b',
      join(REPO_ROOT, 'packages', 'cli', 'tsconfig.json'),
    ],
    {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    },
  );
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
