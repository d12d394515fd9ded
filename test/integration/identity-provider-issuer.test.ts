// The admin API refuses a plain http issuer outside loopback, with the schema's advice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestEdge } from '../harness/harness.js';

test('the admin API refuses a plain http issuer on a network host and accepts one on loopback', async () => {
  const edge = await startTestEdge();
  try {
    const spec = (name: string, issuer: string) => ({ name, issuer, client_id: 'postern' });
    const refused = await edge.api(
      'POST',
      '/identity-providers',
      spec('corp', 'http://login.example.com'),
    );
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    const text = JSON.stringify(refused.body);
    assert.match(text, /issuer/);
    assert.match(text, /must be an https URL.*loopback.*https issuer URL/);
    assert.equal(await edge.store.objects.get('identity_provider', 'corp'), undefined);

    const lab = await edge.api('POST', '/identity-providers', spec('lab', 'http://127.0.0.1:5556'));
    assert.equal(lab.status, 201, JSON.stringify(lab.body));
    const secure = await edge.api(
      'POST',
      '/identity-providers',
      spec('corp', 'https://login.example.com'),
    );
    assert.equal(secure.status, 201, JSON.stringify(secure.body));
    const put = await edge.api('PUT', '/identity-providers/corp', spec('corp', 'http://10.0.0.9'));
    assert.equal(put.status, 400, JSON.stringify(put.body));
    const stored = await edge.store.objects.get('identity_provider', 'corp');
    assert.equal((stored?.spec as { issuer?: string }).issuer, 'https://login.example.com');
  } finally {
    await edge.stop();
  }
});
