import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { isPosternError } from '../core/index.js';
import {
  createCertificateAuthority,
  DEFAULT_CLIENT_VALIDITY_MS,
  generateKeyPairAndCsr,
  loadCertificateAuthority,
  type CertificateAuthority,
} from './index.js';
import { opensslText, opensslVerify } from './openssl.test-support.js';
import { x509 } from './x509.js';

const fixedNow = Date.UTC(2030, 0, 15, 12, 0, 0);
const fixedClock = { now: () => fixedNow };
const options = { connectorId: 'conn-1', group: 'site-a', clock: fixedClock };

function hasCode(...codes: string[]) {
  return (err: unknown) => codes.some((code) => isPosternError(err, code));
}

function spki(publicOrPrivatePem: string): string {
  const key = publicOrPrivatePem.includes('PRIVATE')
    ? createPublicKey(createPrivateKey(publicOrPrivatePem))
    : createPublicKey(publicOrPrivatePem);
  return key.export({ type: 'spki', format: 'der' }).toString('hex');
}

function csrDer(csrPem: string): Buffer {
  return Buffer.from(x509.PemConverter.decodeFirst(csrPem));
}

function toCsrPem(der: Uint8Array): string {
  return x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
}

/** Replaces the one occurrence of `from` in `der` by `to` (same length), keeping the old signature. */
function splice(der: Buffer, from: Buffer, to: Buffer): Buffer {
  const at = der.indexOf(from);
  assert.ok(at >= 0 && der.indexOf(from, at + 1) < 0, 'the bytes to replace occur exactly once');
  const out = Buffer.from(der);
  to.copy(out, at);
  return out;
}

