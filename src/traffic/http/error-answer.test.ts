import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trafficErrors } from '../errors.js';
import {
  compileErrorPages,
  errorAnswer,
  minimalErrorBody,
  type ErrorAnswerSettings,
} from './error-answer.js';
import { httpErrors } from './errors.js';
import type { HttpErrorPage, HttpRequestRecord, RequestEnd } from './http-options.js';
import { buildRuntime } from './http-runtime.js';
import type { RequestFacts } from './client-request.js';
import { reportRequestEnd, type ExchangeOutcome } from './request-record.js';
import { makePool } from './test-kit.js';
import { DirectDialer } from '../direct-dial.js';

interface Logged {
  readonly level: 'debug' | 'warn';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

function settings(
  detail: 'minimal' | 'full',
  pages?: ReadonlyMap<number, HttpErrorPage>,
): ErrorAnswerSettings & { logged: Logged[] } {
  const logged: Logged[] = [];
  const log =
    (level: Logged['level']) =>
    (fields: Record<string, unknown>, message: string): void => {
      logged.push({ level, fields, message });
    };
  return {
    name: 'front',
    errorDetail: detail,
    errorPages: compileErrorPages(pages),
    logger: { debug: log('debug'), warn: log('warn') },
    logged,
  };
}

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function header(headers: readonly string[], name: string): string | undefined {
  const i = headers.findIndex((h, at) => at % 2 === 0 && h.toLowerCase() === name.toLowerCase());
  return i < 0 ? undefined : headers[i + 1];
}

test('the minimal body states status, reason, code, request id and the sentence for the user', () => {
  assert.equal(
    minimalErrorBody(503, 'POSTERN_ERR_NO_CONNECTOR', 'id-1'),
    '503 Service Unavailable\nError: POSTERN_ERR_NO_CONNECTOR\nRequest id: id-1\n' +
      'The service is temporarily unavailable. If this persists, give the request id to the operator.\n',
  );
});

test('minimal: an upstream failure shows no address, pool or group, and logs the full message at warn', () => {
  const rt = settings('minimal');
  const err = trafficErrors.dialRefused('10.1.2.3:8080', ' (connect ECONNREFUSED 10.1.2.3:8080)');
  const answer = errorAnswer(rt, 502, err);
  assert.match(answer.requestId, REQUEST_ID);
  assert.equal(answer.body, minimalErrorBody(502, 'POSTERN_ERR_DIAL_REFUSED', answer.requestId));
  assert.doesNotMatch(answer.body, /10\.1\.2\.3|8080|ECONNREFUSED/);
  assert.equal(header(answer.headers, 'X-Postern-Error'), 'POSTERN_ERR_DIAL_REFUSED');
  assert.equal(header(answer.headers, 'Content-Type'), 'text/plain; charset=utf-8');
  assert.equal(header(answer.headers, 'Content-Length'), String(Buffer.byteLength(answer.body)));
  assert.deepEqual(rt.logged, [
    {
      level: 'warn',
      message: 'request answered with an error',
      fields: {
        server: 'front',
        requestId: answer.requestId,
        status: 502,
        code: 'POSTERN_ERR_DIAL_REFUSED',
        err: err.message,
      },
    },
  ]);
  assert.match(err.message, /10\.1\.2\.3:8080/, 'the log keeps what the body leaves out');
});

test('minimal: a group name in a no-connector error stays out of the body', () => {
  const answer = errorAnswer(settings('minimal'), 503, trafficErrors.noConnector('dc-secret'));
  assert.doesNotMatch(answer.body, /dc-secret/);
  assert.match(answer.body, /^503 Service Unavailable\nError: POSTERN_ERR_NO_CONNECTOR\n/);
});

test('an error without a code is answered as POSTERN_ERR_INTERNAL, its text hidden', () => {
  const answer = errorAnswer(settings('minimal'), 502, new Error('/etc/postern/secret.pem'));
  assert.equal(header(answer.headers, 'X-Postern-Error'), 'POSTERN_ERR_INTERNAL');
  assert.doesNotMatch(answer.body, /secret\.pem/);
});

test('full: the body is the code and the message, as before', () => {
  const err = trafficErrors.dialRefused('10.1.2.3:8080', 'refused');
  const answer = errorAnswer(settings('full'), 502, err);
  assert.equal(answer.body, `POSTERN_ERR_DIAL_REFUSED: ${err.message}\n`);
});

test("errors in the client's own request keep their explanation under minimal, logged at debug", () => {
  const rt = settings('minimal');
  const err = httpErrors.headersTooLarge(16384);
  const answer = errorAnswer(rt, 431, err);
  assert.equal(answer.body, `POSTERN_ERR_HEADERS_TOO_LARGE: ${err.message}\n`);
  assert.equal(rt.logged[0]?.level, 'debug');
  assert.equal(rt.logged[0]?.fields['requestId'], answer.requestId);
});

test('a configured page is served for its status, with every {request_id} replaced', () => {
  const pages = new Map<number, HttpErrorPage>([
    [503, { body: '<p>Été: {request_id} / {request_id}</p>' }],
    [404, { body: 'never served', contentType: 'text/plain' }],
  ]);
  const rt = settings('full', pages);
  const answer = errorAnswer(rt, 503, trafficErrors.noConnector('dc-secret'));
  assert.equal(answer.body, `<p>Été: ${answer.requestId} / ${answer.requestId}</p>`);
  assert.equal(header(answer.headers, 'Content-Type'), 'text/html; charset=utf-8');
  assert.equal(header(answer.headers, 'Content-Length'), String(Buffer.byteLength(answer.body)));
  assert.equal(header(answer.headers, 'X-Postern-Error'), 'POSTERN_ERR_NO_CONNECTOR');
  const other = errorAnswer(rt, 502, trafficErrors.dialRefused('10.0.0.1:1', 'x'));
  assert.match(other.body, /^POSTERN_ERR_DIAL_REFUSED: /, 'statuses without a page keep the body');
});

test('a page keeps its own content type', () => {
  const pages = new Map<number, HttpErrorPage>([
    [502, { body: '{"error":"down"}', contentType: 'application/json' }],
  ]);
  const answer = errorAnswer(settings('minimal', pages), 502, new Error('x'));
  assert.equal(answer.body, '{"error":"down"}');
  assert.equal(header(answer.headers, 'Content-Type'), 'application/json');
});

test('each answer gets a new request id', () => {
  const rt = settings('minimal');
  const a = errorAnswer(rt, 502, new Error('x'));
  const b = errorAnswer(rt, 502, new Error('x'));
  assert.notEqual(a.requestId, b.requestId);
});

test('a request record carries the id its error answer showed, else a fresh one', () => {
  const records: HttpRequestRecord[] = [];
  const ends: RequestEnd[] = [];
  const rt = buildRuntime(
    {
      name: 'front',
      protocol: 'http',
      listen: { host: '127.0.0.1', port: 0 },
      pool: makePool('web', []),
      dialer: new DirectDialer(),
      onRequestEnd: (r) => {
        ends.push(r);
        records.push(r.record());
      },
    },
    () => undefined,
  );
  assert.equal(rt.errorDetail, 'minimal', 'minimal unless configured');
  const facts = { method: 'GET', target: '/', host: 'a', clientIp: '127.0.0.1' } as RequestFacts;
  const outcome: ExchangeOutcome = {
    route: undefined,
    node: undefined,
    connectorId: undefined,
    rule: undefined,
    status: 0,
    bytesIn: 0,
    bytesOut: 0,
    attempts: 0,
    failedNodes: undefined,
    upgrade: false,
    closeReason: 'client_aborted',
    started: rt.clock.monotonic(),
    requestId: 'the-id',
  };
  reportRequestEnd(rt, facts, outcome);
  reportRequestEnd(rt, facts, { ...outcome, requestId: undefined });
  assert.equal(records[0]?.requestId, 'the-id');
  assert.match(records[1]?.requestId ?? '', /^[0-9a-f-]{36}$/);
  // The record is built once; what counters read is there without it.
  assert.equal(ends[1]?.record(), records[1]);
  assert.deepEqual(
    ends.map((e) => [e.virtualServer, e.status, e.closeReason]),
    [
      ['front', 0, 'client_aborted'],
      ['front', 0, 'client_aborted'],
    ],
  );
  rt.connections.close();
});
