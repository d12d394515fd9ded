import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { eventually, startTestConnector, startTestEdge, tempDir } from '../harness/harness.js';
import { startReceiverProcess, type ReceiverProcess } from '../support/line-receiver-process.js';
import { createSelfSignedCert } from '../support/tls-cert.js';

interface Line {
  type: string;
  n?: number;
  action?: string;
  connector_id?: string;
  active_sessions?: number;
}

/** Every JSON line a receiver process got, over all its connections, in order. */
function jsonLines(receiver: ReceiverProcess): Line[] {
  return [...receiver.received.values()]
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

/** The records this test published itself (the API's own audit records carry no `n`). */
const numbered = (receiver: ReceiverProcess): Line[] =>
  jsonLines(receiver).filter((l) => l.n !== undefined);

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test('records published while the receiver is down arrive in order after it restarts, none lost', async () => {
  let receiver = await startReceiverProcess();
  const port = receiver.port;
  const edge = await startTestEdge();
  try {
    const created = await edge.api('POST', '/log-receivers', {
      name: 'siem',
      address: `127.0.0.1:${port}`,
      log_types: ['audit'],
      // A small memory buffer so that the outage's records go through the disk spool.
      buffer: { memory_records: 20 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const connected = () => edge.logs.status().find((s) => s.name === 'siem')?.connected;
    await eventually(connected, 'the receiver connected', 10_000);
    for (const n of range(0, 10)) edge.logs.publish('audit', { n, action: 'create' });
    await eventually(() => numbered(receiver).length === 10, 'records before the outage');

    await receiver.kill();
    await eventually(() => connected() === false, 'the edge noticed the outage', 10_000);
    for (const n of range(10, 300)) edge.logs.publish('audit', { n, action: 'create' });
    const during = edge.logs.status().find((s) => s.name === 'siem')!;
    assert.equal(during.memoryRecords + during.spoolRecords, 290);
    assert.ok(during.spoolRecords > 0, 'the outage spilled to the disk spool');
    const metrics = await (await fetch(`${edge.adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      /postern_edge_log_stream_backlog_records\{receiver="siem",place="spool"\} [1-9]/,
    );
    assert.match(metrics, /postern_edge_log_stream_connected\{receiver="siem"\} 0/);

    receiver = await startReceiverProcess(port);
    const after = (await eventually(
      () => {
        const lines = numbered(receiver);
        return lines.length >= 290 ? lines : undefined;
      },
      'records published during the outage',
      30_000,
    )) as Line[];
    assert.deepEqual(
      after.map((l) => l.n),
      range(10, 300),
    );
    await eventually(async () => {
      const text = await (await fetch(`${edge.adminUrl}/metrics`)).text();
      // The 300 published here, plus the API's own audit record of creating the receiver.
      const delivered = /postern_edge_log_stream_delivered_total\{receiver="siem"\} (\d+)/.exec(
        text,
      );
      return Number(delivered?.[1]) === 301;
    }, 'the delivered metric');
    assert.doesNotMatch(metrics, /postern_edge_log_stream_dropped_total\{receiver="siem"/);
  } finally {
    await edge.stop();
    await receiver.kill();
  }
});

test('a TLS receiver trusted through a CA file reference gets CSV with the documented header', async () => {
  const cert = await createSelfSignedCert({ dnsNames: ['siem.test'], ipAddresses: [] });
  const dir = await tempDir('postern-logs-tls-');
  await writeFile(join(dir, 'siem.crt'), cert.cert);
  await writeFile(join(dir, 'siem.key'), cert.key);
  const receiver = await startReceiverProcess(0, {
    certFile: join(dir, 'siem.crt'),
    keyFile: join(dir, 'siem.key'),
  });
  const configDir = join(dir, 'config');
  await mkdir(join(configDir, 'tls'), { recursive: true });
  await writeFile(join(configDir, 'tls', 'siem-ca.crt'), cert.cert);
  await writeFile(
    join(configDir, 'logs.yaml'),
    [
      'version: 1',
      'log_receivers:',
      '  - name: siem-tls',
      `    address: 127.0.0.1:${receiver.port}`,
      '    transport: tls',
      '    tls:',
      '      ca: { valueFrom: { fileRef: { name: tls/siem-ca.crt } } }',
      '      server_name: siem.test',
      '    format: csv',
      '    log_types: [audit]',
      // The same receiver under a name its certificate does not carry: refused.
      '  - name: siem-wrong-name',
      `    address: 127.0.0.1:${receiver.port}`,
      '    transport: tls',
      '    tls:',
      '      ca: { valueFrom: { fileRef: { name: tls/siem-ca.crt } } }',
      '      server_name: other.test',
      '',
    ].join('\n'),
  );
  const warnings: { receiver?: string; code?: string }[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        warnings.push(JSON.parse(chunk.toString()) as { receiver?: string; code?: string });
        done();
      },
    }),
  );
  const edge = await startTestEdge({ configDir, logger });
  try {
    const view = await edge.api<{ owner: string }>('GET', '/log-receivers/siem-tls');
    assert.equal(view.body.owner, 'document:logs.yaml');
    edge.logs.publish('audit', {
      time: '2030-01-01T00:00:00.000Z',
      actor: 'admin',
      action: 'update',
      object_kind: 'pool',
      object_name: 'web',
      outcome: 'ok',
      source: 'api',
      detail: 'nodes: "a", "b"\nweight 2',
    });
    edge.logs.publish('connector_status', { action: 'tunnel_up' }); // not subscribed
    const expected =
      'time,actor,action,object_kind,object_name,outcome,source,detail\n' +
      '2030-01-01T00:00:00.000Z,admin,update,pool,web,ok,api,"nodes: ""a"", ""b""\nweight 2"\n';
    await eventually(
      () => receiver.received.get(1) === expected,
      `the CSV stream (got ${JSON.stringify(receiver.received.get(1))})`,
      10_000,
    );
    await eventually(
      () =>
        warnings.some(
          (w) =>
            w.receiver === 'siem-wrong-name' && w.code === 'POSTERN_ERR_LOG_RECEIVER_UNREACHABLE',
        ),
      'the refused handshake to be reported',
      10_000,
    );
    assert.equal(edge.logs.status().find((s) => s.name === 'siem-wrong-name')?.connected, false);
  } finally {
    await edge.stop();
    await receiver.kill();
  }
});

test('connector status and metrics records reach a receiver from a real connector', async () => {
  const receiver = await startReceiverProcess();
  const edge = await startTestEdge({ logMetricsIntervalMs: 200 });
  try {
    const created = await edge.api('POST', '/log-receivers', {
      name: 'connectors',
      address: `127.0.0.1:${receiver.port}`,
      log_types: ['connector_status', 'connector_metrics'],
      filters: { connector_groups: ['site-a'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await eventually(() => edge.logs.status()[0]?.connected, 'the receiver connected', 10_000);
    const key = await edge.createKey('site-a');
    const connector = await startTestConnector({ provisionKey: key.value });
    const id = connector.identity!.connectorId;
    await eventually(
      () =>
        jsonLines(receiver).some((l) => l.type === 'connector_metrics' && l.connector_id === id),
      'a connector_metrics record',
      10_000,
    );
    await connector.stop({ drainTimeoutMs: 100 });
    await eventually(
      () => jsonLines(receiver).some((l) => l.action === 'tunnel_down' && l.connector_id === id),
      'the tunnel_down record',
      10_000,
    );
    const actions = jsonLines(receiver)
      .filter((l) => l.type === 'connector_status' && l.connector_id === id)
      .map((l) => l.action);
    assert.deepEqual(actions, ['enroll', 'tunnel_up', 'drain', 'tunnel_down']);
  } finally {
    await edge.stop();
    await receiver.kill();
  }
});

test('a broken log receiver in a document is rejected with file, line and reason', async () => {
  const configDir = await tempDir('postern-logs-bad-');
  await writeFile(
    join(configDir, 'logs.yaml'),
    [
      'version: 1',
      'log_receivers:',
      '  - name: siem',
      '    address: siem.example.com',
      '    format: csv',
      '    log_types: [audit, user_status]',
      '',
    ].join('\n'),
  );
  await assert.rejects(startTestEdge({ configDir }), (err: { code: string; message: string }) => {
    assert.equal(err.code, 'POSTERN_ERR_CONFIG_INVALID');
    assert.match(err.message, /logs\.yaml:4/);
    assert.match(err.message, /address/);
    assert.match(err.message, /port is missing/);
    // Every problem at once: the csv rule too, with its own line.
    assert.match(err.message, /logs\.yaml:6/);
    assert.match(err.message, /csv receiver takes exactly one log type/);
    return true;
  });
  const edge = await startTestEdge();
  try {
    const res = await edge.api<{ error: { code: string; message: string } }>(
      'POST',
      '/log-receivers',
      {
        name: 'siem',
        address: '127.0.0.1:6514',
        format: 'csv',
        log_types: ['audit', 'user_status'],
      },
    );
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /csv receiver takes exactly one log type/);
    // A client key given through the API never comes back out.
    const pair = await createSelfSignedCert();
    const mtls = await edge.api('POST', '/log-receivers', {
      name: 'siem-mtls',
      address: '127.0.0.1:6514',
      transport: 'tls',
      tls: { cert: pair.cert, key: pair.key },
    });
    assert.equal(mtls.status, 201, JSON.stringify(mtls.body));
    const view = await edge.api<{ tls: { key: string; cert: string } }>(
      'GET',
      '/log-receivers/siem-mtls',
    );
    assert.equal(view.body.tls.key, '[redacted]');
    assert.equal(view.body.tls.cert, pair.cert);
  } finally {
    await edge.stop();
  }
});
