import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from 'jest';

// One jest project per package and per example, discovered from the folders, so that a new package is
// tested without touching this file. Tests import sibling packages from their TypeScript sources (the
// moduleNameMapper below), so `jest` alone runs without a prior build; `npm test` still builds first to
// type-check everything, tests included.
const roots = ['packages', 'examples'].flatMap((dir) =>
  readdirSync(join(__dirname, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(__dirname, dir, entry.name, 'package.json')))
    .map((entry) => ({ dir, name: entry.name })),
);

// The projects whose tests need a PostgreSQL server: their global set-up starts an embedded one (or uses
// PARTNER_LEDGER_PG_URL), and the teardown stops it.
const needsPostgres = new Set(['store-postgres', 'cli', 'read-models-postgres']);
const postgresSetup = join(__dirname, 'packages/store-postgres/src/testing');

const config: Config = {
  testTimeout: 60_000,
  projects: roots.map(({ dir, name }) => ({
    displayName: dir === 'packages' ? name : `example:${name}`,
    rootDir: join(__dirname, dir, name),
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.test.ts'],
    ...(dir === 'packages' && needsPostgres.has(name)
      ? {
          globalSetup: join(postgresSetup, 'jest-global-setup.ts'),
          globalTeardown: join(postgresSetup, 'jest-global-teardown.ts'),
        }
      : {}),
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
    },
    moduleNameMapper: {
      '^@partner-ledger/([a-z-]+)$': `${__dirname}/packages/$1/src/index.ts`,
      '^@partner-ledger/([a-z-]+)/([a-z-]+)$': `${__dirname}/packages/$1/src/$2/index.ts`,
    },
  })),
};

export default config;
