// The edge's access proxy in-process: a real edge with an access listener, a real connector of
// the application's group, an echo app on loopback, tokens issued with the edge's signing key.
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { CLI_AUDIENCE, UserTokenAuthority } from '../../src/control/index.js';
import { DEFAULT_TOKEN_ISSUER, loadOrCreateTokenSigningKey } from '../../src/edge/index.js';
import { eventually, freePort } from '../harness/harness.js';
import { startAccessLab, type AccessLab, type ActivityRecord } from './support/access-lab.js';

const alice = { subject: 'u-alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };
const bob = { subject: 'u-bob', email: 'bob@example.com', groups: ['eng'], idp: 'corp' };
const carol = { subject: 'u-carol', email: 'carol@example.com', groups: ['sales'], idp: 'corp' };

interface Answer {
  status: number;
  head: string;
  body: string;
  closed: boolean;
}

/**
 * Sends `request` over TLS to the access port and collects the answer until the edge closes or
 * `enough` says the text is complete (then the client closes).
 */
function talk(
  port: number,
  ca: string,
  request: string,
  enough: (text: string) => boolean = () => false,
  timeoutMs = 10_000,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    let text = '';
    let closed = false;
    const finish = (): void => {
      clearTimeout(timer);
      const at = text.indexOf('\r\n\r\n');
      const head = at < 0 ? text : text.slice(0, at);
      const body = at < 0 ? '' : text.slice(at + 4);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      socket.destroy();
      resolve({ status, head, body, closed });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms; got ${JSON.stringify(text)}`));
    }, timeoutMs);
    socket.once('secureConnect', () => socket.write(request));
    socket.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      if (enough(text)) finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
  });
}

const connect = (target: string, token?: string, extra = ''): string =>
  `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n` +
  (token === undefined ? '' : `Proxy-Authorization: Bearer ${token}\r\n`) +
  `\r\n${extra}`;

describe('access proxy (CONNECT over TLS with bearer tokens)', { timeout: 60_000 }, () => {
  let lab: AccessLab;
  let closedPort: number;
  const tokens: Record<string, string> = {};

  before(async () => {
    lab = await startAccessLab({
      group: 'px-site',
      // The closed port is taken once the echo app listens, so the app cannot be given it.
      document: async (echoPort) => {
        closedPort = await freePort();
        return [
          'version: 1',
          'connector_groups: [{name: px-site}, {name: px-empty}]',
          'applications:',
          '  - name: echo',
          '    cidrs: [127.0.0.1/32]',
          `    ports: ["${echoPort}", "${closedPort}"]`,
          '    connector_groups: [px-site]',
          '  - name: stranded',
          '    cidrs: [127.0.0.2/32]',
          '    ports: ["1-65535"]',
          '    connector_groups: [px-empty]',
          'access_policies:',
          '  - name: no-bob',
          '    action: deny',
          '    conditions: {users: [bob@example.com]}',
          '  - name: eng-tcp',
          '    action: allow',
          '    conditions: {groups: [eng], client_types: [tcp_client]}',
        ];
      },
      access: { headTimeoutMs: 400 },
    });
    for (const [name, who] of Object.entries({ alice, bob, carol }))
      tokens[name] = (await lab.issueToken(who)).token;
  });

  after(() => lab?.close());

  it('carries an allowed user to the application, bytes sent right behind the CONNECT head included', async () => {
    const answer = await talk(
      lab.port,
      lab.ca,
      connect(lab.target, tokens.alice, 'early-bytes'),
      (text) => text.endsWith('early-bytes'),
    );
    assert.equal(answer.status, 200, answer.head);
    assert.equal(answer.body, 'early-bytes');
  });

  it('openTcpTunnel reaches the application and carries bytes both ways', async () => {
    const socket = await lab.openTunnel(tokens.alice!);
    const payload = Buffer.alloc(256 * 1024, 7);
    const received = await new Promise<number>((resolve) => {
      let n = 0;
      socket.on('data', (c: Buffer) => {
        n += c.length;
        if (n >= payload.length) resolve(n);
      });
      socket.write(payload);
    });
    socket.destroy();
    assert.equal(received, payload.length);
  });

  it('a client that half-closes after sending still gets the whole answer', async () => {
    const socket = await lab.openTunnel(tokens.alice!);
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.end('sent, then FIN');
    });
    socket.destroy();
    assert.equal(answer, 'sent, then FIN');
  });

  it('answers 407 with Proxy-Authenticate and the login command when the token is missing or invalid', async () => {
    for (const token of [undefined, 'not-a-token']) {
      const answer = await talk(lab.port, lab.ca, connect(lab.target, token));
      assert.equal(answer.status, 407, answer.head);
      assert.match(answer.head, /Proxy-Authenticate: Bearer realm="postern"/);
      assert.match(answer.body, new RegExp(`postern login --edge ${lab.accessUrl}`));
      assert.ok(answer.closed);
    }
  });

  it('an expired token is refused with 407 and the client says to log in again', async () => {
    const { pem } = await loadOrCreateTokenSigningKey(lab.edge.dir);
    const past = Date.now() - 2 * 3600_000;
    const old = await UserTokenAuthority.fromPem(pem, {
      issuer: DEFAULT_TOKEN_ISSUER,
      clock: { now: () => past, monotonic: () => past, setTimeout, clearTimeout } as never,
    });
    const { token } = await old.issue(alice, { audience: CLI_AUDIENCE, ttlMs: 3600_000 });
    await assert.rejects(lab.openTunnel(token), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'POSTERN_ERR_LOGIN_REQUIRED');
      assert.match(err.message, /expired/);
      assert.match(err.message, new RegExp(`log in again: postern login --edge ${lab.accessUrl}`));
      return true;
    });
  });

  it('a denied user gets 403 naming the rule; a user no rule allows gets 403 default deny', async () => {
    const denied = await talk(lab.port, lab.ca, connect(lab.target, tokens.bob));
    assert.equal(denied.status, 403);
    assert.match(denied.body, /denied by rule "no-bob"/);
    assert.match(denied.body, /POSTERN_ERR_ACCESS_DENIED/);
    const nobody = await talk(lab.port, lab.ca, connect(lab.target, tokens.carol));
    assert.equal(nobody.status, 403);
    assert.match(nobody.body, /no access rule matched, so access is denied by default/);
  });

  it('a destination no application covers gets 403 POSTERN_ERR_ACCESS_NO_APPLICATION; a bad target 400', async () => {
    const none = await talk(lab.port, lab.ca, connect('127.0.0.1:1', tokens.alice));
    assert.equal(none.status, 403);
    assert.match(
      none.body,
      /No application covers 127\.0\.0\.1:1.*POSTERN_ERR_ACCESS_NO_APPLICATION/s,
    );
    const bad = await talk(lab.port, lab.ca, connect('no-port-here', tokens.alice));
    assert.equal(bad.status, 400);
    assert.match(bad.body, /POSTERN_ERR_ACCESS_BAD_TARGET/);
  });

  it('a refused dial is 502 with the connector reason; a group without connectors is 503', async () => {
    const refused = await talk(lab.port, lab.ca, connect(`127.0.0.1:${closedPort}`, tokens.alice));
    assert.equal(refused.status, 502, refused.body);
    assert.match(refused.body, new RegExp(`connector ${lab.connectorId}`));
    assert.match(refused.body, /POSTERN_ERR_DIAL_REFUSED/);
    const stranded = await talk(lab.port, lab.ca, connect('127.0.0.2:22', tokens.alice));
    assert.equal(stranded.status, 503);
    assert.match(stranded.body, /POSTERN_ERR_NO_CONNECTOR/);
  });

  it('other methods get 405 with a hint unless the HTTP hook answers them', async () => {
    const plain = await talk(
      lab.port,
      lab.ca,
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    assert.equal(plain.status, 405);
    assert.match(plain.body, /postern tcp/);
    lab.edge.accessProxy!.onHttpRequest = async (req, res) => {
      if (req.url !== '/login') return false;
      res.end('login page');
      return Promise.resolve(true);
    };
    try {
      const login = await talk(
        lab.port,
        lab.ca,
        'GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      assert.equal(login.status, 200);
      assert.equal(login.body, 'login page');
    } finally {
      lab.edge.accessProxy!.onHttpRequest = undefined;
    }
  });

  it('a client that never finishes its head is cut after the head timeout; an oversized head gets 431', async () => {
    const started = Date.now();
    const slow = await talk(
      lab.port,
      lab.ca,
      'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n',
      undefined,
      5000,
    );
    assert.ok(slow.closed);
    assert.ok(Date.now() - started < 4000, 'cut well before the test timeout');
    assert.ok(slow.status === 408 || slow.status === 0, slow.head);
    const huge = await talk(
      lab.port,
      lab.ca,
      `CONNECT 127.0.0.1:1 HTTP/1.1\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.equal(huge.status, 431);
  });

  it('the activity log lists allow, deny and the session end with byte counts, newest first', async () => {
    const answer = await talk(
      lab.port,
      lab.ca,
      connect(lab.target, tokens.alice, 'twelve bytes'),
      (text) => text.endsWith('twelve bytes'),
    );
    assert.equal(answer.status, 200);
    const ended = await eventually(
      async () =>
        (await lab.activity()).find(
          (i) => i.kind === 'session_end' && i.bytes_from_client === 12 && i.bytes_to_client === 12,
        ),
      'a session end with 12 bytes each way',
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify({ items: await lab.activity() })}`);
    });
    assert.ok(ended);
    assert.equal(ended.user, 'alice@example.com');
    assert.equal(ended.application, 'echo');
    assert.equal(ended.rule, 'eng-tcp');
    assert.equal(ended.connector, lab.connectorId);
    assert.ok(ended.close_reason);
    const items = await lab.activity();
    const deny = items.find((i) => i.action === 'deny' && i.rule === 'no-bob');
    assert.equal(deny?.user, 'bob@example.com');
    assert.equal(deny?.status, 403);
    const allow = items.find(
      (i) => i.kind === 'decision' && i.action === 'allow' && i.status === 200,
    );
    assert.equal(allow?.destination, lab.target);
    const paged = await lab.edge.api<{ items: ActivityRecord[]; next_page_token?: string }>(
      'GET',
      '/activity?limit=2',
    );
    assert.equal(paged.body.items.length, 2);
    assert.ok(paged.body.next_page_token);
    const metrics = await (await fetch(`${lab.edge.adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      /postern_access_decisions_total\{action="deny",client_type="tcp_client"\} [1-9]/,
    );
  });

  it("the connectors of the application's group are told its networks and ports as targets", () => {
    const targets = lab.edge.runtime.configFor('px-site').targets;
    assert.deepEqual(
      targets.filter((t) => t.cidr !== undefined),
      [
        { cidr: '127.0.0.1/32', ports: [lab.echo.port, lab.echo.port] },
        { cidr: '127.0.0.1/32', ports: [closedPort, closedPort] },
      ],
    );
    assert.equal(
      lab.edge.runtime.configFor('px-empty').targets.some((t) => t.cidr === '127.0.0.1/32'),
      false,
    );
  });
});
