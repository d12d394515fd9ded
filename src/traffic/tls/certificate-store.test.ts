import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { isPosternError } from '../../core/index.js';
import { CertificateStore } from './certificate-store.js';
import { makeCertificate, type TestKeyPair } from './test-certificates.js';

describe('certificate store', () => {
  let main: TestKeyPair;
  let api: TestKeyPair;
  let wildcard: TestKeyPair;
  let cnOnly: TestKeyPair;

  before(async () => {
    main = await makeCertificate('main', ['www.example.com', 'example.com']);
    api = await makeCertificate('api', ['api.example.com']);
    wildcard = await makeCertificate('wild', ['*.example.com']);
    cnOnly = await makeCertificate('legacy.example.net', []);
  });

  test('picks the exact SAN match first, then a one-label wildcard, else the first certificate', () => {
    const store = new CertificateStore([
      { name: 'main', ...main },
      { name: 'wild', ...wildcard },
      { name: 'api', ...api },
      { name: 'legacy', ...cnOnly },
    ]);
    assert.equal(store.find('api.example.com')?.name, 'api');
    assert.equal(store.find('API.Example.COM')?.name, 'api');
    assert.equal(store.find('www.example.com')?.name, 'main');
    assert.equal(store.find('shop.example.com')?.name, 'wild');
    assert.equal(store.find('a.b.example.com')?.name, 'main');
    assert.equal(store.find('example.com')?.name, 'main');
    assert.equal(store.find('legacy.example.net')?.name, 'legacy');
    assert.equal(store.find(undefined)?.name, 'main');
    assert.equal(store.find('unknown.test')?.name, 'main');
    assert.deepEqual(store.find('api.example.com')?.dnsNames, ['api.example.com']);
    assert.ok((store.default?.validTo.getTime() ?? 0) > Date.now());
  });

  test('the first certificate naming a host wins', () => {
    const store = new CertificateStore([
      { name: 'first', ...api },
      { name: 'second', ...api },
    ]);
    assert.equal(store.find('api.example.com')?.name, 'first');
  });

  test('a key that does not belong to its certificate is refused with POSTERN_ERR_TLS_KEY_MISMATCH', () => {
    assert.throws(
      () => new CertificateStore([{ name: 'mixed', cert: main.cert, key: api.key }]),
      (err: unknown) =>
        isPosternError(err, 'POSTERN_ERR_TLS_KEY_MISMATCH') && err.message.includes('"mixed"'),
    );
  });

  test('text that is not PEM is refused with POSTERN_ERR_TLS_CERTIFICATE_INVALID', () => {
    assert.throws(
      () => new CertificateStore([{ name: 'junk', cert: 'not a certificate', key: main.key }]),
      (err: unknown) =>
        isPosternError(err, 'POSTERN_ERR_TLS_CERTIFICATE_INVALID') &&
        err.message.includes('"junk"'),
    );
    assert.throws(
      () => new CertificateStore([{ cert: main.cert, key: 'not a key' }]),
      (err: unknown) =>
        isPosternError(err, 'POSTERN_ERR_TLS_CERTIFICATE_INVALID') &&
        err.message.includes('certificate-0'),
    );
  });
});
