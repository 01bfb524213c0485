import { createHash } from 'node:crypto';
import type { CommissionBalancesResult, PayoutStatementsResult } from '@partner-ledger/projections';
import { BALANCE_FIGURES } from './book';
import type { Cell, LedgerStamp } from './html';
import { asOfFlags, escapeHtml, renderPage, renderStamp, renderTable } from './html';

/**
 * What the statements are drawn from: the payout statements and the commission balances, replayed together
 * as of the same moments, and the stamp of the ledger they were read from.
 */
export interface StatementsInput {
  readonly stamp: LedgerStamp;
  /** `payoutStatements(...)`: `report statements`. */
  readonly statements: PayoutStatementsResult;
  /** `commissionBalances()`: `report balances`. */
  readonly balances: CommissionBalancesResult;
  /** partner id -> partner type, for the heading; optional. */
  readonly partnerTypes?: Readonly<Record<string, string>>;
  /**
   * partner id -> partner name, for the headings and the index; optional. Give names as read through the
   * ledger's sealing store: the plaintext, `[erased]` after the partner's erasure, `[sealed]` without its key.
   */
  readonly partnerNames?: Readonly<Record<string, string>>;
  /** Only these partners (default: every partner with a commission balance or a payout). */
  readonly partnerIds?: readonly string[];
  /** The program's name, for the headings. */
  readonly programName?: string;
}

/** One file of a set of statements: a name (no directory) and its HTML. */
export interface StatementFile {
  readonly fileName: string;
  /** null for the index. */
  readonly partnerId: string | null;
  readonly html: string;
}

const sorted = <T>(record: Readonly<Record<string, T>>): Array<[string, T]> =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const fig = (
  report: 'statements' | 'balances',
  path: readonly string[],
  value: string | number | null,
): Cell => ({
  figure: { report, path, value },
});
const txt = (text: string): Cell => ({ text });

/**
 * The file name of a partner's statement: the id itself when it is a safe file name, otherwise its safe
 * characters and a hash of the id, so that two partners never share a file on any file system.
 */
export const statementFileName = (partnerId: string): string => {
  // No leading dot (a hidden file, or `..`), and never the index's name.
  const safe = partnerId
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\./, '_')
    .slice(0, 80);
  const plain = safe === partnerId && partnerId.toLowerCase() !== 'index';
  return plain
    ? `${partnerId}.html`
    : `${safe}-${createHash('sha256').update(partnerId).digest('hex').slice(0, 10)}.html`;
};

const partnerIdsOf = (input: StatementsInput): string[] =>
  input.partnerIds !== undefined
    ? [...new Set(input.partnerIds)].sort()
    : [
        ...new Set([...Object.keys(input.statements.statements), ...Object.keys(input.balances.partners)]),
      ].sort();

