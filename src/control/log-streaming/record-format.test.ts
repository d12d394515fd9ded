import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logReceiverSchema } from '../../config/index.js';
import type { LogRecord } from './log-types.js';
import { receiverAccepts } from './record-filter.js';
import { csvField, csvHeader, formatRecord } from './record-format.js';

test('a CSV header lists the columns of the log type', () => {
  assert.equal(
    csvHeader('audit'),
    'time,actor,action,object_kind,object_name,outcome,source,detail\n',
  );
});

test('CSV fields with commas, quotes or line breaks are quoted with doubled quotes', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(42), '42');
  assert.equal(csvField(false), 'false');
});

test('a CSV row has the columns in order, empty for missing fields, extras left out', () => {
  const json = JSON.stringify({
    type: 'audit',
    time: '2030-01-01T00:00:00.000Z',
    actor: 'admin, root',
    action: 'delete',
    object_kind: 'pool',
    object_name: 'web',
    outcome: 'ok',
    extra: 'not a column',
  });
  assert.equal(
    formatRecord('csv', json),
    '2030-01-01T00:00:00.000Z,"admin, root",delete,pool,web,ok,,\n',
  );
  assert.equal(formatRecord('json', json), `${json}\n`);
});

const receiver = (extra: object) =>
  logReceiverSchema.parse({ name: 'siem', address: '127.0.0.1:1', ...extra });
const rec = (fields: object) =>
  ({ type: 'connector_status', time: 't', ...fields }) as unknown as LogRecord;

test('receivers get only their log types, and filters narrow records that carry the field', () => {
  const statusOnly = receiver({ log_types: ['connector_status'] });
  assert.equal(receiverAccepts(statusOnly, rec({})), true);
  assert.equal(receiverAccepts(statusOnly, { ...rec({}), type: 'audit' }), false);
  const siteA = receiver({ filters: { connector_groups: ['site-a'], actions: ['tunnel_down'] } });
  assert.equal(
    receiverAccepts(siteA, rec({ connector_group: 'site-a', action: 'tunnel_down' })),
    true,
  );
  assert.equal(
    receiverAccepts(siteA, rec({ connector_group: 'site-b', action: 'tunnel_down' })),
    false,
  );
  assert.equal(
    receiverAccepts(siteA, rec({ connector_group: 'site-a', action: 'tunnel_up' })),
    false,
  );
  // An audit record has no connector group: the group filter does not apply to it.
  assert.equal(receiverAccepts(siteA, { ...rec({ action: 'tunnel_down' }), type: 'audit' }), true);
  const okOnly = receiver({ filters: { outcomes: ['ok'] } });
  assert.equal(receiverAccepts(okOnly, rec({ outcome: 'POSTERN_ERR_KEY_EXHAUSTED' })), false);
});

test('receiver definitions: defaults, and clear errors for contradictions', () => {
  const r = receiver({});
  assert.equal(r.transport, 'tcp');
  assert.equal(r.format, 'json');
  assert.equal(r.log_types.length, 5);
  assert.equal(r.buffer.spool_window_ms, 900_000);
  const bad = logReceiverSchema.safeParse({
    name: 'siem',
    address: '127.0.0.1:1',
    format: 'csv',
    log_types: ['audit', 'user_status'],
    tls: { server_name: 'siem' },
  });
  assert.equal(bad.success, false);
  const messages = bad.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.ok(
    messages.some((m) => /^tls: needs transport: tls/.test(m)),
    messages.join('; '),
  );
  assert.ok(messages.some((m) => /^log_types: a csv receiver takes exactly one/.test(m)));
  const halfMtls = logReceiverSchema.safeParse({
    name: 'siem',
    address: '127.0.0.1:1',
    transport: 'tls',
    tls: { cert: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----' },
  });
  assert.match(halfMtls.error!.issues[0]!.message, /cert and key go together/);
});
