// Open connections are re-checked: a real edge with an access listener and an https virtual
// server that requires login, a real connector, a TCP echo app and a tiny WebSocket-style app.
// Removing an access policy or disabling an application cuts the open `postern tcp` sessions
// and WebSockets it no longer allows (close reason `access_revoked`) and keeps the others; a
// logout ends the WebSockets opened with that session at once, and a session ended otherwise (a
// logout elsewhere, a revocation) within a couple of seconds, not at the 30 s full re-check.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { PassThrough } from 'node:stream';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { UserIdentity } from '../../src/control/index.js';
import { eventually, freePort } from '../harness/harness.js';
import { echoOnce } from '../harness/echo-once.js';
import { createSelfSignedCert } from '../support/tls-cert.js';
import { startAccessLab, type AccessLab } from './support/access-lab.js';

const GROUP = 'recheck-site';
const VS = 'recheck-web';
const SESSION_COOKIE = `__Host-postern-session-${VS}`;
const alice: UserIdentity = {
  subject: 'u-alice',
  email: 'alice@example.com',
  groups: ['eng'],
  idp: 'corp',
};
const olga: UserIdentity = {
  subject: 'u-olga',
  email: 'olga@example.com',
  groups: ['ops'],
  idp: 'corp',
};

interface LogLine {
  msg: string;
  request?: { virtualServer: string; closeReason: string; upgrade?: boolean };
}

/** Resolves when `socket` closes, rejects after `ms`: a connection never cut fails the test. */
function closedWithin(socket: Duplex, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) {
      resolve();
      return;
    }
    const timer = setTimeout(() => reject(new Error(`${what} stayed open for ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** An app that answers every Upgrade with 101 and then echoes bytes (as a WebSocket app would). */
async function startUpgradeEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.end('plain\n'));
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade ?? ''}\r\n\r\n`,
    );
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Opens an upgraded connection through the virtual server with a session cookie. */
function openUpgrade(port: number, secret: string, timeoutMs = 5000): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no 101 within ${timeoutMs} ms`));
    }, timeoutMs);
    let answer = '';
    const onData = (chunk: Buffer): void => {
      answer += chunk.toString('latin1');
      const end = answer.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      if (!answer.startsWith('HTTP/1.1 101')) {
        socket.destroy();
        reject(new Error(`refused: ${answer.slice(0, end)}`));
        return;
      }
      resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(
      [
        'GET /live HTTP/1.1',
        `Host: localhost:${port}`,
        'Connection: Upgrade',
        'Upgrade: websocket',
        `Cookie: ${SESSION_COOKIE}=${secret}`,
        '',
        '',
      ].join('\r\n'),
    );
  });
}

/** A GET through the virtual server with a session cookie; resolves with the status. */
function getWithCookie(port: number, path: string, secret: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: { host: `localhost:${port}`, cookie: `${SESSION_COOKIE}=${secret}` },
        createConnection: () =>
          tls.connect({
            host: '127.0.0.1',
            port,
            servername: 'localhost',
            rejectUnauthorized: false,
          }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** A request through the virtual server with a session cookie; resolves with status and body. */
function sendWithCookie(
  port: number,
  path: string,
  secret: string,
  options: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: {
          host: `localhost:${port}`,
          cookie: `${SESSION_COOKIE}=${secret}`,
          ...options.headers,
        },
        createConnection: () =>
          tls.connect({
            host: '127.0.0.1',
            port,
            servername: 'localhost',
            rejectUnauthorized: false,
          }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Logs out as the logout page's button does: its form, POSTed from the same origin. */
async function logOut(port: number, secret: string): Promise<number> {
  const page = await sendWithCookie(port, '/.postern/auth/logout', secret);
  const csrf = /name="csrf" value="([^"]*)"/.exec(page.body)?.[1] ?? '';
  const done = await sendWithCookie(port, '/.postern/auth/logout', secret, {
    method: 'POST',
    body: new URLSearchParams({ csrf }).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: `https://localhost:${port}`,
    },
  });
  return done.status;
}

