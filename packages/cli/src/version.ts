/** The version of @partner-ledger/cli, printed by `partner-ledger --version`. Kept in step with package.json by a test. */
export const VERSION = '0.1.0';