const renderStatement = (input: StatementsInput, partnerId: string): string => {
  const type = input.partnerTypes?.[partnerId];
  const name = input.partnerNames?.[partnerId];
  const balances = sorted(input.balances.partners[partnerId] ?? {});
  const periods = sorted(input.statements.statements[partnerId] ?? {});
  const replay = `partner-ledger report statements --partner ${partnerId} ${asOfFlags(input.stamp)} --format json`;
  const balanceTable = renderTable({
    caption: `Balance carried, as of ${input.balances.asOf ?? 'the first event'}: accrued less reversed less paid plus adjustments; of it, pending (in the hold period), held (for review) and payable`,
    columns: ['figure', 'meaning', ...balances.map(([currency]) => currency)],
    rows: BALANCE_FIGURES.map(([field, meaning]) => [
      txt(field),
      txt(meaning),
      ...balances.map(([currency, b]) => fig('balances', ['partners', partnerId, currency, field], b[field])),
    ]),
  });
  const payouts = periods.map(([period, statement]) => {
    const at = (...path: string[]): string[] => ['statements', partnerId, period, ...path];
    const totals = renderTable({
      caption: `Payouts of ${period}: issued, failed, and paid (issued less failed)`,
      columns: ['currency', 'issued', 'failed', 'paid'],
      rows: sorted(statement.totals).map(([currency, t]) => [
        txt(currency),
        fig('statements', at('totals', currency, 'issued'), t.issued),
        fig('statements', at('totals', currency, 'failed'), t.failed),
        fig('statements', at('totals', currency, 'paid'), t.paid),
      ]),
    });
    const each = statement.payouts.map((payout, index) => {
      const p = (...path: string[]): string[] => at('payouts', String(index), ...path);
      const head = renderTable({
        caption: `Payout ${payout.payoutId}`,
        columns: ['paid at', 'amount', 'currency', 'method', 'reference', 'status'],
        rows: [
          [
            txt(payout.occurredAt),
            fig('statements', p('amount'), payout.amount),
            txt(payout.currency),
            txt(payout.method),
            txt(payout.externalReference ?? ''),
            txt(payout.status === 'failed' ? `failed: ${payout.failureReason ?? ''}` : payout.status),
          ],
        ],
      });
      const items = renderTable({
        caption: `What payout ${payout.payoutId} settled: commission lines earned (with the plan, rule, rate and base that earned them), reversals taken back, adjustments`,
        columns: [
          'kind',
          'item',
          'settled',
          'conversion',
          'earned at',
          'plan',
          'rule',
          'tier',
          'rate',
          'base',
          'line amount',
        ],
        rows: payout.items.map((item, i) => {
          const q = (...path: string[]): string[] => p('items', String(i), ...path);
          return [
            txt(item.kind),
            txt(item.id),
            fig('statements', q('settled'), item.settled),
            txt(item.line?.conversionId ?? ''),
            txt(item.line?.accruedAt ?? ''),
            txt(item.line === null ? '' : `${item.line.planId}@${item.line.planVersion}`),
            txt(item.line?.rule ?? ''),
            txt(item.line?.tier ?? ''),
            ...(item.line === null
              ? [txt(''), txt(''), txt('')]
              : [
                  fig('statements', q('line', 'rate'), item.line.rate),
                  fig('statements', q('line', 'base'), item.line.base),
                  fig('statements', q('line', 'amount'), item.line.amount),
                ]),
          ];
        }),
      });
      return `<section class="payout">${head}\n${items}</section>`;
    });
    return [`<h3>${escapeHtml(period)}</h3>`, totals, ...each].join('\n');
  });
  const body = [
    `<header><h1>Statement for ${escapeHtml(partnerId)}</h1>`,
    ...(name === undefined ? [] : [`<p class="note">Partner name: ${escapeHtml(name)}</p>`]),
    `<p class="note">Commission statement${escapeHtml(input.programName === undefined ? '' : ` from ${input.programName}`)}${escapeHtml(type === undefined ? '' : `; partner type ${type}`)}.</p>`,
    renderStamp(input.stamp),
    `<p class="note">To replay this statement exactly: <code>${escapeHtml(replay)}</code>, and <code>partner-ledger report balances ${escapeHtml(asOfFlags(input.stamp))} --format json</code> for the balance; <code>partner-ledger verify --up-to ${Math.max(input.stamp.position, 0)}</code> must print the digest above.</p>`,
    '</header>',
    '<h2>Balance carried</h2>',
    balances.length === 0
      ? '<p>No commission recorded.</p>'
      : `<section class="keep">${balanceTable}</section>`,
    '<h2>Payouts and what they settled</h2>',
    payouts.length === 0 ? '<p>No payout in these statements.</p>' : payouts.join('\n'),
  ].join('\n');
  return renderPage(`Statement for ${partnerId}`, body);
};

const renderIndex = (input: StatementsInput, partnerIds: readonly string[]): string => {
  const currencies = [
    ...new Set(Object.values(input.balances.partners).flatMap((byCurrency) => Object.keys(byCurrency))),
  ].sort();
  const table = renderTable({
    caption: 'Every partner, with the balance carried and what is payable, per currency',
    columns: [
      'partner',
      ...(input.partnerNames === undefined ? [] : ['name']),
      'type',
      ...currencies.flatMap((c) => [`balance ${c}`, `payable ${c}`]),
    ],
    rows: partnerIds.map((id) => [
      { link: { text: id, href: encodeURI(statementFileName(id)) } },
      ...(input.partnerNames === undefined ? [] : [txt(input.partnerNames[id] ?? '')]),
      txt(input.partnerTypes?.[id] ?? ''),
      ...currencies.flatMap((c) => {
        const b = input.balances.partners[id]?.[c];
        return b === undefined
          ? [txt(''), txt('')]
          : [
              fig('balances', ['partners', id, c, 'balance'], b.balance),
              fig('balances', ['partners', id, c, 'payable'], b.payable),
            ];
      }),
    ]),
  });
  const body = [
    `<header><h1>Partner statements${input.programName === undefined ? '' : `, ${escapeHtml(input.programName)}`}</h1>`,
    renderStamp(input.stamp),
    '</header>',
    table,
  ].join('\n');
  return renderPage('Partner statements', body);
};

/**
 * One statement per partner (every partner with a commission balance or a payout), and an index that links
 * them: each names the digest and position it was computed at, so that a dispute can be replayed exactly.
 * Every figure is the decimal string of the JSON reports. Deterministic: same input, same bytes.
 */
export const renderStatements = (input: StatementsInput): StatementFile[] => {
  const partnerIds = partnerIdsOf(input);
  return [
    { fileName: 'index.html', partnerId: null, html: renderIndex(input, partnerIds) },
    ...partnerIds.map((id) => ({
      fileName: statementFileName(id),
      partnerId: id,
      html: renderStatement(input, id),
    })),
  ];
};
