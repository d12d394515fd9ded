import { createPrivateKey } from 'node:crypto';
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  mergeDocuments,
  parseDocument,
  validateConfiguration,
  type Configuration,
} from '../config/index.js';
import { SignJWT } from 'jose';
import { CLI_AUDIENCE, UserTokenAuthority } from '../control/index.js';
import { AccessAuthorizer, bearerToken, parseConnectTarget } from './access-authorizer.js';
import { applicationTargets } from './application-targets.js';

const config: Configuration = validateConfiguration(
  mergeDocuments([
    parseDocument(
      [
        'version: 1',
        'connector_groups: [{name: dc}, {name: lab}]',
        'applications:',
        '  - {name: corp, domains: ["*.corp.internal"], ports: ["1-65535"], connector_groups: [dc]}',
        '  - {name: db, domains: [db.corp.internal], ports: [5432], connector_groups: [dc]}',
        '  - {name: lab-net, cidrs: [10.9.0.0/16], ports: [22, "8000-8100"], connector_groups: [lab]}',
        'access_policies:',
        '  - name: no-db-for-sales',
        '    action: deny',
        '    conditions: {groups: [sales], applications: [db]}',
        '  - name: staff',
        '    action: allow',
        '    conditions: {groups: [eng, sales], client_types: [tcp_client]}',
      ].join('\n'),
      { fileName: 'access.yaml' },
    ),
  ]),
);

async function setUp() {
  const tokens = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'e',
  });
  const authorizer = new AccessAuthorizer({ tokens, config: () => config });
  const bearer = async (groups: string[]) =>
    `Bearer ${(await tokens.issue({ subject: 's', email: 'u@x', groups, idp: 'i' }, { audience: CLI_AUDIENCE, ttlMs: 60_000 })).token}`;
  return { tokens, authorizer, bearer };
}

test('CONNECT targets are host:port with a real host name or address', () => {
  assert.deepEqual(parseConnectTarget('db.corp.internal:5432'), {
    host: 'db.corp.internal',
    port: 5432,
  });
  assert.deepEqual(parseConnectTarget('[fd00::5]:22'), { host: 'fd00::5', port: 22 });
  for (const bad of [
    'db.corp.internal',
    'db:0',
    'db:70000',
    'a b:22',
    'x/y:22',
    ':22',
    'fd00::5:22',
    '-x:1',
  ]) {
    assert.equal(parseConnectTarget(bad), undefined, bad);
  }
});

test('bearer credentials are read without case of the scheme; other schemes are not', () => {
  assert.equal(bearerToken('Bearer abc.def-_~+/='), 'abc.def-_~+/=');
  assert.equal(bearerToken('bearer  t1 '), 't1');
  assert.equal(bearerToken('Basic dXNlcjpwYXNz'), undefined);
  assert.equal(bearerToken(undefined), undefined);
  assert.equal(bearerToken('Bearer a b'), undefined);
});

test('the most specific application decides, and a deny rule names itself', async () => {
  const { authorizer, bearer } = await setUp();
  const sales = await bearer(['sales']);
  const db = await authorizer.authorize({
    target: 'db.corp.internal:5432',
    authorization: sales,
    sourceIp: '192.0.2.1',
  });
  assert.equal(db.ok, false);
  assert.ok(!db.ok);
  assert.equal(db.status, 403);
  assert.equal(db.application, 'db');
  assert.equal(db.decision?.rule, 'no-db-for-sales');
  assert.match(db.error.message, /denied by rule "no-db-for-sales"/);
  const wiki = await authorizer.authorize({
    target: 'wiki.corp.internal:443',
    authorization: sales,
    sourceIp: '192.0.2.1',
  });
  assert.ok(wiki.ok);
  assert.equal(wiki.application.name, 'corp');
  assert.equal(wiki.decision.rule, 'staff');
});

test('refusals carry the right status: 400 bad target, 407 no or bad token, 403 no application or default deny', async () => {
  const { authorizer, bearer } = await setUp();
  const eng = await bearer(['eng']);
  const ask = (target: string, authorization: string | undefined) =>
    authorizer.authorize({ target, authorization, sourceIp: '10.0.0.1' });
  const cases: [string, string | undefined, number, string][] = [
    ['nope', eng, 400, 'POSTERN_ERR_ACCESS_BAD_TARGET'],
    ['db.corp.internal:5432', undefined, 407, 'POSTERN_ERR_TOKEN_MISSING'],
    ['db.corp.internal:5432', 'Bearer x.y.z', 407, 'POSTERN_ERR_TOKEN_INVALID'],
    ['db.other.internal:5432', eng, 403, 'POSTERN_ERR_ACCESS_NO_APPLICATION'],
    ['10.9.1.1:9000', eng, 403, 'POSTERN_ERR_ACCESS_NO_APPLICATION'],
    ['10.9.1.1:8080', await bearer(['guests']), 403, 'POSTERN_ERR_ACCESS_DENIED'],
  ];
  for (const [target, auth, status, code] of cases) {
    const verdict = await ask(target, auth);
    assert.ok(!verdict.ok, target);
    assert.equal(verdict.status, status, target);
    assert.equal(verdict.error.code, code, target);
  }
  const deflt = await ask('10.9.1.1:8080', await bearer(['guests']));
  assert.ok(!deflt.ok);
  assert.match(deflt.error.message, /no access rule matched/);
});

