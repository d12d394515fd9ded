import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { calculatePKCECodeChallenge } from 'openid-client';
import { FakeClock } from '../../core/index.js';
import { CliLoginCodes, s256 } from './cli-login-codes.js';
import { CLI_AUDIENCE, UserTokenAuthority } from './user-token.js';

const ALICE = { subject: 'alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };

async function setUp(tokenTtlMs?: number) {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'postern-edge',
    clock,
  });
  const codes = new CliLoginCodes({ authority, tokenTtlMs });
  const verifier = randomBytes(32).toString('base64url');
  return { clock, authority, codes, verifier, challenge: s256(verifier) };
}

test('s256 agrees with an independent PKCE implementation (openid-client)', async () => {
  for (let i = 0; i < 5; i += 1) {
    const verifier = randomBytes(32).toString('base64url');
    assert.equal(s256(verifier), await calculatePKCECodeChallenge(verifier));
  }
});

test('a code with its verifier is exchanged for a CLI token of the configured lifetime', async () => {
  const { authority, codes, verifier, challenge } = await setUp(2 * 3600_000);
  const code = await codes.issue(ALICE, challenge);
  const answer = await codes.redeem(code, verifier);
  assert.ok('token' in answer, JSON.stringify(answer));
  assert.equal(answer.user, 'alice@example.com');
  const verified = await authority.verify(answer.token, { audience: CLI_AUDIENCE });
  assert.equal(verified.identity.subject, 'alice');
  assert.deepEqual(verified.identity.groups, ['eng']);
  assert.equal(verified.expiresAt - verified.issuedAt, 2 * 3600_000);
  assert.equal(answer.expiresAt, verified.expiresAt);
});

test('a code is good once: the second exchange is refused', async () => {
  const { codes, verifier, challenge } = await setUp();
  const code = await codes.issue(ALICE, challenge);
  assert.ok('token' in (await codes.redeem(code, verifier)));
  assert.deepEqual(await codes.redeem(code, verifier), {
    error: 'invalid_grant',
    description: 'the code was already used',
  });
});

test('a code is good only with the verifier of its challenge, and a wrong one spends it', async () => {
  const { codes, verifier, challenge } = await setUp();
  const code = await codes.issue(ALICE, challenge);
  const other = randomBytes(32).toString('base64url');
  assert.deepEqual(await codes.redeem(code, other), {
    error: 'invalid_grant',
    description: 'the code_verifier does not match',
  });
  const again = await codes.redeem(code, verifier);
  assert.ok('error' in again && again.error === 'invalid_grant');
  assert.deepEqual(await codes.redeem(await codes.issue(ALICE, challenge), ''), {
    error: 'invalid_request',
    description: 'send code and code_verifier',
  });
});

test('a code expires: accepted 29 s after issue, refused 61 s after (30 s + 30 s tolerance)', async () => {
  const { clock, codes, verifier, challenge } = await setUp();
  const early = await codes.issue(ALICE, challenge);
  const late = await codes.issue(ALICE, challenge);
  clock.advance(29_000);
  assert.ok('token' in (await codes.redeem(early, verifier)));
  clock.advance(32_000);
  assert.deepEqual(await codes.redeem(late, verifier), {
    error: 'invalid_grant',
    description: 'the code is invalid or expired',
  });
});

test('a CLI token or any other signed token is not a code', async () => {
  const { authority, codes, verifier, challenge } = await setUp();
  const { token } = await authority.issue(ALICE, {
    audience: CLI_AUDIENCE,
    ttlMs: 60_000,
    claims: { cc: challenge, jti: 'x'.repeat(22) },
  });
  const answer = await codes.redeem(token, verifier);
  assert.ok('error' in answer && answer.error === 'invalid_grant');
});
