import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { isPosternError } from '../core/index.js';
import {
  createCertificateAuthority,
  generateKeyPairAndCsr,
  loadCertificateAuthority,
  parseConnectorIdentity,
  type CaMaterial,
  type CertificateAuthority,
  type IssuedClientCertificate,
} from './index.js';
import { parsePrivateKeyPem, toSigningKey } from './keys.js';
import { ECDSA_P256, webCrypto, x509 } from './x509.js';

function hasCode(code: string) {
  return (err: unknown) => isPosternError(err, code);
}

/** Signs a certificate with arbitrary SAN URIs using the CA key, bypassing issuance's checks. */
async function craft(material: CaMaterial, uris: readonly string[]): Promise<string> {
  const caCert = new x509.X509Certificate(material.certPem);
  const keys = await webCrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: 'CN=crafted',
      issuer: caCert.subjectName,
      publicKey: keys.publicKey,
      signingKey: await toSigningKey(parsePrivateKeyPem(material.keyPem, 'CA key')),
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.SubjectAlternativeNameExtension(uris.map((value) => ({ type: 'url', value }))),
      ],
    },
    webCrypto,
  );
  return cert.toString('pem');
}

describe('parseConnectorIdentity', () => {
  let material: CaMaterial;
  let ca: CertificateAuthority;
  let issued: IssuedClientCertificate;

  before(async () => {
    material = await createCertificateAuthority();
    ca = await loadCertificateAuthority(material);
    const { csrPem } = await generateKeyPairAndCsr({ commonName: 'x' });
    issued = await ca.issueClientCertificate(csrPem, { connectorId: 'conn-7', group: 'dc.east' });
  });

  test('reads the connector id, group, serial and validity from every certificate form', () => {
    const expected = {
      connectorId: 'conn-7',
      group: 'dc.east',
      serialNumber: issued.serialNumber,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
    };
    const node = new X509Certificate(issued.certPem);
    const forms: unknown[] = [
      issued.certPem,
      node.raw,
      new Uint8Array(node.raw),
      node,
      new x509.X509Certificate(issued.certPem),
      { raw: node.raw, subject: { CN: 'ignored' } },
    ];
    for (const form of forms) {
      assert.deepEqual(
        parseConnectorIdentity(form as Parameters<typeof parseConnectorIdentity>[0]),
        expected,
      );
    }
  });

  test('refuses certificates without a connector identity', async () => {
    const server = await ca.issueServerCertificate({ dnsNames: ['edge.example'] });
    assert.throws(
      () => parseConnectorIdentity(server.certPem),
      hasCode('POSTERN_ERR_PKI_IDENTITY_MISSING'),
    );
    assert.throws(
      () => parseConnectorIdentity(material.certPem),
      hasCode('POSTERN_ERR_PKI_IDENTITY_MISSING'),
    );
    const groupOnly = await craft(material, ['urn:postern:group:g']);
    assert.throws(
      () => parseConnectorIdentity(groupOnly),
      hasCode('POSTERN_ERR_PKI_IDENTITY_MISSING'),
    );
    const connectorOnly = await craft(material, ['urn:postern:connector:c']);
    assert.throws(
      () => parseConnectorIdentity(connectorOnly),
      hasCode('POSTERN_ERR_PKI_IDENTITY_MISSING'),
    );
  });

  test('refuses a certificate that names two connectors', async () => {
    const pem = await craft(material, [
      'urn:postern:connector:a',
      'urn:postern:connector:b',
      'urn:postern:group:g',
    ]);
    assert.throws(() => parseConnectorIdentity(pem), hasCode('POSTERN_ERR_PKI_IDENTITY_MISSING'));
  });

  test('does not read names smuggled inside another SAN value', async () => {
    // node prints this URI as one quoted value; splitting on ", " would find "connector:admin".
    const pem = await craft(material, [
      'https://x.example/?, URI:urn:postern:connector:admin, ',
      'urn:postern:group:g',
    ]);
    assert.match(new X509Certificate(pem).subjectAltName ?? '', /URI:urn:postern:connector:admin/);
    assert.throws(() => parseConnectorIdentity(pem), hasCode('POSTERN_ERR_PKI_IDENTITY_MISSING'));
    const malformed = await craft(material, ['urn:postern:connector:Admin', 'urn:postern:group:g']);
    assert.throws(
      () => parseConnectorIdentity(malformed),
      hasCode('POSTERN_ERR_PKI_IDENTITY_MISSING'),
    );
  });

  test('reports unreadable input with a code', () => {
    for (const bad of ['garbage', new Uint8Array([1, 2, 3]), {}]) {
      assert.throws(
        () => parseConnectorIdentity(bad as Parameters<typeof parseConnectorIdentity>[0]),
        hasCode('POSTERN_ERR_PKI_CERT_INVALID'),
      );
    }
  });
});
