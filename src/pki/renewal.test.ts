import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createCertificateAuthority,
  generateKeyPairAndCsr,
  loadCertificateAuthority,
  needsRenewal,
  renewalTime,
} from './index.js';

test('renewal time is two thirds of the way from notBefore to notAfter', () => {
  const notBefore = new Date(Date.UTC(2030, 0, 1));
  const notAfter = new Date(notBefore.getTime() + 3 * 60 * 60_000);
  assert.equal(
    renewalTime({ notBefore, notAfter }).getTime(),
    notBefore.getTime() + 2 * 60 * 60_000,
  );
});

test('an issued certificate needs renewal from two thirds of its lifetime on', async () => {
  const now = Date.UTC(2030, 0, 15, 12, 0, 0);
  const clock = { now: () => now };
  const ca = await loadCertificateAuthority(
    await createCertificateAuthority({ clock: { now: () => now - 1000 } }),
  );
  const { csrPem } = await generateKeyPairAndCsr({ commonName: 'c' });
  const issued = await ca.issueClientCertificate(csrPem, { connectorId: 'c', group: 'g', clock });
  const lifetime = issued.notAfter.getTime() - issued.notBefore.getTime();
  assert.equal(lifetime, 24 * 60 * 60_000 + 5 * 60_000);
  const renewAt = renewalTime(issued).getTime();
  assert.equal(renewAt, issued.notBefore.getTime() + (lifetime * 2) / 3);
  for (const cert of [issued.certPem, issued]) {
    assert.equal(needsRenewal(cert, renewAt - 1), false);
    assert.equal(needsRenewal(cert, new Date(renewAt)), true);
    assert.equal(needsRenewal(cert, now), false);
    assert.equal(needsRenewal(cert, issued.notAfter), true);
  }
});
