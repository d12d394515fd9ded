import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserTokenAuthority } from '../../src/control/index.js';
import { startTestEdge, tempDir } from '../harness/harness.js';

interface IdpView {
  name: string;
  issuer: string;
  client_secret?: string;
  owner: string;
}

test('identity providers are managed through the admin API and never show their secret', async () => {
  const edge = await startTestEdge();
  try {
    const created = await edge.api<IdpView>('POST', '/identity-providers', {
      name: 'corp',
      issuer: 'https://login.example.com',
      client_id: 'postern',
      client_secret: 'super-secret-value',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.client_secret, '[redacted]');
    const listed = await edge.api<{ items: IdpView[] }>('GET', '/identity-providers');
    assert.deepEqual(
      listed.body.items.map((i) => [i.name, i.client_secret]),
      [['corp', '[redacted]']],
    );
    assert.ok(!JSON.stringify(listed.body).includes('super-secret-value'));

    // Sending the view back (with the placeholder) changes the issuer and keeps the secret.
    const put = await edge.api<IdpView>('PUT', '/identity-providers/corp', {
      name: 'corp',
      issuer: 'https://login2.example.com',
      client_id: 'postern',
      client_secret: created.body.client_secret,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const stored = await edge.store.objects.get('identity_provider', 'corp');
    assert.equal((stored?.spec as { client_secret?: string }).client_secret, 'super-secret-value');
    assert.equal((stored?.spec as { issuer?: string }).issuer, 'https://login2.example.com');
    assert.equal(edge.runtime.config.identity_providers?.[0]?.issuer, 'https://login2.example.com');

    const bad = await edge.api('POST', '/virtual-servers', {
      name: 'wiki',
      protocol: 'http',
      listen: '127.0.0.1:0',
      pool: 'none',
      access: { identity_provider: 'corp' },
    });
    assert.equal(bad.status, 400);
  } finally {
    await edge.stop();
  }
});

test('the JWK set is on the admin listener without a token, from the data dir key', async () => {
  const edge = await startTestEdge();
  try {
    const res = await fetch(`${edge.adminUrl}/api/v1/jwks.json`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), edge.tokenAuthority.jwks());
  } finally {
    await edge.stop();
  }
});

test('--token-signing-key makes edges share one key, so their tokens verify on each other', async () => {
  const dir = await tempDir('postern-signing-');
  const keyFile = join(dir, 'shared-key.pem');
  await writeFile(keyFile, UserTokenAuthority.generatePem(), { mode: 0o600 });
  const a = await startTestEdge({ tokenSigningKey: keyFile });
  const b = await startTestEdge({ tokenSigningKey: keyFile });
  try {
    assert.deepEqual(a.tokenAuthority.jwks(), b.tokenAuthority.jwks());
    const { token } = await a.tokenAuthority.issue(
      { subject: 'alice', groups: ['eng'], idp: 'corp' },
      { audience: 'postern:cli', ttlMs: 60_000 },
    );
    const verified = await b.tokenAuthority.verify(token, { audience: 'postern:cli' });
    assert.equal(verified.identity.subject, 'alice');
    await assert.rejects(startTestEdge({ tokenSigningKey: join(dir, 'missing.pem') }), {
      code: 'POSTERN_ERR_SIGNING_KEY_INVALID',
    });
  } finally {
    await a.stop();
    await b.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
