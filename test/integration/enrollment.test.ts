import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { once } from 'node:events';
import {
  parseProvisioningKey,
  formatProvisioningKey,
  MessageDecoder,
  encodeMessage,
} from '../../src/protocol/index.js';
import { createCertificateAuthority, loadCertificateAuthority } from '../../src/pki/index.js';
import {
  freePort,
  startTestConnector,
  startTestEdge,
  tempDir,
  type TestEdge,
} from '../harness/harness.js';

let edge: TestEdge;
before(async () => {
  edge = await startTestEdge();
});
after(async () => {
  await edge.stop();
});

async function usage(keyId: string): Promise<number> {
  const res = await edge.api<{ usage_count: number }>('GET', `/provisioning-keys/${keyId}`);
  return res.body.usage_count;
}

async function enrollFails(value: string): Promise<{ code: string; message: string }> {
  const connector = await startTestConnector({ provisionKey: value, wait: false }).then(
    () => assert.fail('enrollment should have failed'),
    (err: { code: string; message: string }) => err,
  );
  return connector;
}

test('a connector enrolls once; restarting it with the same state consumes no further key use', async () => {
  const key = await edge.createKey('site-restart', { max_usage: 3 });
  const first = await startTestConnector({ provisionKey: key.value });
  assert.equal(await usage(key.id), 1);
  const id = first.identity?.connectorId;
  await first.stop({ drainTimeoutMs: 100 });
  const again = await startTestConnector({ stateDir: first.dir });
  assert.equal(again.identity?.connectorId, id);
  assert.equal(await usage(key.id), 1);
  const listed = await edge.api<{ status: string; group: string }>('GET', `/connectors/${id}`);
  assert.equal(listed.body.status, 'connected');
  assert.equal(listed.body.group, 'site-restart');
  await again.stop({ drainTimeoutMs: 100 });
});

test('a wrong secret is refused with a clear error and consumes nothing', async () => {
  const key = await edge.createKey('site-wrong');
  const parsed = parseProvisioningKey(key.value);
  const wrong = formatProvisioningKey({ ...parsed, secret: 'x'.repeat(43) });
  const err = await enrollFails(wrong);
  // The edge cannot prove it knows a key with this secret, so the connector keeps the secret.
  assert.equal(err.code, 'POSTERN_ERR_EDGE_UNVERIFIED');
  assert.equal(await usage(key.id), 0);
});

test('an unknown key id is refused like a wrong secret (ids cannot be enumerated)', async () => {
  const key = await edge.createKey('site-unknown');
  const parsed = parseProvisioningKey(key.value);
  const err = await enrollFails(formatProvisioningKey({ ...parsed, keyId: 'kdoesnotexist' }));
  // The edge answers an unknown id with a proof it cannot make right, as for a wrong secret.
  assert.equal(err.code, 'POSTERN_ERR_EDGE_UNVERIFIED');
  assert.match(err.message, /the key no longer exists there/);
});

test('an exhausted key is refused and the refusal consumes nothing', async () => {
  const key = await edge.createKey('site-exhausted', { max_usage: 1 });
  const ok = await startTestConnector({ provisionKey: key.value });
  const err = await enrollFails(key.value);
  assert.equal(err.code, 'POSTERN_ERR_KEY_EXHAUSTED');
  assert.match(err.message, /used 1 of 1 times/);
  assert.equal(await usage(key.id), 1);
  await ok.stop({ drainTimeoutMs: 100 });
});

test('revoked, disabled and expired keys are refused with their own codes', async () => {
  const revoked = await edge.createKey('site-states');
  await edge.api('POST', `/provisioning-keys/${revoked.id}/revoke`);
  assert.equal((await enrollFails(revoked.value)).code, 'POSTERN_ERR_KEY_REVOKED');

  const disabled = await edge.createKey('site-states');
  await edge.api('POST', `/provisioning-keys/${disabled.id}/disable`);
  assert.equal((await enrollFails(disabled.value)).code, 'POSTERN_ERR_KEY_DISABLED');

  const expired = await edge.createKey('site-states', {
    expires_at: new Date(Date.now() - 1000).toISOString(),
  });
  assert.equal((await enrollFails(expired.value)).code, 'POSTERN_ERR_KEY_EXPIRED');

  for (const key of [revoked, disabled, expired]) assert.equal(await usage(key.id), 0);
});

