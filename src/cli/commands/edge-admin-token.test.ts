import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../../core/index.js';
import { bootstrapAdminToken, formatAddress, readyLine } from './edge-admin-token.js';

test('a bootstrap admin token shorter than 16 characters is refused with how to make one', () => {
  assert.throws(
    () => bootstrapAdminToken('abc'),
    (err: unknown) =>
      isPosternError(err, 'POSTERN_ERR_INVALID_ARGUMENT') &&
      err.message.includes('3 characters') &&
      err.message.includes('openssl rand -hex 32'),
  );
  assert.throws(() => bootstrapAdminToken('x'.repeat(15)));
  assert.throws(() => bootstrapAdminToken(`  ${'x'.repeat(10)}  `), 'spaces do not count');
});

test('a short token read from a file is refused naming the file, not POSTERN_ADMIN_TOKEN', () => {
  assert.throws(
    () => bootstrapAdminToken('abc', '--admin-token-file /run/secrets/token'),
    (err: unknown) =>
      isPosternError(err, 'POSTERN_ERR_INVALID_ARGUMENT') &&
      err.message.includes('--admin-token-file /run/secrets/token') &&
      !err.message.includes('POSTERN_ADMIN_TOKEN'),
  );
});

test('16 characters and more are accepted; unset or empty means the data-dir token', () => {
  assert.equal(bootstrapAdminToken('x'.repeat(16)), 'x'.repeat(16));
  assert.equal(bootstrapAdminToken(undefined), undefined);
  assert.equal(bootstrapAdminToken(''), undefined);
});

test('the ready line shows the listening address and, when different, the advertised one', () => {
  const tunnel = { address: '127.0.0.1', family: 'IPv4', port: 18451 };
  const base = { tunnel, adminUrl: 'http://127.0.0.1:9090', dataDir: '/d' };
  assert.equal(
    readyLine({ ...base, advertiseAddress: '127.0.0.1:18450', tokenSource: 'POSTERN_ADMIN_TOKEN' }),
    'postern edge ready: tunnel 127.0.0.1:18451 (advertised as 127.0.0.1:18450), admin http://127.0.0.1:9090 (admin token from POSTERN_ADMIN_TOKEN)\n',
  );
  assert.equal(
    readyLine({ ...base, advertiseAddress: '127.0.0.1:18451', tokenSource: undefined }),
    'postern edge ready: tunnel 127.0.0.1:18451, admin http://127.0.0.1:9090 (token in /d/admin-token)\n',
  );
  assert.match(
    readyLine({ ...base, advertiseAddress: '', tokenSource: '--admin-token-file /run/t' }),
    /\(admin token from --admin-token-file \/run\/t\)\n$/,
  );
  assert.equal(formatAddress({ address: '::1', family: 'IPv6', port: 8443 }), '[::1]:8443');
});