describe('issueClientCertificate', () => {
  let ca: CertificateAuthority;
  let caCert: X509Certificate;
  let csr: { keyPem: string; csrPem: string };

  before(async () => {
    const material = await createCertificateAuthority({ clock: { now: () => fixedNow - 1000 } });
    ca = await loadCertificateAuthority(material);
    caCert = new X509Certificate(material.certPem);
    csr = await generateKeyPairAndCsr({ commonName: 'conn-1' });
  });

  test('certifies the CSR key for clientAuth only, naming the connector and its group', async () => {
    const issued = await ca.issueClientCertificate(csr.csrPem, options);
    const cert = new X509Certificate(issued.certPem);
    assert.equal(cert.subject, 'CN=conn-1');
    assert.equal(
      cert.subjectAltName,
      'URI:urn:postern:connector:conn-1, URI:urn:postern:group:site-a',
    );
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(caCert));
    assert.ok(cert.verify(caCert.publicKey));
    assert.equal(
      spki(cert.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      spki(csr.keyPem),
    );
    assert.equal(issued.serialNumber, cert.serialNumber.toLowerCase());
  });

  test('OpenSSL reads the expected key usage, EKU, SANs and key identifiers', async () => {
    const issued = await ca.issueClientCertificate(csr.csrPem, options);
    const text = opensslText(issued.certPem);
    assert.match(text, /Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /Extended Key Usage: ?\s+TLS Web Client Authentication\n/);
    assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /URI:urn:postern:connector:conn-1, URI:urn:postern:group:site-a\n/);
    const caSki = /Subject Key Identifier: ?\s+([0-9A-F:]+)/.exec(opensslText(ca.certPem))?.[1];
    const aki = /Authority Key Identifier: ?\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
    assert.ok(caSki !== undefined && caSki === aki, `AKI ${aki} equals the CA's SKI ${caSki}`);
    // Chains to the CA for a TLS client, and is refused as a TLS server certificate.
    const client = opensslVerify(ca.certPem, issued.certPem, 'sslclient', fixedNow);
    assert.equal(client.ok, true, client.output);
    const server = opensslVerify(ca.certPem, issued.certPem, 'sslserver', fixedNow);
    assert.equal(server.ok, false, server.output);
    assert.match(server.output, /unsuitable certificate purpose/);
  });

  test('starts five minutes early and lasts 24 hours by default', async () => {
    const issued = await ca.issueClientCertificate(csr.csrPem, options);
    assert.equal(issued.notBefore.getTime(), fixedNow - 5 * 60_000);
    assert.equal(issued.notAfter.getTime(), fixedNow + DEFAULT_CLIENT_VALIDITY_MS);
    const cert = new X509Certificate(issued.certPem);
    assert.equal(new Date(cert.validFrom).getTime(), issued.notBefore.getTime());
    assert.equal(new Date(cert.validTo).getTime(), issued.notAfter.getTime());
  });

  test('honours validityMs and reports the whole-second times written in the certificate', async () => {
    const clock = { now: () => fixedNow + 999 };
    const issued = await ca.issueClientCertificate(csr.csrPem, {
      ...options,
      clock,
      validityMs: 60 * 60_000,
    });
    assert.equal(issued.notAfter.getTime(), fixedNow + 60 * 60_000);
    assert.equal(
      new Date(new X509Certificate(issued.certPem).validTo).getTime(),
      issued.notAfter.getTime(),
    );
    for (const validityMs of [0, -5, Number.POSITIVE_INFINITY, Number.NaN]) {
      await assert.rejects(
        ca.issueClientCertificate(csr.csrPem, { ...options, validityMs }),
        hasCode('POSTERN_ERR_INVALID_ARGUMENT'),
      );
    }
  });

  test('uses random, positive 16-byte serial numbers', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { serialNumber } = await ca.issueClientCertificate(csr.csrPem, options);
      assert.match(serialNumber, /^[0-7][0-9a-f]{31}$/);
      assert.notEqual(serialNumber.slice(0, 2), '00');
      serials.add(serialNumber);
    }
    assert.equal(serials.size, 20);
  });

  test('ignores the names the CSR asks for', async () => {
    const greedy = await generateKeyPairAndCsr({
      commonName: 'admin',
      uris: ['urn:postern:connector:admin', 'urn:postern:group:admins'],
    });
    const issued = await ca.issueClientCertificate(greedy.csrPem, options);
    const cert = new X509Certificate(issued.certPem);
    assert.equal(cert.subject, 'CN=conn-1');
    assert.equal(
      cert.subjectAltName,
      'URI:urn:postern:connector:conn-1, URI:urn:postern:group:site-a',
    );
    assert.doesNotMatch(opensslText(issued.certPem), /admin/);
  });

  test('rejects a CSR whose signed content was altered', async () => {
    const victim = await generateKeyPairAndCsr({ commonName: 'aaaaaaaa' });
    const renamed = splice(csrDer(victim.csrPem), Buffer.from('aaaaaaaa'), Buffer.from('bbbbbbbb'));
    await assert.rejects(
      ca.issueClientCertificate(toCsrPem(renamed), options),
      hasCode('POSTERN_ERR_PKI_CSR_INVALID'),
    );
    // Someone else's public key under the victim's signature: no proof of possession.
    const attacker = await generateKeyPairAndCsr({ commonName: 'aaaaaaaa' });
    const attackerKey = Buffer.from(
      new x509.Pkcs10CertificateRequest(attacker.csrPem).publicKey.rawData,
    );
    const victimKey = Buffer.from(
      new x509.Pkcs10CertificateRequest(victim.csrPem).publicKey.rawData,
    );
    const swapped = splice(csrDer(victim.csrPem), victimKey, attackerKey);
    await assert.rejects(
      ca.issueClientCertificate(toCsrPem(swapped), options),
      hasCode('POSTERN_ERR_PKI_CSR_INVALID'),
    );
  });

  test('rejects a CSR whose signature was altered', async () => {
    const der = csrDer(csr.csrPem);
    const broken = Buffer.from(der);
    broken[broken.length - 1] = (broken[broken.length - 1] ?? 0) ^ 0x01;
    await assert.rejects(
      ca.issueClientCertificate(toCsrPem(broken), options),
      hasCode('POSTERN_ERR_PKI_CSR_INVALID'),
    );
  });

  test('a corrupted CSR is refused with a code, or still certifies only the original key', async () => {
    const der = csrDer(csr.csrPem);
    const original = spki(csr.keyPem);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: der.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, mask) => {
          const corrupted = Buffer.from(der);
          corrupted[at] = (corrupted[at] ?? 0) ^ mask;
          try {
            const issued = await ca.issueClientCertificate(toCsrPem(corrupted), options);
            const key = new X509Certificate(issued.certPem).publicKey;
            assert.equal(spki(key.export({ type: 'spki', format: 'pem' }).toString()), original);
          } catch (err) {
            assert.ok(
              hasCode('POSTERN_ERR_PKI_CSR_INVALID', 'POSTERN_ERR_PKI_UNSUPPORTED_KEY')(err),
              `unexpected ${String(err)}`,
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('rejects input that is not a CSR', async () => {
    for (const bad of ['', 'hello', ca.certPem, 'x'.repeat(20_000)]) {
      await assert.rejects(
        ca.issueClientCertificate(bad, options),
        hasCode('POSTERN_ERR_PKI_CSR_INVALID'),
      );
    }
  });

  test('validates the connector id and group', async () => {
    const bad = ['', 'Conn', 'a:b', 'a b', 'a/b', 'é', 'x'.repeat(65)];
    for (const value of bad) {
      await assert.rejects(
        ca.issueClientCertificate(csr.csrPem, { ...options, connectorId: value }),
        hasCode('POSTERN_ERR_PKI_NAME_INVALID'),
        `connector id ${JSON.stringify(value)}`,
      );
      await assert.rejects(
        ca.issueClientCertificate(csr.csrPem, { ...options, group: value }),
        hasCode('POSTERN_ERR_PKI_NAME_INVALID'),
        `group ${JSON.stringify(value)}`,
      );
    }
    const ok = await ca.issueClientCertificate(csr.csrPem, {
      ...options,
      connectorId: 'a.b_c-9',
      group: 'x'.repeat(64),
    });
    assert.match(new X509Certificate(ok.certPem).subjectAltName ?? '', /connector:a\.b_c-9/);
  });
});
