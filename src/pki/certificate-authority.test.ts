import assert from 'node:assert/strict';
import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { isPosternError } from '../core/index.js';
import {
  certificateFingerprint,
  createCertificateAuthority,
  generateKeyPairAndCsr,
  loadCertificateAuthority,
} from './index.js';
import { opensslText } from './openssl.test-support.js';

const DAY_MS = 24 * 60 * 60_000;
const fixedNow = Date.UTC(2030, 0, 15, 12, 0, 0);
const fixedClock = { now: () => fixedNow };

function hasCode(code: string) {
  return (err: unknown) => isPosternError(err, code);
}

describe('createCertificateAuthority', () => {
  test('makes a self-signed P-256 CA limited to signing leaf certificates', async () => {
    const { certPem, keyPem } = await createCertificateAuthority({
      commonName: 'Acme Edge CA',
      validityDays: 30,
      clock: fixedClock,
    });
    const cert = new X509Certificate(certPem);
    assert.equal(cert.ca, true);
    assert.equal(cert.subject, 'CN=Acme Edge CA');
    assert.equal(cert.issuer, cert.subject);
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(new Date(cert.validFrom).getTime(), fixedNow - 5 * 60_000);
    assert.equal(new Date(cert.validTo).getTime(), fixedNow + 30 * DAY_MS);
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const text = opensslText(certPem);
    assert.match(text, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    assert.match(text, /Subject Key Identifier/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  });

  test('defaults to "Postern CA" valid for ten years', async () => {
    const cert = new X509Certificate(
      (await createCertificateAuthority({ clock: fixedClock })).certPem,
    );
    assert.equal(cert.subject, 'CN=Postern CA');
    assert.equal(new Date(cert.validTo).getTime(), fixedNow + 3650 * DAY_MS);
  });

  test('rejects a validity that is not a positive whole number of days', async () => {
    for (const validityDays of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        createCertificateAuthority({ validityDays }),
        hasCode('POSTERN_ERR_INVALID_ARGUMENT'),
      );
    }
  });
});

describe('loadCertificateAuthority', () => {
  test('exposes the certificate, its fingerprint and validity', async () => {
    const material = await createCertificateAuthority({ clock: fixedClock });
    const ca = await loadCertificateAuthority(material);
    const der = new X509Certificate(material.certPem).raw;
    assert.equal(ca.fingerprint, createHash('sha256').update(der).digest('hex'));
    assert.equal(ca.fingerprint, certificateFingerprint(material.certPem));
    assert.equal(ca.fingerprint, certificateFingerprint(der));
    assert.match(ca.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(
      new X509Certificate(ca.certPem).fingerprint256,
      new X509Certificate(der).fingerprint256,
    );
    assert.equal(ca.subject, 'CN=Postern CA');
    assert.equal(ca.notAfter.getTime(), fixedNow + 3650 * DAY_MS);
  });

  test('detects a private key that belongs to another certificate', async () => {
    const a = await createCertificateAuthority();
    const b = await createCertificateAuthority();
    await assert.rejects(
      loadCertificateAuthority({ certPem: a.certPem, keyPem: b.keyPem }),
      hasCode('POSTERN_ERR_PKI_KEY_MISMATCH'),
    );
  });

  test('refuses a certificate that is not a CA', async () => {
    const ca = await loadCertificateAuthority(await createCertificateAuthority());
    const server = await ca.issueServerCertificate({ dnsNames: ['edge.example'] });
    await assert.rejects(
      loadCertificateAuthority({ certPem: server.certPem, keyPem: server.keyPem }),
      hasCode('POSTERN_ERR_PKI_NOT_CA'),
    );
  });

  test('refuses keys other than ECDSA P-256', async () => {
    const { certPem } = await createCertificateAuthority();
    for (const keyPem of [
      generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }),
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    ]) {
      await assert.rejects(
        loadCertificateAuthority({ certPem, keyPem: String(keyPem) }),
        hasCode('POSTERN_ERR_PKI_UNSUPPORTED_KEY'),
      );
    }
  });

  test('accepts the CA key as SEC1 "EC PRIVATE KEY", as openssl writes it', async () => {
    const material = await createCertificateAuthority();
    const sec1 = String(createPrivateKey(material.keyPem).export({ type: 'sec1', format: 'pem' }));
    assert.match(sec1, /^-----BEGIN EC PRIVATE KEY-----/);
    const ca = await loadCertificateAuthority({ certPem: material.certPem, keyPem: sec1 });
    assert.equal(ca.certPem, material.certPem);
  });

  test('reports unreadable PEM with a code', async () => {
    const material = await createCertificateAuthority();
    await assert.rejects(
      loadCertificateAuthority({ certPem: 'not a certificate', keyPem: material.keyPem }),
      hasCode('POSTERN_ERR_PKI_CERT_INVALID'),
    );
    await assert.rejects(
      loadCertificateAuthority({ certPem: material.certPem, keyPem: 'not a key' }),
      hasCode('POSTERN_ERR_PKI_KEY_INVALID'),
    );
  });
});

describe('CertificateAuthority validity', () => {
  test('refuses to issue outside its own validity, and cuts certificates at its expiry', async () => {
    const ca = await loadCertificateAuthority(
      await createCertificateAuthority({ validityDays: 1, clock: fixedClock }),
    );
    const { csrPem } = await generateKeyPairAndCsr({ commonName: 'c' });
    const late = { now: () => fixedNow + 2 * DAY_MS };
    await assert.rejects(
      ca.issueClientCertificate(csrPem, { connectorId: 'c', group: 'g', clock: late }),
      hasCode('POSTERN_ERR_PKI_CA_NOT_VALID'),
    );
    const early = { now: () => fixedNow - DAY_MS };
    await assert.rejects(
      ca.issueServerCertificate({ dnsNames: ['edge'], clock: early }),
      hasCode('POSTERN_ERR_PKI_CA_NOT_VALID'),
    );
    const nearEnd = { now: () => fixedNow + DAY_MS - 60 * 60_000 };
    const issued = await ca.issueClientCertificate(csrPem, {
      connectorId: 'c',
      group: 'g',
      clock: nearEnd,
    });
    assert.equal(issued.notAfter.getTime(), ca.notAfter.getTime());
  });

  test('uses the clock it was loaded with', async () => {
    const material = await createCertificateAuthority({ clock: fixedClock });
    const ca = await loadCertificateAuthority({ ...material, clock: fixedClock });
    const { csrPem } = await generateKeyPairAndCsr({ commonName: 'c' });
    const issued = await ca.issueClientCertificate(csrPem, { connectorId: 'c', group: 'g' });
    assert.equal(issued.notBefore.getTime(), fixedNow - 5 * 60_000);
  });
});
