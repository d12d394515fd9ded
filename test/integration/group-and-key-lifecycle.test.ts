/**
 * The end of a connector group's and a provisioning key's life through the admin API, as an
 * operator review found them: a group whose connector was deleted (revoked) can be deleted, and
 * a revoked key cannot be enabled again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  eventually,
  startTestConnector,
  startTestEdge,
  stopAllConnectors,
  type TestEdge,
} from '../harness/harness.js';

type Json = Record<string, unknown>;
interface ApiError {
  error?: { code?: string; message?: string };
}

let edge: TestEdge;
before(async () => {
  edge = await startTestEdge();
});
after(async () => {
  await stopAllConnectors();
  await edge.stop();
});

test('a group whose only connector was deleted (revoked) can be deleted; its audit records stay', async () => {
  const key = await edge.createKey('tmpg');
  const connector = await startTestConnector({ provisionKey: key.value });
  const id = connector.identity?.connectorId ?? '';
  assert.notEqual(id, '');

  const live = await edge.api<ApiError>('DELETE', '/connector-groups/tmpg');
  assert.equal(live.status, 409);
  assert.equal(live.body.error?.code, 'POSTERN_ERR_CONFLICT');
  assert.match(live.body.error?.message ?? '', new RegExp(`1 live connector\\(s\\) \\(${id}\\)`));
  assert.match(live.body.error?.message ?? '', /`postern connectors delete <id>`/);
  assert.match(live.body.error?.message ?? '', /`postern groups delete tmpg`/);

  assert.equal((await edge.api('DELETE', `/connectors/${id}`)).status, 204);
  await eventually(() => !edge.registry.get(id), 'the revoked connector to be disconnected');
  assert.equal((await edge.api<Json>('GET', `/connectors/${id}`)).body.status, 'revoked');

  const deleted = await edge.api('DELETE', '/connector-groups/tmpg');
  assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
  assert.equal((await edge.api('GET', '/connector-groups/tmpg')).status, 404);
  assert.equal((await edge.api('GET', `/connectors/${id}`)).status, 404);
  assert.equal((await edge.api('GET', `/provisioning-keys/${key.id}`)).status, 404);

  const log = await edge.api<{ items: Json[] }>('GET', '/audit-log');
  const paths = log.body.items.map(
    (r) => `${String(r.method)} ${String(r.path)} ${String(r.status)}`,
  );
  assert.ok(paths.includes(`DELETE /api/v1/connectors/${id} 204`), paths.join('\n'));
  assert.ok(paths.includes('DELETE /api/v1/connector-groups/tmpg 204'), paths.join('\n'));
  assert.ok(paths.includes('DELETE /api/v1/connector-groups/tmpg 409'), paths.join('\n'));
});

test('enabling a revoked key is refused with POSTERN_ERR_KEY_REVOKED and changes nothing', async () => {
  const key = await edge.createKey('revoked-keys');
  assert.equal((await edge.api('POST', `/provisioning-keys/${key.id}/disable`)).status, 200);
  assert.equal((await edge.api('POST', `/provisioning-keys/${key.id}/revoke`)).status, 200);
  for (const [method, path, body] of [
    ['POST', `/provisioning-keys/${key.id}/enable`, undefined],
    ['PATCH', `/provisioning-keys/${key.id}`, { enabled: true }],
  ] as const) {
    const res = await edge.api<ApiError>(method, path, body);
    assert.equal(res.status, 409, `${method} ${path}`);
    assert.equal(res.body.error?.code, 'POSTERN_ERR_KEY_REVOKED');
    assert.match(res.body.error?.message ?? '', /revoked for good/);
    assert.match(res.body.error?.message ?? '', /postern keys create --group revoked-keys/);
  }
  const shown = await edge.api<Json>('GET', `/provisioning-keys/${key.id}`);
  assert.equal(shown.body.enabled, false);
  assert.equal(shown.body.revoked, true);

  const other = await edge.createKey('revoked-keys', { enabled: false });
  const enabled = await edge.api<Json>('POST', `/provisioning-keys/${other.id}/enable`);
  assert.equal(enabled.status, 200);
  assert.equal(enabled.body.enabled, true, 'a key that is only disabled is enabled as before');
});
