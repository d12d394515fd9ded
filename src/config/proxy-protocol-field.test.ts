import assert from 'node:assert/strict';
import { test } from 'node:test';
import { virtualServerSchema } from './virtual-server.js';

const base = { name: 'vs', listen: '127.0.0.1:7000', pool: 'p' };

test('proxy_protocol defaults to none and accepts v1 and v2 on tcp and tls', () => {
  assert.equal(virtualServerSchema.parse(base).proxy_protocol, 'none');
  for (const protocol of ['tcp', 'tls'] as const) {
    for (const version of ['v1', 'v2'] as const) {
      const vs = virtualServerSchema.parse({ ...base, protocol, proxy_protocol: version });
      assert.equal(vs.proxy_protocol, version);
    }
  }
  assert.equal(
    virtualServerSchema.safeParse({ ...base, proxy_protocol: 'v3' }).success,
    false,
    'an unknown version is refused',
  );
});

test('proxy_protocol on an http or https virtual server is reported, not silently ignored', () => {
  for (const protocol of ['http', 'https'] as const) {
    const result = virtualServerSchema.safeParse({
      ...base,
      protocol,
      proxy_protocol: 'v1',
      ...(protocol === 'https' ? { tls: { certificates: ['c'] } } : {}),
    });
    assert.equal(result.success, false);
    const issue = result.error?.issues.find((i) => i.path[0] === 'proxy_protocol');
    assert.match(issue?.message ?? '', /tcp and tls only, not http/);
  }
  const none = virtualServerSchema.safeParse({ ...base, protocol: 'http', proxy_protocol: 'none' });
  assert.equal(none.success, true);
});
