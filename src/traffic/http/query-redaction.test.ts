import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactTarget } from './query-redaction.js';
import { makePool, send, startBackend, startProxy, waitFor } from './test-kit.js';

test('secret query values are replaced by REDACTED, names matched without case', () => {
  assert.equal(
    redactTarget('/cb?code=OAUTHCODE123&access_token=QS_TOKEN_XYZ&page=2&State=s1'),
    '/cb?code=REDACTED&access_token=REDACTED&page=2&State=REDACTED',
  );
  for (const name of [
    'token',
    'ID_TOKEN',
    'refresh_token',
    'password',
    'secret',
    'Key',
    'signature',
    'sig',
  ]) {
    assert.equal(redactTarget(`/x?${name}=v1&a=b`), `/x?${name}=REDACTED&a=b`, name);
  }
  assert.equal(redactTarget('/x?acc%65ss_token=t'), '/x?acc%65ss_token=REDACTED', 'encoded name');
  assert.equal(redactTarget('/x?code=a&code=b'), '/x?code=REDACTED&code=REDACTED');
});

test('targets without secrets are kept exactly as sent', () => {
  for (const target of [
    '/',
    '/a/b',
    '/x?',
    '/x?code',
    '/x?code=',
    '/x?q=code&keyword=1',
    '/x?%zz=1',
  ]) {
    assert.equal(redactTarget(target), target);
  }
});

test('request records carry the redacted target; the node still gets the real one', async () => {
  const backend = await startBackend('b');
  const proxy = await startProxy({ pool: makePool('p', [backend.address]) });
  try {
    const res = await send(proxy.port, { path: '/cb?code=OAUTHCODE123&next=%2Fhome' });
    assert.equal(res.status, 200);
    assert.equal(backend.seen[0]?.url, '/cb?code=OAUTHCODE123&next=%2Fhome');
    await waitFor(() => proxy.records.length === 1);
    assert.equal(proxy.records[0]?.path, '/cb?code=REDACTED&next=%2Fhome');
  } finally {
    await proxy.close();
    await backend.close();
  }
});
