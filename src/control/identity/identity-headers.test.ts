// Browser access end to end on real sockets: what the application behind a virtual server
// receives, and what a visitor is told when a login cannot start.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Configuration, IdentityProvider, VirtualServer } from '../../config/index.js';
import { FakeClock } from '../../core/index.js';
import {
  DirectDialer,
  HttpVirtualServer,
  Pool,
  type AccessGate,
  type AccessGateRequest,
  type AccessGateResult,
} from '../../traffic/index.js';
import { BrowserAccess } from './browser-access.js';
import { identityErrors } from './errors.js';
import type { AuthorizationChecks, OidcClient } from './oidc-client.js';
import { UserTokenAuthority } from './user-token.js';
import { exchange, rawNode, values } from '../../../test/harness/raw-http.js';

/** Stands in for the provider: the code names the user. */
const provider = {
  authorizationUrl: (checks: AuthorizationChecks) =>
    Promise.resolve(new URL(`https://idp.example/authorize?state=${checks.state}`)),
  redeem: () =>
    Promise.resolve({ subject: 'alice', email: 'alice@corp', groups: ['eng'], idp: 'corp' }),
} as unknown as OidcClient;

function server(name: string, access?: Record<string, unknown>): VirtualServer {
  return { name, protocol: 'https', access } as unknown as VirtualServer;
}

const required = server('wiki', {
  login: 'required',
  identity_provider: 'corp',
  idle_timeout_ms: 1_800_000,
  reauthentication_timeout_ms: 86_400_000,
  identity_headers: true,
  assertion: true,
});

const config = {
  identity_providers: [{ name: 'corp' } as IdentityProvider],
  access_policies: [{ name: 'eng', action: 'allow', conditions: { groups: ['eng'] } }],
} as unknown as Configuration;

function request(target: string, cookie?: string): AccessGateRequest {
  return {
    virtualServer: 'wiki',
    method: 'GET',
    target,
    host: 'wiki.example',
    headers: cookie === undefined ? {} : { cookie },
    clientIp: '127.0.0.1',
  };
}

function responded(result: AccessGateResult) {
  assert.ok('respond' in result, `expected a response, got ${JSON.stringify(result)}`);
  return result.respond;
}

function setCookies(result: AccessGateResult): string[] {
  const value = responded(result).headers?.['set-cookie'];
  return value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
}

/** Logs alice in through the gate's own pages; returns her session cookie (`name=value`). */
async function logIn(gate: AccessGate): Promise<string> {
  const start = await gate.check(request('/'));
  const state = new URL(String(responded(start).headers?.['location'])).searchParams.get('state');
  const loginCookie = setCookies(start)[0]?.split(';')[0] ?? '';
  const back = await gate.check(
    request(`/.postern/auth/callback?code=a&state=${state}`, loginCookie),
  );
  const session = setCookies(back).find((c) => c.startsWith('__Host-postern-session-'));
  return session?.split(';')[0] ?? '';
}

const FORGED =
  'X-Postern-User: ceo@corp\r\nX-Postern-Groups: admins\r\nX-Postern-Email: ceo@corp\r\n' +
  'X-Postern-Assertion: forged\r\nX-Postern-Role: admin\r\n';

describe('what the application receives behind browser access', () => {
  let access: BrowserAccess;
  let node: Awaited<ReturnType<typeof rawNode>>;
  before(async () => {
    const clock = new FakeClock(Date.now());
    const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
      issuer: 'postern-edge',
      clock,
    });
    access = new BrowserAccess({ authority, clock, discover: () => Promise.resolve(provider) });
    node = await rawNode();
  });
  after(async () => {
    access.close();
    await node.close();
  });

  async function through(vs: VirtualServer, headers: string): Promise<string> {
    const proxy = new HttpVirtualServer({
      name: vs.name,
      protocol: 'http',
      listen: { host: '127.0.0.1', port: 0 },
      pool: new Pool({ name: 'p', nodes: [{ address: node.address, weight: 1, state: 'active' }] }),
      dialer: new DirectDialer(),
      gate: access.gateFor(vs, config),
    });
    await proxy.start();
    try {
      const before = node.heads.length;
      const answer = await exchange(
        proxy.address().port,
        `GET /page HTTP/1.1\r\nHost: wiki.example\r\n${headers}Connection: close\r\n\r\n`,
      );
      assert.match(answer, /^HTTP\/1\.1 200 /, answer);
      assert.equal(node.heads.length, before + 1);
      return node.heads[before] ?? '';
    } finally {
      await proxy.close({ drainTimeoutMs: 500 });
    }
  }

  test('login required: an allowed user arrives with the gate values only, without Postern cookies', async () => {
    const gate = access.gateFor(required, config) as AccessGate;
    const session = await logIn(gate);
    const head = await through(required, `${FORGED}Cookie: theme=dark; ${session}; lang=en\r\n`);
    assert.deepEqual(values(head, 'x-postern-user'), ['alice@corp']);
    assert.deepEqual(values(head, 'x-postern-email'), ['alice@corp']);
    assert.deepEqual(values(head, 'x-postern-groups'), ['eng']);
    assert.deepEqual(values(head, 'x-postern-role'), []);
    const assertion = values(head, 'x-postern-assertion');
    assert.equal(assertion.length, 1);
    assert.match(
      assertion[0] ?? '',
      /^ey[\w-]+\.[\w-]+\.[\w-]+$/,
      'a signed assertion, not forged',
    );
    assert.deepEqual(values(head, 'cookie'), ['theme=dark; lang=en']);
  });

  for (const [label, vs] of [
    ['login: none', server('public', { login: 'none' })],
    ['no access settings', server('plain')],
  ] as const) {
    test(`${label}: forged identity headers and Postern cookies do not arrive`, async () => {
      const head = await through(
        vs,
        `${FORGED}Cookie: __Host-postern-session=SESSIONSECRET; other=1\r\n`,
      );
      assert.doesNotMatch(head, /x-postern-/i, head);
      assert.doesNotMatch(head, /SESSIONSECRET/);
      assert.deepEqual(values(head, 'cookie'), ['other=1']);
    });
  }
});

test('a login that cannot start shows the visitor a reference, and the log the detail', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const clock = new FakeClock(Date.now());
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'postern-edge',
    clock,
  });
  const access = new BrowserAccess({
    authority,
    clock,
    logger: pino({ level: 'info' }, sink),
    discover: () => Promise.reject(identityErrors.idpUnavailable('corp', 'http://10.1.2.3:18999')),
  });
  try {
    const gate = access.gateFor(required, config) as AccessGate;
    const page = responded(await gate.check(request('/x')));
    assert.equal(page.status, 502);
    const body = page.body ?? '';
    assert.doesNotMatch(body, /10\.1\.2\.3|18999|issuer|network access/i, body);
    assert.match(body, /POSTERN_ERR_IDP_UNAVAILABLE/);
    const reference = /reference: <code>([0-9a-f-]{36})<\/code>/.exec(body)?.[1];
    assert.ok(reference, body);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const entry = logged.find((l) => l['reference'] === reference);
    assert.ok(entry, `a log line carries the reference: ${lines.join('')}`);
    assert.equal(entry['msg'], 'login failed');
    assert.match(JSON.stringify(entry['err']), /10\.1\.2\.3:18999/);
  } finally {
    access.close();
  }
});
