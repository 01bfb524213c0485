/**
 * @packageDocumentation
 * Money out: payout runs that pay every partner whose payable balance reaches the minimum, through the
 * ledger's `issuePayout`, and write the provider's batch files (PayPal Payouts, Wise, a generic CSV); then
 * the provider's results reconciled back into the ledger (confirmed, failed, returned), idempotently.
 * Payee details are personal data: read them through a sealing store with the keys.
 */
export {
  BATCH_FILE_LIMITS,
  PAYOUT_BATCH_METHODS,
  PAYPAL_WHOLE_UNIT_CURRENCIES,
  WISE_REFERENCE_LENGTH,
  payableDecimals,
  sendableAmount,
  wiseReferenceOf,
} from './formats';
export type { PayoutBatchMethod } from './formats';
export { payoutIdOf, preparePayouts } from './prepare';
export type {
  BatchFile,
  PayoutsError,
  PreparePayoutsOptions,
  PreparedBatch,
  PreparedPayout,
  ReopenedPayout,
  SkippedPayout,
} from './prepare';
export { PENDING_STATUSES, RESULT_STATUSES, parseResultFile, statusOf } from './results';
export type { PayoutResultLine, PayoutResultStatus, ResultFileProblem } from './results';
export { parseProviderDocument, providerDocumentNotes } from './provider-documents';
export { parseResults, reconcilePayouts } from './reconcile';
export type { PendingResult, ReconcilePayoutsOptions, ReconcileSummary } from './reconcile';