test("a group's connectors get exactly its applications' domains and networks for each port range", () => {
  assert.deepEqual(applicationTargets('lab', config), [
    { cidr: '10.9.0.0/16', ports: [22, 22] },
    { cidr: '10.9.0.0/16', ports: [8000, 8100] },
  ]);
  assert.deepEqual(
    applicationTargets('dc', config).map((t) => `${t.host}:${t.ports.join('-')}`),
    ['*.corp.internal:1-65535', 'db.corp.internal:5432-5432'],
  );
  assert.deepEqual(applicationTargets('nobody', config), []);
});

test("an allowed verdict carries the token's expiry; a token signed without exp carries none", async () => {
  const pem = UserTokenAuthority.generatePem();
  const tokens = await UserTokenAuthority.fromPem(pem, { issuer: 'e' });
  const authorizer = new AccessAuthorizer({ tokens, config: () => config });
  const who = { subject: 's', email: 'u@x', groups: ['eng'], idp: 'i' };
  const issued = await tokens.issue(who, { audience: CLI_AUDIENCE, ttlMs: 90_000 });
  const ask = (token: string) =>
    authorizer.authorize({
      target: 'db.corp.internal:5432',
      authorization: `Bearer ${token}`,
      sourceIp: '10.0.0.1',
    });
  const verdict = await ask(issued.token);
  assert.ok(verdict.ok);
  assert.equal(verdict.expiresAt, issued.expiresAt);
  const forever = await new SignJWT({ idp: 'i', groups: ['eng'] })
    .setProtectedHeader({ alg: 'ES256', kid: tokens.jwks().keys[0]?.kid ?? '' })
    .setIssuer('e')
    .setSubject('s')
    .setAudience(CLI_AUDIENCE)
    .setIssuedAt()
    .sign(createPrivateKey(pem));
  const unbounded = await ask(forever);
  assert.ok(unbounded.ok, 'a token without exp is still accepted by the verifier');
  assert.equal(unbounded.expiresAt, undefined);
});

test('re-authorizing an open session decides under the configuration in force now', async () => {
  const { tokens } = await setUp();
  let current = config;
  const authorizer = new AccessAuthorizer({ tokens, config: () => current });
  const identity = { subject: 's', email: 'u@x', groups: ['eng'], idp: 'i' };
  const ask = { target: 'db.corp.internal:5432', authorization: undefined, sourceIp: '192.0.2.1' };
  const before = authorizer.reauthorize(ask, identity);
  assert.equal(before.ok, true);
  assert.equal(authorizer.configuration, config);

  current = { ...config, access_policies: [] };
  const revoked = authorizer.reauthorize(ask, identity);
  assert.equal(revoked.ok, false);
  assert.equal(revoked.ok ? 0 : revoked.status, 403);
  assert.equal(revoked.ok ? '' : revoked.error.code, 'POSTERN_ERR_ACCESS_DENIED');

  current = {
    ...config,
    applications: (config.applications ?? []).map((a) => ({ ...a, enabled: false })),
  };
  const gone = authorizer.reauthorize(ask, identity);
  assert.equal(gone.ok ? '' : gone.error.code, 'POSTERN_ERR_ACCESS_NO_APPLICATION');
});

test('a token issued before an admin revoked its user gets 407; one issued after is allowed', async () => {
  const tokens = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'e',
  });
  let notBefore: number | undefined;
  const asked: { idp: string; subject: string }[] = [];
  const authorizer = new AccessAuthorizer({
    tokens,
    config: () => config,
    revocations: {
      revokedSince: (user, issuedAt) => {
        asked.push({ idp: user.idp, subject: user.subject });
        return Promise.resolve(notBefore !== undefined && issuedAt < notBefore);
      },
    },
  });
  const who = { subject: 's', email: 'u@x', groups: ['eng'], idp: 'i' };
  const { token } = await tokens.issue(who, { audience: CLI_AUDIENCE, ttlMs: 60_000 });
  const ask = { target: 'db.corp.internal:5432', authorization: `Bearer ${token}`, sourceIp: '1' };
  assert.equal((await authorizer.authorize(ask)).ok, true);
  notBefore = Date.now() + 1000;
  const refused = await authorizer.authorize(ask);
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.status, 407);
  assert.equal(!refused.ok && refused.error.code, 'POSTERN_ERR_TOKEN_INVALID');
  assert.match(!refused.ok ? refused.error.message : '', /revoked/);
  assert.deepEqual(asked[0], { idp: 'i', subject: 's' });
  notBefore = Date.now() - 60_000;
  assert.equal((await authorizer.authorize(ask)).ok, true);
});
