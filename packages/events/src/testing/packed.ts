import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// What the packaging test and the docs test share: the packages as npm would publish them (`npm pack`),
// installed into a fresh project the way a user installs them. Third-party dependencies come from the
// npm registry (or npm's cache).

/** The repository's root. */
export const REPOSITORY = join(__dirname, '..', '..', '..', '..');

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export interface PackageManifest {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly keywords?: readonly string[];
  readonly homepage?: string;
  readonly bugs?: { readonly url?: string };
  readonly repository?: { readonly url?: string; readonly directory?: string };
  readonly exports: Record<string, unknown>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>;
}

/** Every package of packages/, with its manifest. */
export const workspacePackages = (): Array<{ dir: string; manifest: PackageManifest }> =>
  readdirSync(join(REPOSITORY, 'packages'))
    .filter((dir) => existsSync(join(REPOSITORY, 'packages', dir, 'package.json')))
    .map((dir) => ({
      dir,
      manifest: JSON.parse(
        readFileSync(join(REPOSITORY, 'packages', dir, 'package.json'), 'utf8'),
      ) as PackageManifest,
    }));

/** Runs a program; a failure throws with its output, so that a test says what went wrong. */
export const run = (
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): string => {
  try {
    return execFileSync(command, [...args], {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, {
      cause: error,
    });
  }
};

/** Runs npm. */
export const runNpm = (args: readonly string[], cwd: string): string => run(npm, args, cwd);

/**
 * Packs every package (they must be built: packing an unbuilt package would prove nothing) and installs
 * the tarballs into a new project in a temporary directory, as a user's project (`without` some of them).
 * Returns its directory.
 */
export const installPackedPackages = (
  prefix: string,
  options: { readonly without?: readonly string[] } = {},
): string => {
  const packages = workspacePackages().filter((p) => !(options.without ?? []).includes(p.manifest.name));
  for (const p of packages)
    if (!existsSync(join(REPOSITORY, 'packages', p.dir, 'dist', 'index.js')))
      throw new Error(`packages/${p.dir} is not built: run \`npm run build\` first`);
  const consumer = mkdtempSync(join(tmpdir(), prefix));
  const tarballs = packages.map((p) =>
    join(
      consumer,
      runNpm(['pack', '--silent', '--pack-destination', consumer], join(REPOSITORY, 'packages', p.dir))
        .trim()
        .split('\n')
        .pop()!,
    ),
  );
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
  );
  runNpm(
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs],
    consumer,
  );
  return consumer;
};
