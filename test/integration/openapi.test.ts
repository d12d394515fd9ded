import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestEdge } from '../harness/harness.js';

interface OpenApi {
  openapi: string;
  paths: Record<
    string,
    Record<string, { requestBody?: { content: Record<string, { schema: { $ref: string } }> } }>
  >;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

test('the admin API publishes an OpenAPI document of its own routes, built from the config schemas', async () => {
  const edge = await startTestEdge({ version: '9.9.9' });
  try {
    const res = await fetch(`${edge.adminUrl}/api/v1/openapi.json`);
    assert.equal(res.status, 200, 'published without a token');
    const doc = (await res.json()) as OpenApi & { info: { version: string } };
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.version, '9.9.9');
    for (const [path, methods] of [
      ['/api/v1/connector-groups', ['get', 'post']],
      ['/api/v1/provisioning-keys/{id}/revoke', ['post']],
      ['/api/v1/connectors/{id}', ['get', 'delete']],
      ['/api/v1/pools/{name}', ['get', 'put', 'delete']],
      ['/api/v1/virtual-servers', ['get', 'post']],
      ['/api/v1/import/status', ['get']],
    ] as const) {
      for (const method of methods)
        assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`);
    }
    const poolBody =
      doc.paths['/api/v1/pools']?.post?.requestBody?.content['application/json']?.schema.$ref;
    assert.equal(poolBody, '#/components/schemas/Pool');
    assert.ok(doc.components.schemas.Pool?.properties?.nodes, 'Pool schema from the config schema');
    assert.ok(doc.components.schemas.VirtualServer?.properties?.listen);
    assert.equal(doc.paths['/api/v1/provisioning-keys/{id}/revoke']?.post?.requestBody, undefined);
    // Every documented path is a real route: an authenticated GET on each collection answers.
    for (const path of Object.keys(doc.paths).filter(
      (p) => !p.includes('{') && doc.paths[p]?.get,
    )) {
      const r = await fetch(`${edge.adminUrl}${path}`, {
        headers: { authorization: `Bearer ${edge.adminToken}` },
      });
      assert.equal(r.status, 200, path);
    }
  } finally {
    await edge.stop();
  }
});
