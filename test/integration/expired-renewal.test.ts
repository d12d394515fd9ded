// A connector offline past its certificate's expiry cannot open a tunnel (mTLS refuses an expired
// certificate). Within a grace period it may renew that certificate on an enrollment connection
// by proving it holds the old key, and keeps its identity; outside the grace, with an older
// certificate, a wrong key, or once deleted, it is refused and must enroll again with a key.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { enroll, renewExpiredCertificate } from '../../src/connector/enrollment-client.js';
import { createPrivateKey } from 'node:crypto';
import { isPosternError } from '../../src/core/index.js';
import { generateKeyPairAndCsr } from '../../src/pki/index.js';
import { parseProvisioningKey } from '../../src/protocol/index.js';
import { startTestEdge } from '../harness/harness.js';

const VALIDITY_MS = 1500;

/** Waits until `certPem` has expired (and a little longer). */
async function expiry(certPem: string, extraMs = 0): Promise<void> {
  const wait = Date.parse(new X509Certificate(certPem).validTo) - Date.now() + 1100 + extraMs;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

async function enrolled(edge: Awaited<ReturnType<typeof startTestEdge>>) {
  const key = await edge.createKey('offline');
  return enroll(parseProvisioningKey(key.value), { version: 'test', ephemeral: false });
}

test('a certificate that expired offline is renewed within the grace: same connector, new key, valid certificate', async () => {
  const edge = await startTestEdge({ certificateValidityMs: VALIDITY_MS });
  try {
    const identity = await enrolled(edge);
    await expiry(identity.certPem);
    assert.ok(Date.parse(new X509Certificate(identity.certPem).validTo) < Date.now(), 'expired');
    const renewed = await renewExpiredCertificate(identity);
    assert.equal(renewed.connectorId, identity.connectorId);
    assert.notEqual(renewed.keyPem, identity.keyPem, 'a new key');
    const cert = new X509Certificate(renewed.certPem);
    assert.ok(Date.parse(cert.validTo) > Date.now(), 'the new certificate is valid');
    assert.ok(cert.checkPrivateKey(createPrivateKey(renewed.keyPem)));
    const listed = await edge.api<{ cert_not_after: string }>(
      'GET',
      `/connectors/${identity.connectorId}`,
    );
    assert.ok(Date.parse(listed.body.cert_not_after) > Date.now(), 'the store has the new expiry');

    // The replaced certificate renews nothing any more, even with its own key.
    await assert.rejects(renewExpiredCertificate(identity), (err: Error) => {
      assert.ok(isPosternError(err, 'POSTERN_ERR_RENEWAL_REFUSED'), err.message);
      assert.match(err.message, /not the last one issued/);
      return true;
    });
  } finally {
    await edge.stop();
  }
});

test('renewal is refused past the grace, without the old key, and for a deleted connector', async () => {
  const edge = await startTestEdge({
    certificateValidityMs: VALIDITY_MS,
    expiredRenewalGraceMs: 300,
  });
  try {
    const late = await enrolled(edge);
    await expiry(late.certPem, 400);
    await assert.rejects(renewExpiredCertificate(late), (err: Error) => {
      assert.ok(isPosternError(err, 'POSTERN_ERR_RENEWAL_REFUSED'), err.message);
      assert.match(err.message, /more than 300 ms ago/);
      assert.match(err.message, /--provision-key/);
      return true;
    });
  } finally {
    await edge.stop();
  }
  const lenient = await startTestEdge({ certificateValidityMs: VALIDITY_MS });
  try {
    const identity = await enrolled(lenient);
    const other = await generateKeyPairAndCsr({ commonName: 'x' });
    await expiry(identity.certPem);
    await assert.rejects(
      renewExpiredCertificate({ ...identity, keyPem: other.keyPem }),
      (err: Error) =>
        isPosternError(err, 'POSTERN_ERR_RENEWAL_REFUSED') && /proof of its key/.test(err.message),
    );
    const gone = await enrolled(lenient);
    assert.equal((await lenient.api('DELETE', `/connectors/${gone.connectorId}`)).status, 204);
    await assert.rejects(renewExpiredCertificate(gone), (err: Error) =>
      isPosternError(err, 'POSTERN_ERR_CONNECTOR_REVOKED'),
    );
  } finally {
    await lenient.stop();
  }
});
