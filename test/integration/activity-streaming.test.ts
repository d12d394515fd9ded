// User activity and audit records reach a log receiver: a real edge with an access listener and
// a connector, a TCP line receiver on loopback, a user session through the access proxy.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { eventually } from '../harness/harness.js';
import { startAccessLab } from './support/access-lab.js';

type LogLine = Record<string, unknown>;

async function startLineReceiver(): Promise<{ port: number; lines: LogLine[]; close(): void }> {
  const lines: LogLine[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let rest = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) if (line) lines.push(JSON.parse(line) as LogLine);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    lines,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test(
  'a user session and an admin change are streamed as user_activity and audit records',
  { timeout: 60_000 },
  async (t) => {
    const receiver = await startLineReceiver();
    t.after(() => receiver.close());
    // No access document: the application and its policy are made through the admin API below.
    const lab = await startAccessLab({ group: 'stream-site', document: null });
    t.after(() => lab.close());
    const { edge, echo } = lab;

    const created = await edge.api('POST', '/log-receivers', {
      name: 'siem',
      address: `127.0.0.1:${receiver.port}`,
      log_types: ['user_activity', 'audit'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await edge.api('POST', '/applications', {
      name: 'echo',
      cidrs: ['127.0.0.1/32'],
      ports: [String(echo.port)],
      connector_groups: ['stream-site'],
    });
    await edge.api('POST', '/access-policies', {
      name: 'alice-may-echo',
      action: 'allow',
      conditions: { users: ['alice@example.com'], applications: ['echo'] },
    });
    // The connector learns the application as a target over its control stream.
    const { token } = await lab.issueToken({
      subject: 'u-alice',
      email: 'alice@example.com',
      groups: ['eng'],
      idp: 'corp',
    });
    const socket = await eventually(
      () => lab.openTunnel(token),
      'the access proxy lets alice reach the echo app',
      10_000,
    );
    const echoed = await new Promise<string>((resolve, reject) => {
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => {
        text += c;
        if (text === 'ping') socket.end();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write('ping');
    });
    assert.equal(echoed, 'ping');

    await eventually(
      () => {
        const activity = receiver.lines.filter((l) => l.type === 'user_activity');
        const allow = activity.find((l) => l.action === 'allow' && l.user === 'alice@example.com');
        const end = activity.find((l) => l.action === 'session_end');
        assert.ok(allow, `no allow record in ${JSON.stringify(activity)}`);
        assert.equal(allow.policy, 'alice-may-echo');
        assert.equal(allow.application, 'echo');
        assert.equal(allow.connector_group, 'stream-site');
        assert.ok(end, 'no session_end record');
        assert.equal(end.bytes_from_client, 4);
        assert.equal(end.bytes_to_client, 4);
        assert.equal(end.connector_id, lab.connectorId);
        const audit = receiver.lines.find(
          (l) => l.type === 'audit' && l.object_kind === 'application' && l.object_name === 'echo',
        );
        assert.ok(
          audit,
          `no audit record for the application in ${JSON.stringify(receiver.lines)}`,
        );
        assert.equal(audit.outcome, 'success');
        assert.match(String(audit.action), /^POST \/api\/v1\/applications/);
        assert.equal(audit.source, '127.0.0.1');
        assert.ok(
          !receiver.lines.some((l) => JSON.stringify(l).includes(token)),
          'no record carries the user token',
        );
        return true;
      },
      'user_activity and audit records at the receiver',
      15_000,
    );
  },
);
