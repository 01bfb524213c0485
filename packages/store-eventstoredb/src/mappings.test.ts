import {
  ANY,
  AccessDeniedError,
  NO_STREAM,
  STREAM_EXISTS,
  UnavailableError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  streamNameFilter,
} from '@eventstore/db-client';
import type { AllStreamRecordedEvent, JSONEventData } from '@eventstore/db-client';
import { computeEventHash } from '@partner-ledger/events';
import { StoreCorruptionError } from '@partner-ledger/store';
import fc from 'fast-check';
import { backoffDelay, sleep } from './backoff';
import { isEventStoreDbConnectionString, parseConnectionString, redactConnectionString } from './connection';
import { LEDGER_ID_NAMESPACE, serverEventIdFor, uuidV5 } from './event-id';
import { selectionFromOptions, selects, serverFilterFor } from './filters';
import { LEDGER_METADATA_KEY, fromServerEvent, toEventData } from './metadata';
import { toClientPosition, toPortPosition } from './positions';
import {
  fromClientCurrentRevision,
  fromNextExpectedRevision,
  isWrongExpectedVersion,
  toClientExpectedRevision,
} from './revisions';
import { isPermanentFailure } from './subscription';

// These are mapping tests against the client's real types and error classes: they do not prove the
// adapter against a server (see live.test.ts for that).

const chained = (overrides: Partial<Parameters<typeof computeEventHash>[0]> = {}) => {
  const unhashed = {
    id: 'conversion:ord_1',
    type: 'ConversionAttributed',
    schemaVersion: 1,
    stream: 'conversion-ord_1',
    revision: 0,
    occurredAt: '2026-03-01T12:00:00.000Z',
    recordedAt: '2026-03-01T12:00:01.000Z',
    actor: 'service:checkout',
    correlationId: 'req-1',
    causationId: null,
    data: { amount: '100.00', currency: 'USD' },
    prevHash: null,
    ...overrides,
  };
  return { ...unhashed, hash: computeEventHash(unhashed) };
};

/** The record the server would hand back for what the adapter sent. */
const asServerRecord = (
  sent: JSONEventData,
  stream: string,
  revision: bigint,
  position: bigint,
): AllStreamRecordedEvent =>
  ({
    streamId: stream,
    id: sent.id,
    isJson: true,
    revision,
    type: sent.type,
    created: new Date(0),
    data: JSON.parse(JSON.stringify(sent.data)),
    metadata: JSON.parse(JSON.stringify(sent.metadata)),
    position: { commit: position, prepare: position },
  }) as AllStreamRecordedEvent;