test('a key limited to other source networks is refused', async () => {
  const key = await edge.createKey('site-cidr', { source_cidrs: ['192.0.2.0/24'] });
  assert.equal((await enrollFails(key.value)).code, 'POSTERN_ERR_KEY_SOURCE_DENIED');
  assert.equal(await usage(key.id), 0);
});

test('an ephemeral connector that leaves gracefully is removed and returns its key use', async () => {
  const key = await edge.createKey('site-ephemeral', { max_usage: 1 });
  const c = await startTestConnector({ provisionKey: key.value, ephemeral: true });
  assert.equal(await usage(key.id), 1);
  const id = c.identity?.connectorId;
  await c.stop({ drainTimeoutMs: 100 });
  await assertEventually(async () => (await edge.api('GET', `/connectors/${id}`)).status === 404);
  assert.equal(await usage(key.id), 0);
  // The key is usable again: a pod restart never exhausts it.
  const next = await startTestConnector({ provisionKey: key.value, ephemeral: true });
  await next.stop({ drainTimeoutMs: 100 });
});

test('a server that does not know the key never receives its secret', async () => {
  const key = await edge.createKey('site-mitm');
  const parsed = parseProvisioningKey(key.value);
  const ca = await loadCertificateAuthority(await createCertificateAuthority());
  const cert = await ca.issueServerCertificate({ ipAddresses: ['127.0.0.1'] });
  const received: unknown[] = [];
  const impostor = tls.createServer(
    { cert: cert.certPem, key: cert.keyPem, ALPNProtocols: ['postern-enroll/1'] },
    (socket) => {
      const decoder = new MessageDecoder();
      socket.on('data', (chunk: Buffer) => {
        received.push(...decoder.push(chunk).messages);
        socket.write(
          encodeMessage({ v: 1, type: 'enroll_challenge', edgeProof: 'forged', caPem: ca.certPem }),
        );
      });
      socket.on('error', () => undefined);
    },
  );
  impostor.listen(0, '127.0.0.1');
  await once(impostor, 'listening');
  const port = (impostor.address() as { port: number }).port;
  const err = await enrollFails(
    formatProvisioningKey({ ...parsed, edgeAddress: `127.0.0.1:${port}` }),
  );
  impostor.close();
  assert.equal(err.code, 'POSTERN_ERR_EDGE_UNVERIFIED');
  assert.ok(received.length >= 1, 'the impostor saw the hello');
  assert.ok(
    !JSON.stringify(received).includes(parsed.secret),
    'the secret never left the connector',
  );
});

test('a malformed provisioning key says what is wrong', async () => {
  const err = await enrollFails('1|not-an-address|abc');
  assert.equal(err.code, 'POSTERN_ERR_KEY_MALFORMED');
});

async function assertEventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail('condition not met in time');
}

test('a connector started before its edge enrolls as soon as the edge answers', async () => {
  const dir = await tempDir('postern-late-edge-');
  const port = await freePort();
  const first = await startTestEdge({ dataDir: dir, tunnelListen: `127.0.0.1:${port}` });
  const key = await first.createKey('site-late');
  await first.stop();
  const connecting = startTestConnector({ provisionKey: key.value });
  await new Promise((resolve) => setTimeout(resolve, 400));
  const again = await startTestEdge({ dataDir: dir, tunnelListen: `127.0.0.1:${port}` });
  try {
    const connector = await connecting;
    assert.ok(connector.tunnel, 'tunnel up after the edge came back');
    const res = await again.api<{ usage_count: number }>('GET', `/provisioning-keys/${key.id}`);
    assert.equal(res.body.usage_count, 1);
    await connector.stop({ drainTimeoutMs: 100 });
  } finally {
    await again.stop();
  }
});
