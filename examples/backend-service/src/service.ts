import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import * as E from 'fp-ts/Either';
import type { Ledger, LedgerRejection, Outcome } from '@partner-ledger/ledger';
import { commissionBalances, replay } from '@partner-ledger/projections';
import type { EventStore } from '@partner-ledger/store';

/**
 * The HTTP face of a partner program: the checkout, the CRM and the tracking pixel post facts here, and the
 * partner portal reads balances. Every write is a ledger command, so the ledger's rules and idempotency
 * apply: a retried request (same click id, same conversion id) records nothing new and answers 200.
 */
export interface PartnerServiceOptions {
  readonly ledger: Ledger;
  /** Read by GET /partners/:id/balance (a replay of the balances projection). */
  readonly store: EventStore;
  /** Key of the HMAC that turns IP addresses and user agents into fingerprints: raw values are never stored. */
  readonly fingerprintKey: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const readJson = async (request: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 1_000_000) throw new HttpError(413, { error: 'body too large' });
    chunks.push(chunk as Buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new HttpError(400, { error: 'the body must be a JSON object' });
  }
};

/** 201 when the command recorded something, 200 for a repeat, 422 with the rejection when a rule refused it. */
const answer = (result: E.Either<LedgerRejection, Outcome>): [number, unknown] =>
  E.isLeft(result)
    ? [result.left.code === 'INVALID_COMMAND' ? 400 : 422, { rejected: result.left }]
    : [
        result.right.alreadyRecorded ? 200 : 201,
        {
          alreadyRecorded: result.right.alreadyRecorded,
          events: result.right.events.map((e) => ({ id: e.id, type: e.type, position: e.position })),
        },
      ];

export const createPartnerService = (options: PartnerServiceOptions): Server => {
  const { ledger, store } = options;
  const fingerprint = (value: unknown): string | null =>
    typeof value === 'string' && value !== ''
      ? createHmac('sha256', options.fingerprintKey).update(value).digest('hex')
      : null;

  const routes: Array<
    [string, RegExp, (body: Record<string, unknown>, match: RegExpExecArray) => Promise<[number, unknown]>]
  > = [
    [
      'POST',
      /^\/clicks$/,
      async (body) => {
        // The raw IP address and user agent stop here: only their keyed fingerprints reach the ledger.
        const { ip, userAgent, ...click } = body;
        return answer(
          await ledger.trackClick({
            ...(click as Parameters<Ledger['trackClick']>[0]),
            ipFingerprint: fingerprint(ip),
            userAgentFingerprint: fingerprint(userAgent),
          })(),
        );
      },
    ],
    [
      'POST',
      /^\/deals$/,
      async (body) => answer(await ledger.registerDeal(body as Parameters<Ledger['registerDeal']>[0])()),
    ],
    [
      'POST',
      /^\/deals\/([^/]+)\/approve$/,
      async (body, match) =>
        answer(
          await ledger.approveDealRegistration({
            ...(body as { accountId: string }),
            registrationId: decodeURIComponent(match[1]!),
          })(),
        ),
    ],
    [
      'POST',
      /^\/conversions$/,
      async (body) =>
        answer(await ledger.recordConversion(body as Parameters<Ledger['recordConversion']>[0])()),
    ],
    [
      'GET',
      /^\/partners\/([^/]+)\/balance$/,
      async (_body, match) => {
        const partnerId = decodeURIComponent(match[1]!);
        const { results } = await replay(store, { balances: commissionBalances() });
        const balance = results.balances.partners[partnerId];
        return balance === undefined
          ? [404, { error: `no balance for partner ${partnerId}` }]
          : [200, { partnerId, balance }];
      },
    ],
  ];

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let status: number;
    let body: unknown;
    try {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const route = routes.find(([method, pattern]) => method === request.method && pattern.test(path));
      if (route === undefined) throw new HttpError(404, { error: `no route for ${request.method} ${path}` });
      const [, pattern, run] = route;
      const input = request.method === 'POST' ? await readJson(request) : {};
      [status, body] = await run(input, pattern.exec(path)!);
    } catch (error) {
      if (error instanceof HttpError) [status, body] = [error.status, error.body];
      else [status, body] = [500, { error: 'internal error' }];
    }
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

  return createServer((request, response) => void handle(request, response));
};
