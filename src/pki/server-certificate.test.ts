import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { isPosternError } from '../core/index.js';
import {
  assertCertificateMatchesKey,
  createCertificateAuthority,
  DEFAULT_SERVER_VALIDITY_MS,
  loadCertificateAuthority,
  type CertificateAuthority,
} from './index.js';
import { opensslText, opensslVerify } from './openssl.test-support.js';

const fixedNow = Date.UTC(2030, 0, 15, 12, 0, 0);
const fixedClock = { now: () => fixedNow };

function hasCode(code: string) {
  return (err: unknown) => isPosternError(err, code);
}

describe('issueServerCertificate', () => {
  let ca: CertificateAuthority;

  before(async () => {
    ca = await loadCertificateAuthority(
      await createCertificateAuthority({ clock: { now: () => fixedNow - 1000 } }),
    );
  });

  test('certifies a fresh key for serverAuth with DNS and IP names', async () => {
    const issued = await ca.issueServerCertificate({
      dnsNames: ['edge.example.com', 'localhost'],
      ipAddresses: ['127.0.0.1', '::1'],
      clock: fixedClock,
    });
    const cert = new X509Certificate(issued.certPem);
    assert.equal(cert.subject, 'CN=edge.example.com');
    assert.equal(
      cert.subjectAltName,
      'DNS:edge.example.com, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkHost('other.example.com'), undefined);
    assert.doesNotThrow(() => assertCertificateMatchesKey(issued.certPem, issued.keyPem));
    assert.equal(issued.notAfter.getTime(), fixedNow + DEFAULT_SERVER_VALIDITY_MS);
    assert.equal(issued.serialNumber, cert.serialNumber.toLowerCase());
    assert.match(opensslText(issued.certPem), /Key Usage: critical\s+Digital Signature\n/);
    assert.equal(opensslVerify(ca.certPem, issued.certPem, 'sslserver', fixedNow).ok, true);
    assert.equal(opensslVerify(ca.certPem, issued.certPem, 'sslclient', fixedNow).ok, false);
  });

  test('generates a new key every time', async () => {
    const a = await ca.issueServerCertificate({ ipAddresses: ['10.0.0.1'], clock: fixedClock });
    const b = await ca.issueServerCertificate({ ipAddresses: ['10.0.0.1'], clock: fixedClock });
    assert.notEqual(a.keyPem, b.keyPem);
    assert.equal(new X509Certificate(a.certPem).subject, 'CN=10.0.0.1');
    assert.throws(
      () => assertCertificateMatchesKey(a.certPem, b.keyPem),
      hasCode('POSTERN_ERR_PKI_KEY_MISMATCH'),
    );
  });

  test('needs at least one valid name', async () => {
    await assert.rejects(
      ca.issueServerCertificate({ clock: fixedClock }),
      hasCode('POSTERN_ERR_PKI_NAME_INVALID'),
    );
    for (const dnsName of [
      'bad_name',
      '-edge.example',
      'a..b',
      `${'a'.repeat(64)}.example`,
      'edge.example:443',
    ]) {
      await assert.rejects(
        ca.issueServerCertificate({ dnsNames: [dnsName], clock: fixedClock }),
        hasCode('POSTERN_ERR_PKI_NAME_INVALID'),
        dnsName,
      );
    }
    for (const ip of ['300.1.1.1', 'localhost', '10.0.0.0/8']) {
      await assert.rejects(
        ca.issueServerCertificate({ ipAddresses: [ip], clock: fixedClock }),
        hasCode('POSTERN_ERR_PKI_NAME_INVALID'),
        ip,
      );
    }
    const wildcard = await ca.issueServerCertificate({
      dnsNames: ['*.edge.example'],
      clock: fixedClock,
    });
    assert.equal(new X509Certificate(wildcard.certPem).subjectAltName, 'DNS:*.edge.example');
  });
});