describe('mapping tests against the client types (these do not prove the adapter against a server)', () => {
  describe('expected revisions', () => {
    it('maps the four forms of the port to the client, and revisions back', () => {
      expect(toClientExpectedRevision('any')).toBe(ANY);
      expect(toClientExpectedRevision('noStream')).toBe(NO_STREAM);
      expect(toClientExpectedRevision('streamExists')).toBe(STREAM_EXISTS);
      expect(toClientExpectedRevision(7)).toBe(7n);
      fc.assert(
        fc.property(fc.maxSafeNat(), (revision) => {
          const sent = toClientExpectedRevision(revision);
          expect(sent).toBe(BigInt(revision));
          expect(fromClientCurrentRevision(sent as bigint)).toBe(revision);
        }),
      );
    });

    it('refuses revisions that are not whole numbers >= 0, and bigints past 2^53', () => {
      expect(() => toClientExpectedRevision(-1)).toThrow(RangeError);
      expect(() => toClientExpectedRevision(1.5)).toThrow(RangeError);
      expect(() => fromClientCurrentRevision(2n ** 53n)).toThrow(RangeError);
    });

    it("maps the client's current revision, and the -1 of an append result that did not throw", () => {
      expect(fromClientCurrentRevision(NO_STREAM)).toBe('noStream');
      expect(fromClientCurrentRevision(41n)).toBe(41);
      expect(fromNextExpectedRevision(-1n)).toBe('noStream');
      expect(fromNextExpectedRevision(3n)).toBe(3);
    });

    it("reads the actual revision out of the client's own WrongExpectedVersionError", () => {
      const behind = new WrongExpectedVersionError(undefined, {
        streamName: 'partner-7',
        expected: 2n,
        current: 5n,
      });
      expect(isWrongExpectedVersion(behind)).toBe(true);
      expect(fromClientCurrentRevision(behind.actualVersion)).toBe(5);
      const missing = new WrongExpectedVersionError(undefined, {
        streamName: 'partner-8',
        expected: STREAM_EXISTS,
        current: NO_STREAM,
      });
      expect(fromClientCurrentRevision(missing.actualVersion)).toBe('noStream');
      expect(isWrongExpectedVersion(new UnavailableError())).toBe(false);
    });
  });

  describe('global positions', () => {
    it("uses the commit position as the port's number, and back", () => {
      expect(toPortPosition({ commit: 1284n, prepare: 1284n })).toBe(1284);
      expect(toClientPosition(1284)).toEqual({ commit: 1284n, prepare: 1284n });
      fc.assert(
        fc.property(fc.maxSafeNat(), (position) => {
          expect(toPortPosition(toClientPosition(position))).toBe(position);
        }),
      );
    });

    it('refuses positions outside the safe integers', () => {
      expect(() => toPortPosition({ commit: 2n ** 53n, prepare: 2n ** 53n })).toThrow(RangeError);
      expect(() => toClientPosition(-1)).toThrow(RangeError);
      expect(() => toClientPosition(0.5)).toThrow(RangeError);
    });
  });

  describe('event ids', () => {
    it('derives RFC 9562 version 5 UUIDs (the RFC test vector)', () => {
      expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
        '2ed6657d-e927-568b-95e1-2665a8aea6a2',
      );
    });

    it('keeps a canonical UUID as it is and derives one for any other ledger id, deterministically', () => {
      const uuid = '3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e';
      expect(serverEventIdFor(uuid)).toBe(uuid);
      expect(serverEventIdFor(uuid.toUpperCase())).not.toBe(uuid);
      expect(serverEventIdFor('conversion:ord_1')).toBe(uuidV5(LEDGER_ID_NAMESPACE, 'conversion:ord_1'));
      fc.assert(
        fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
          const id = serverEventIdFor(a);
          expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          expect(serverEventIdFor(a)).toBe(id);
          if (a !== b) expect(serverEventIdFor(b)).not.toBe(id);
        }),
      );
    });
  });

  describe('metadata', () => {
    it('lays out an event as type + data + the envelope and hash links in metadata', () => {
      const event = chained({ causationId: 'cmd-9' });
      const sent = toEventData(event);
      expect(sent).toEqual({
        id: serverEventIdFor(event.id),
        contentType: 'application/json',
        type: 'ConversionAttributed',
        data: event.data,
        metadata: {
          $correlationId: 'req-1',
          $causationId: 'cmd-9',
          [LEDGER_METADATA_KEY]: {
            format: 1,
            id: event.id,
            schemaVersion: 1,
            occurredAt: event.occurredAt,
            recordedAt: event.recordedAt,
            actor: event.actor,
            correlationId: 'req-1',
            causationId: 'cmd-9',
            prevHash: null,
            hash: event.hash,
          },
        },
      });
      expect(toEventData(chained()).metadata).not.toHaveProperty('$causationId');
    });

    it('reads back the same event, with the server revision and commit position, and an intact hash', () => {
      const event = chained({ revision: 3, prevHash: 'a'.repeat(64) });
      const record = asServerRecord(toEventData(event), event.stream, 3n, 9876n);
      const read = fromServerEvent(record, record.position);
      expect(read).toEqual({ ...event, position: 9876 });
      expect(computeEventHash(read)).toBe(read.hash);
      // Stream reads of older servers give the commit position on its own.
      expect(fromServerEvent(record, 9876n).position).toBe(9876);
    });

    it('reports events it cannot read as corruption, naming the event', () => {
      const event = chained();
      const good = asServerRecord(toEventData(event), event.stream, 0n, 2000n);
      const cases: [string, AllStreamRecordedEvent][] = [
        ['no partnerLedger metadata', { ...good, metadata: { other: 1 } } as AllStreamRecordedEvent],
        [
          'damaged',
          {
            ...good,
            metadata: { [LEDGER_METADATA_KEY]: { format: 1, id: event.id } },
          } as AllStreamRecordedEvent,
        ],
        ['not JSON', { ...good, isJson: false, data: new Uint8Array() } as AllStreamRecordedEvent],
        [
          'server id would be',
          { ...good, id: '00000000-0000-4000-8000-000000000001' } as AllStreamRecordedEvent,
        ],
      ];
      cases.forEach(([message, record]) => {
        expect(() => fromServerEvent(record, record.position)).toThrow(StoreCorruptionError);
        expect(() => fromServerEvent(record, record.position)).toThrow(message);
      });
      expect(() => fromServerEvent(good, undefined)).toThrow('22.10 or later');
    });
  });

  describe('filters', () => {
    const record = (streamId: string, type: string, ledger = true): AllStreamRecordedEvent =>
      ({
        streamId,
        type,
        id: '00000000-0000-4000-8000-000000000001',
        isJson: true,
        revision: 0n,
        created: new Date(0),
        data: {},
        metadata: ledger ? { [LEDGER_METADATA_KEY]: {} } : { app: 'other' },
        position: { commit: 1n, prepare: 1n },
      }) as AllStreamRecordedEvent;

    it("gives the server the client's own filters", () => {
      expect(serverFilterFor(selectionFromOptions({}))).toEqual(excludeSystemEvents());
      expect(serverFilterFor(selectionFromOptions({ streamPrefixes: ['ledger-'] }))).toEqual(
        streamNameFilter({ prefixes: ['ledger-'] }),
      );
      expect(serverFilterFor(selectionFromOptions({ eventTypePrefixes: ['Partner', 'Payout'] }))).toEqual(
        eventTypeFilter({ prefixes: ['Partner', 'Payout'] }),
      );
    });

    it('selects ledger events only: no system streams or types, no foreign events, within the prefixes', () => {
      const all = selects(selectionFromOptions({}));
      expect(all(record('partner-1', 'PartnerJoined'))).toBe(true);
      expect(all(record('$stats-1', 'PartnerJoined'))).toBe(false);
      expect(all(record('partner-1', '$metadata'))).toBe(false);
      expect(all(record('partner-1', 'PartnerJoined', false))).toBe(false);
      const byStream = selects(selectionFromOptions({ streamPrefixes: ['ledger-'] }));
      expect(byStream(record('ledger-partner-1', 'PartnerJoined'))).toBe(true);
      expect(byStream(record('partner-1', 'PartnerJoined'))).toBe(false);
      const byType = selects(selectionFromOptions({ eventTypePrefixes: ['Payout'] }));
      expect(byType(record('partner-1', 'PayoutIssued'))).toBe(true);
      expect(byType(record('partner-1', 'PartnerJoined'))).toBe(false);
    });

    it('refuses both kinds of prefixes at once, and empty prefixes', () => {
      expect(() => selectionFromOptions({ streamPrefixes: ['a'], eventTypePrefixes: ['b'] })).toThrow(
        TypeError,
      );
      expect(() => selectionFromOptions({ streamPrefixes: [] })).toThrow(TypeError);
      expect(() => selectionFromOptions({ eventTypePrefixes: [''] })).toThrow(TypeError);
    });
  });

  describe('connection strings', () => {
    it('reads a single node, a cluster of seeds and a DNS-discovered cluster', () => {
      expect(parseConnectionString('esdb://localhost:2113?tls=false')).toEqual({
        discover: false,
        hosts: [{ host: 'localhost', port: 2113 }],
        tls: false,
        username: undefined,
        options: { tls: 'false' },
      });
      expect(
        parseConnectionString('esdb://admin:changeit@node1:2111,node2:2112,node3?nodePreference=leader'),
      ).toEqual({
        discover: false,
        hosts: [
          { host: 'node1', port: 2111 },
          { host: 'node2', port: 2112 },
          { host: 'node3', port: 2113 },
        ],
        tls: true,
        username: 'admin',
        options: { nodePreference: 'leader' },
      });
      expect(parseConnectionString('esdb+discover://cluster.example.com/')).toMatchObject({
        discover: true,
        hosts: [{ host: 'cluster.example.com', port: 2113 }],
      });
    });

    it('says what is wrong, without the password', () => {
      const bad = [
        ['http://localhost:2113', 'esdb://'],
        ['esdb://', 'no host'],
        ['esdb://host:99999', 'out of range'],
        ['esdb://host:port', 'host or host:port'],
        ['esdb+discover://a,b', 'one DNS name'],
        ['esdb://host?tls=maybe', 'tls must be'],
        ['esdb://user@host', 'user:password@'],
      ];
      bad.forEach(([value, message]) =>
        expect(() => parseConnectionString(value as string)).toThrow(message as string),
      );
      expect(() => parseConnectionString('esdb://admin:secret@host:-1')).toThrow(/admin:\*\*\*@/);
      expect(redactConnectionString('esdb://admin:secret@h1,h2?tls=true')).toBe(
        'esdb://admin:***@h1,h2?tls=true',
      );
      expect(isEventStoreDbConnectionString('esdb+discover://x')).toBe(true);
      expect(isEventStoreDbConnectionString('./ledger-data')).toBe(false);
    });
  });

  describe('resubscription', () => {
    it('backs off exponentially, with jitter, up to a ceiling', () => {
      const fixed = { initialDelayMs: 100, maxDelayMs: 1000, random: () => 1 - Number.EPSILON };
      expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, fixed))).toEqual([
        100, 200, 400, 800, 1000, 1000,
      ]);
      expect(backoffDelay(3, { ...fixed, random: () => 0 })).toBe(200);
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 200 }),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          (attempt, r) => {
            const delay = backoffDelay(attempt, { random: () => r });
            expect(delay).toBeGreaterThanOrEqual(Math.min(30_000, 100 * 2 ** (attempt - 1)) / 2 - 1);
            expect(delay).toBeLessThanOrEqual(30_000);
          },
        ),
      );
    });

    it('retries dropped connections, never permissions, bad requests or corrupt data', () => {
      expect(isPermanentFailure(new UnavailableError())).toBe(false);
      expect(isPermanentFailure(new Error('the server ended the subscription'))).toBe(false);
      expect(isPermanentFailure(new AccessDeniedError())).toBe(true);
      expect(isPermanentFailure(new StoreCorruptionError('bad'))).toBe(true);
    });

    it('cuts a backoff short when the subscription is stopped', async () => {
      const controller = new AbortController();
      const waiting = sleep(60_000, controller.signal);
      controller.abort();
      await expect(waiting).resolves.toBeUndefined();
    });
  });
});
