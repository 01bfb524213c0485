import type {
  CommissionBalancesResult,
  EcosystemHealthResult,
  PartnerRevenueResult,
} from '@partner-ledger/projections';
import { commissionAging, commissionBalances, commissionsByType, reversalsByMonth } from './book-commissions';
import {
  churnedByMonth,
  healthHeadline,
  newPartnersByMonth,
  partnersByType,
  shareByMonth,
} from './book-health';
import { revenueByMonth, revenueByType, topPartners, unattributedByMonth } from './book-revenue';
import type { LedgerStamp } from './html';
import { asOfFlags, escapeHtml, renderPage, renderStamp } from './html';

// The sections live beside this file, one file a part of the book; the statements take the balance figures'
// order and meanings from here, as they always have.
export { BALANCE_FIGURES } from './book-commissions';

/**
 * What the book is drawn from: the results of three projections, replayed together as of the same moments,
 * and the stamp of the ledger they were read from. The revenue and health results must be by month.
 */
export interface BookInput {
  readonly stamp: LedgerStamp;
  /** `partnerRevenue({ granularity: 'month' })`: `report revenue --by month`. */
  readonly revenue: PartnerRevenueResult;
  /** `commissionBalances()`: `report balances`. */
  readonly balances: CommissionBalancesResult;
  /** `ecosystemHealth({ granularity: 'month' })`: `report health --by month`. */
  readonly health: EcosystemHealthResult;
  /** The page's heading; default "Partner program book". */
  readonly title?: string;
}

/** A section's charts, or a line saying there is nothing yet to chart. */
const orNothing = (html: string, what: string): string =>
  html === '' ? `<p class="note">${escapeHtml(what)}</p>` : html;

/**
 * The month-end book: one self-contained HTML page (styles and charts inlined, no script, nothing fetched),
 * every chart with its numbers in a table, every number the JSON report's decimal string. Deterministic:
 * the same input gives the same bytes.
 */
export const renderBook = (input: BookInput): string => {
  const { stamp, revenue, balances, health } = input;
  if (revenue.granularity !== 'month' || health.granularity !== 'month')
    throw new Error('renderBook: the revenue and health results must be by month');
  const title = input.title ?? 'Partner program book';
  const flags = asOfFlags(stamp);
  const body = [
    `<header><h1>${escapeHtml(title)}</h1>`,
    `<p class="note">Every figure below is the decimal string of a JSON report of the same ledger, as of the same moments: <code>partner-ledger report revenue --by month ${escapeHtml(flags)} --format json</code>, and likewise <code>balances</code> and <code>health --by month</code>. The charts draw the figures of the tables beside them.</p>`,
    renderStamp(stamp),
    '<nav><ul><li><a href="#revenue">Revenue</a></li><li><a href="#partners">Partner types and top partners</a></li><li><a href="#commissions">Commission balances</a></li><li><a href="#health">Ecosystem health</a></li></ul></nav>',
    '</header>',
    '<h2 id="revenue">Revenue: partner-sourced, influenced and attributed</h2>',
    `<p class="note">total: all revenue; attributed: credited to partners by the attribution model; sourced: brought in by a partner; influenced: touched by one. Sourced and influenced overlap by design; the gap between total and attributed is revenue no partner was credited with.${revenue.reportingCurrency === null ? '' : ` The reporting currency (${escapeHtml(revenue.reportingCurrency)}) counts only conversions that recorded a rate into it.`}</p>`,
    orNothing(
      [revenueByMonth(revenue), unattributedByMonth(revenue)].filter((html) => html !== '').join('\n'),
      'No revenue recorded yet.',
    ),
    '<h2 id="partners">Partner types and top partners</h2>',
    orNothing(revenueByType(revenue) + topPartners(revenue), 'No partner revenue recorded yet.'),
    '<h2 id="commissions">Commission balances, reversals and clawbacks</h2>',
    `<p class="note">Up to ${escapeHtml(balances.asOf ?? 'the first event')}; ${balances.openLines} commission lines still open. reversed is what refunds, chargebacks, fraud and rejections clawed back from commissions.</p>`,
    orNothing(
      [commissionBalances(balances), commissionsByType(balances)].filter((html) => html !== '').join('\n'),
      'No commission recorded yet.',
    ),
    orNothing(commissionAging(balances), 'No commission pending or held.'),
    orNothing(reversalsByMonth(balances), 'No reversal recorded yet.'),
    '<h2 id="health">Ecosystem health</h2>',
    healthHeadline(health),
    partnersByType(health),
    newPartnersByMonth(health),
    orNothing(
      churnedByMonth(health),
      `No partner has churned yet (stopped being active: ${health.activeWindowDays} days with no touch or conversion).`,
    ),
    orNothing(shareByMonth(health), 'No revenue recorded yet.'),
  ].join('\n');
  return renderPage(title, body);
};
