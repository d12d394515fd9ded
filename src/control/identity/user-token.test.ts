import test from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { FakeClock } from '../../core/index.js';
import { CLI_AUDIENCE, UserTokenAuthority } from './user-token.js';

const alice = { subject: 'u-1', email: 'alice@example.com', groups: ['eng', 'ops'], idp: 'corp' };

test('a token issued for the CLI verifies back to the same identity', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'https://edge.example',
    clock,
  });
  const { token, expiresAt } = await authority.issue(alice, {
    audience: CLI_AUDIENCE,
    ttlMs: 3600_000,
  });
  assert.equal(expiresAt, Date.UTC(2026, 0, 1) + 3600_000);
  const verified = await authority.verify(token, { audience: CLI_AUDIENCE });
  assert.deepEqual(verified.identity, { ...alice, name: undefined });
  assert.equal(verified.expiresAt, expiresAt);
});

test('an expired token is refused with POSTERN_ERR_TOKEN_EXPIRED and a re-login hint', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'https://edge.example',
    clock,
    clockToleranceMs: 0,
  });
  const { token } = await authority.issue(alice, { audience: CLI_AUDIENCE, ttlMs: 60_000 });
  clock.advance(61_000);
  await assert.rejects(
    authority.verify(token, { audience: CLI_AUDIENCE }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'POSTERN_ERR_TOKEN_EXPIRED');
      assert.match(err.message, /postern login/);
      return true;
    },
  );
});

test('a token for another audience, issuer or key is invalid', async () => {
  const pem = UserTokenAuthority.generatePem();
  const a = await UserTokenAuthority.fromPem(pem, { issuer: 'https://a' });
  const b = await UserTokenAuthority.fromPem(pem, { issuer: 'https://b' });
  const other = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'https://a',
  });
  const { token } = await a.issue(alice, { audience: 'app:wiki', ttlMs: 60_000 });
  for (const [authority, audience] of [
    [a, CLI_AUDIENCE],
    [b, 'app:wiki'],
    [other, 'app:wiki'],
  ] as const) {
    await assert.rejects(authority.verify(token, { audience }), {
      code: 'POSTERN_ERR_TOKEN_INVALID',
    });
  }
  await assert.rejects(a.verify('', { audience: 'app:wiki' }), {
    code: 'POSTERN_ERR_TOKEN_MISSING',
  });
  await assert.rejects(a.verify('not.a.jwt', { audience: 'app:wiki' }), {
    code: 'POSTERN_ERR_TOKEN_INVALID',
  });
});

test('an application verifies an assertion with the published JWK set alone', async () => {
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'https://edge.example',
  });
  const { token } = await authority.issue(alice, { audience: 'app:wiki', ttlMs: 60_000 });
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(authority.jwks()), {
    issuer: 'https://edge.example',
    audience: 'app:wiki',
  });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(payload.sub, 'u-1');
  assert.deepEqual(payload.groups, ['eng', 'ops']);
  assert.equal(authority.jwks().keys[0]?.d, undefined, 'the JWK set carries no private part');
});

test('a key that is not a P-256 private key is refused with a fix', async () => {
  await assert.rejects(
    UserTokenAuthority.fromPem('garbage', { issuer: 'x', source: '/data/token-signing-key.pem' }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'POSTERN_ERR_SIGNING_KEY_INVALID');
      assert.match(err.message, /token-signing-key\.pem/);
      return true;
    },
  );
});

test('a derived key is the same for the same signing key, and differs per label and per key', async () => {
  const pem = UserTokenAuthority.generatePem();
  const options = { issuer: 'https://edge' };
  const a = await UserTokenAuthority.fromPem(pem, options);
  const b = await UserTokenAuthority.fromPem(pem, options);
  const other = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), options);
  const label = 'postern pool persistence cookie';
  assert.deepEqual(a.derivedKey(label), b.derivedKey(label));
  assert.equal(a.derivedKey(label).length, 32);
  assert.notDeepEqual(a.derivedKey(label), a.derivedKey('another purpose'));
  assert.notDeepEqual(a.derivedKey(label), other.derivedKey(label));
});
