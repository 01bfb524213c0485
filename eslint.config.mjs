// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The architecture, as lint rules: events -> store -> (ledger | projections) -> open-ledger -> cli. A package may import
// only from packages to its left, so the arrows in docs/architecture.md cannot be broken by accident.
const layers = {
  events: [],
  store: ['events'],
  'store-file': ['events', 'store'],
  'store-eventstoredb': ['events', 'store'],
  'store-postgres': ['events', 'store'],
  ledger: ['events', 'store'],
  projections: ['events', 'store'],
  'report-html': ['events', 'projections'],
  'read-models-postgres': ['events', 'store', 'projections'],
  // Server adapters (store-eventstoredb, ...) are loaded by name when a connection string names one,
  // never imported: a file-store user does not install them.
  'open-ledger': ['events', 'store', 'store-file', 'ledger'],
  // Money in from Stripe: records through the ledger, reads a conversion's stream from the store.
  stripe: ['events', 'store', 'ledger'],
  // Money out to payout providers: prepares payouts through the ledger, reads balances and payees from the store.
  payouts: ['events', 'store', 'ledger'],
  cli: [
    'events',
    'store',
    'store-file',
    'ledger',
    'projections',
    'open-ledger',
    'report-html',
    'read-models-postgres',
    'payouts',
  ],
};
const allPackages = Object.keys(layers);
const forbiddenFor = (name, allowed) => {
  const group = allPackages
    .filter((other) => other !== name && !allowed.includes(other))
    .flatMap((other) => [`@partner-ledger/${other}`, `@partner-ledger/${other}/*`]);
  const message = `packages/${name} may import only from: ${allowed.join(', ') || 'no other package'} (see docs/architecture.md).`;
  return group.length > 0 ? [{ group, message }] : [];
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'docs/api/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A package's index.ts is its public API: every export is chosen, none re-exported wholesale.
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Export names one by one: no `export *`.' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  ...Object.entries(layers).map(([name, allowed]) => ({
    files: [`packages/${name}/src/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbiddenFor(name, allowed),
            { group: ['../../*'], message: 'Import another package by its name, not by a relative path.' },
          ],
        },
      ],
    },
  })),
  {
    // The command's own tests run against the server stores directly (a live PostgreSQL, the EventStoreDB
    // adapter over a scripted client); its code reaches them only through open-ledger's registry.
    files: ['packages/cli/src/**/*.test.ts', 'packages/cli/src/testing/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbiddenFor('cli', [...layers.cli, 'store-eventstoredb', 'store-postgres']),
            { group: ['../../*'], message: 'Import another package by its name, not by a relative path.' },
          ],
        },
      ],
    },
  },
  {
    // The projector's tests follow a PostgreSQL store (in child processes too); its code takes any store.
    files: [
      'packages/read-models-postgres/src/**/*.test.ts',
      'packages/read-models-postgres/src/testing/**/*.ts',
      'packages/read-models-postgres/src/bench/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbiddenFor('read-models-postgres', [...layers['read-models-postgres'], 'store-postgres']),
            { group: ['../../*'], message: 'Import another package by its name, not by a relative path.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