describe('open access connections are re-checked', { timeout: 120_000 }, () => {
  let lab: AccessLab;
  let app: Awaited<ReturnType<typeof startUpgradeEcho>>;
  let vsPort: number;
  const lines: LogLine[] = [];

  const api = async (method: string, path: string, body?: unknown): Promise<void> => {
    const res = await lab.edge.api(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  const requestEnds = (reason: string): LogLine[] =>
    lines.filter(
      (l) =>
        l.msg === 'request ended' &&
        l.request?.virtualServer === VS &&
        l.request.closeReason === reason,
    );

  before(async () => {
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => {
      for (const line of c.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as LogLine);
    });
    // No access document: the applications and policies below are made through the admin API.
    lab = await startAccessLab({
      group: GROUP,
      document: null,
      edge: { logger: pino({ level: 'info' }, sink) },
    });
    app = await startUpgradeEcho();
    const cert = await createSelfSignedCert();
    vsPort = await freePort();
    await api('POST', '/identity-providers', {
      name: 'corp',
      issuer: 'https://login.example.com',
      client_id: 'postern',
    });
    await api('POST', '/certificates', { name: 'recheck-cert', cert: cert.cert, key: cert.key });
    await api('POST', '/pools', {
      name: VS,
      via: GROUP,
      nodes: [{ address: `127.0.0.1:${app.port}` }],
    });
    await api('POST', '/virtual-servers', {
      name: VS,
      protocol: 'https',
      listen: `127.0.0.1:${vsPort}`,
      pool: VS,
      tls: { certificates: ['recheck-cert'] },
      access: { identity_provider: 'corp' },
    });
    await api('POST', '/applications', {
      name: 'echo',
      cidrs: ['127.0.0.1/32'],
      ports: [String(lab.echo.port)],
      connector_groups: [GROUP],
    });
    for (const group of ['eng', 'ops']) {
      await api('POST', '/access-policies', {
        name: `${group}-tcp`,
        action: 'allow',
        conditions: { groups: [group], client_types: ['tcp_client'] },
      });
      await api('POST', '/access-policies', {
        name: `${group}-web`,
        action: 'allow',
        conditions: { groups: [group], virtual_servers: [VS] },
      });
    }
  });

  after(async () => {
    await lab?.close();
    await app?.close();
  });

  const tunnel = async (who: UserIdentity): Promise<tls.TLSSocket> => {
    const { token } = await lab.issueToken(who);
    const socket = await eventually(
      () => lab.openTunnel(token),
      `a tunnel for ${who.email}`,
      10_000,
    );
    socket.on('error', () => undefined);
    return socket;
  };

  it('cuts postern tcp sessions whose policy was removed, records access_revoked, keeps the others', async () => {
    const cut = await tunnel(alice);
    const kept = await tunnel(olga);
    assert.equal(await echoOnce(cut, 'alice before'), 'alice before');
    assert.equal(await echoOnce(kept, 'olga before'), 'olga before');

    await api('DELETE', '/access-policies/eng-tcp');
    await closedWithin(cut, 10_000, "alice's session");
    const ended = await eventually(async () => {
      const items = await lab.activity();
      return items.find((i) => i.kind === 'session_end' && i.user === alice.email);
    }, "alice's session end");
    assert.ok(ended);
    assert.equal(ended.close_reason, 'access_revoked');
    assert.match(ended.reason ?? '', /no rule|denied|allow/i);
    assert.equal(await echoOnce(kept, 'olga after'), 'olga after', 'an allowed session carries on');
    await assert.rejects(
      lab.openTunnel((await lab.issueToken(alice)).token),
      /403|denied|POSTERN_ERR_ACCESS/i,
    );
    kept.destroy();
  });

  it('cuts every postern tcp session of an application that was disabled', async () => {
    const session = await tunnel(olga);
    assert.equal(await echoOnce(session, 'olga hello'), 'olga hello');
    await api('PATCH', '/applications/echo', { enabled: false });
    try {
      await closedWithin(session, 10_000, "olga's session");
      const ended = await eventually(async () => {
        const items = await lab.activity();
        return items.filter((i) => i.kind === 'session_end' && i.user === olga.email);
      }, "olga's session ends");
      assert.ok(ended.some((i) => i.close_reason === 'access_revoked'));
    } finally {
      await api('PATCH', '/applications/echo', { enabled: true });
    }
  });

  it('closes WebSockets whose policy was removed (both sides), logs access_revoked, keeps the others', async () => {
    const aliceSecret = await lab.edge.browserAccess.pages.sessions.create(alice, VS);
    const olgaSecret = await lab.edge.browserAccess.pages.sessions.create(olga, VS);
    const cut = await eventually(
      () => openUpgrade(vsPort, aliceSecret),
      "alice's WebSocket",
      10_000,
    );
    const kept = await openUpgrade(vsPort, olgaSecret);
    cut.on('error', () => undefined);
    kept.on('error', () => undefined);
    assert.equal(await echoOnce(cut, 'alice ws'), 'alice ws');
    assert.equal(await echoOnce(kept, 'olga ws'), 'olga ws');

    await api('DELETE', '/access-policies/eng-web');
    await closedWithin(cut, 10_000, "alice's WebSocket");
    await eventually(() => requestEnds('access_revoked').length === 1, 'the request record');
    assert.equal(requestEnds('access_revoked')[0]!.request!.upgrade, true);
    assert.ok(lines.some((l) => l.msg === 'upgraded connection cut by access check'));
    assert.equal(await echoOnce(kept, 'olga ws after'), 'olga ws after');
    // A new request with the same session gets the deny page, as the open one was told.
    assert.equal(await getWithCookie(vsPort, '/page', aliceSecret), 403);
    kept.destroy();
  });

  /** Two sessions of olga's, each with an open WebSocket: `ws` (of `secret`) and `kept`. */
  async function twoSessionsWithWebSockets(): Promise<{
    secret: string;
    ws: Duplex;
    kept: Duplex;
  }> {
    const secret = await lab.edge.browserAccess.pages.sessions.create(olga, VS);
    const other = await lab.edge.browserAccess.pages.sessions.create(olga, VS);
    const ws = await openUpgrade(vsPort, secret);
    const kept = await openUpgrade(vsPort, other);
    ws.on('error', () => undefined);
    kept.on('error', () => undefined);
    return { secret, ws, kept };
  }

  it('a logout through the virtual server closes the WebSockets of that session at once', async () => {
    const { secret, ws, kept } = await twoSessionsWithWebSockets();
    assert.equal(await echoOnce(ws, 'before logout'), 'before logout');
    const before = requestEnds('session_ended').length;
    assert.equal(await logOut(vsPort, secret), 200);
    await closedWithin(ws, 2000, 'the WebSocket of the logged-out session');
    await eventually(() => requestEnds('session_ended').length === before + 1, 'the record');
    assert.equal(await echoOnce(kept, 'other session'), 'other session');
    kept.destroy();
  });

  it('revoking a user ends their browser sessions, CLI tokens, postern tcp sessions and WebSockets; a new login works', async () => {
    const rita: UserIdentity = {
      subject: 'u-rita',
      email: 'rita@example.com',
      groups: ['ops'],
      idp: 'corp',
    };
    const sessions = lab.edge.browserAccess.pages.sessions;
    const secret = await sessions.create(rita, VS);
    const olgaSecret = await sessions.create(olga, VS);
    const ws = await eventually(() => openUpgrade(vsPort, secret), "rita's WebSocket", 10_000);
    ws.on('error', () => undefined);
    assert.equal(await echoOnce(ws, 'rita ws'), 'rita ws');
    const tcp = await tunnel(rita);
    const keptTcp = await tunnel(olga);
    assert.equal(await echoOnce(tcp, 'rita tcp'), 'rita tcp');
    const { token } = await lab.issueToken(rita);
    // A POST without a session gets 401 at once (a GET would start a login at the provider).
    const post = (cookie: string) => sendWithCookie(vsPort, '/page', cookie, { method: 'POST' });
    assert.equal((await post(secret)).status, 200);
    const wsCutsBefore = requestEnds('access_revoked').length;

    // Only an admin may revoke: an operator token is refused.
    const operator = await lab.edge.api<{ secret: string }>('POST', '/admin-tokens', {
      name: 'revoke-operator',
      role: 'operator',
    });
    const denied = await fetch(`${lab.edge.adminUrl}/api/v1/user-revocations`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${operator.body.secret}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ identity_provider: 'corp', subject: 'u-rita' }),
    });
    assert.equal(denied.status, 403);
    assert.equal((await post(secret)).status, 200, 'the refused call revoked nothing');

    const revoked = await lab.edge.api<{
      name: string;
      sessions_ended: number;
      not_before: string;
    }>('POST', '/user-revocations', { identity_provider: 'corp', subject: 'u-rita' });
    assert.equal(revoked.status, 201, JSON.stringify(revoked.body));
    assert.equal(revoked.body.name, 'corp:u-rita');
    assert.equal(revoked.body.sessions_ended, 1);
    const notBefore = Date.parse(revoked.body.not_before);

    // The open postern tcp session is cut within the access proxy's re-check interval (1 s).
    await closedWithin(tcp, 10_000, "rita's postern tcp session");
    const ended = await eventually(async () => {
      const items = await lab.activity();
      return items.find((i) => i.kind === 'session_end' && i.user === rita.email);
    }, "rita's session end");
    assert.ok(ended);
    assert.equal(ended.close_reason, 'access_revoked');
    assert.match(ended.reason ?? '', /revoked/);
    // The session cookie and the CLI token no longer work.
    assert.equal((await post(secret)).status, 401);
    await assert.rejects(lab.openTunnel(token), /POSTERN_ERR_LOGIN_REQUIRED|revoked/);
    // Other users keep everything.
    assert.equal(await echoOnce(keptTcp, 'olga tcp'), 'olga tcp');
    assert.equal((await post(olgaSecret)).status, 200);
    // The WebSocket goes as promptly as the tcp session (the session end is announced), not at
    // the 30 s full re-check, as access_revoked.
    await closedWithin(ws, 5000, "rita's WebSocket");
    await eventually(
      () => requestEnds('access_revoked').length === wsCutsBefore + 1,
      'the WebSocket record',
    );

    // A new login works again. Token times are whole seconds: wait for the next one.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, notBefore + 1100 - Date.now())));
    const again = await sessions.create(rita, VS);
    assert.equal((await post(again)).status, 200);
    const fresh = await tunnel(rita);
    assert.equal(await echoOnce(fresh, 'rita again'), 'rita again');
    fresh.destroy();
    keptTcp.destroy();

    // Audited, and readable by its name.
    const audit = await lab.edge.api<{ items: { kind: string; name?: string; outcome: string }[] }>(
      'GET',
      '/audit-log?kind=user_revocation',
    );
    assert.deepEqual(
      audit.body.items.filter((r) => r.outcome === 'success').map((r) => r.name),
      ['corp:u-rita'],
    );
    const read = await lab.edge.api<{ subject: string }>('GET', '/user-revocations/corp:u-rita');
    assert.equal(read.body.subject, 'u-rita');
  });

  it('ends a WebSocket within seconds (not at the 30 s re-check) after its session ended elsewhere', async () => {
    const { secret, ws, kept } = await twoSessionsWithWebSockets();
    assert.equal(await echoOnce(ws, 'before the end'), 'before the end');
    const before = requestEnds('session_ended').length;
    // As a logout on another edge, or a timeout, does: the session leaves the store.
    await lab.edge.browserAccess.pages.sessions.end(secret);
    const endedAt = Date.now();
    await closedWithin(ws, 5000, 'the WebSocket of the ended session');
    assert.ok(Date.now() - endedAt <= 5000, 'well within the 30 s full re-check');
    await eventually(() => requestEnds('session_ended').length === before + 1, 'the record');
    assert.equal(await echoOnce(kept, 'other session'), 'other session');
    kept.destroy();
  });
});
