import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import { generateKeyPairAndCsr } from './index.js';
import { readCertificateRequest } from './csr.js';
import { opensslCsrVerifies } from './openssl.test-support.js';
import { webCrypto, x509 } from './x509.js';

const SAN_OID = '2.5.29.17';

test('generates a P-256 key and a CSR signed by it that asks for the given names', async () => {
  const { keyPem, csrPem } = await generateKeyPairAndCsr({
    commonName: 'conn-1',
    uris: ['urn:example:one'],
  });
  const key = createPrivateKey(keyPem);
  assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(opensslCsrVerifies(csrPem), 'OpenSSL accepts the CSR signature');
  const csr = await readCertificateRequest(csrPem);
  assert.equal(csr.subject, 'CN=conn-1');
  const requested = csr.getExtension(SAN_OID);
  assert.ok(requested !== null, 'the CSR requests a subjectAltName');
  const san = new x509.SubjectAlternativeNameExtension(requested.rawData);
  assert.deepEqual(san.names.toJSON(), [{ type: 'url', value: 'urn:example:one' }]);
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  assert.deepEqual(Buffer.from(csr.publicKey.rawData), fromKey);
});

test('asks for no SAN when no URIs are given', async () => {
  const { csrPem } = await generateKeyPairAndCsr({ commonName: 'conn-1' });
  const csr = await readCertificateRequest(csrPem);
  assert.equal(csr.getExtension(SAN_OID), null);
  assert.equal(csr.extensions.length, 0);
});

test('every call makes a new key', async () => {
  const a = await generateKeyPairAndCsr({ commonName: 'c' });
  const b = await generateKeyPairAndCsr({ commonName: 'c' });
  assert.notEqual(a.keyPem, b.keyPem);
});

test('refuses a CSR for a key other than P-256', async () => {
  const keys = await webCrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
    'sign',
    'verify',
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: 'CN=c',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
    },
    webCrypto,
  );
  await assert.rejects(readCertificateRequest(csr.toString('pem')), (err) =>
    isPosternError(err, 'POSTERN_ERR_PKI_UNSUPPORTED_KEY'),
  );
});
