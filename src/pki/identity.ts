import { X509Certificate } from 'node:crypto';
import { certificateDer, type CertificateInput } from './certificate-input.js';
import { PkiErrors } from './errors.js';
import { CONNECTOR_NAME_PATTERN, CONNECTOR_URI_PREFIX, GROUP_URI_PREFIX } from './names.js';
import { parseAltNames } from './subject-alt-names.js';

/** Who a connector certificate names, and when it stops being valid. */
export interface ConnectorIdentity {
  readonly connectorId: string;
  readonly group: string;
  /** Lower-case hex, as issued. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Reads the connector id and group from a certificate's SAN URIs. It does not check the chain:
 * call it on a peer certificate that TLS has already verified against the Postern CA.
 */
export function parseConnectorIdentity(cert: CertificateInput): ConnectorIdentity {
  // node's native parser: this runs once per accepted tunnel, where a JS ASN.1 parse costs ~10x.
  const parsed = cert instanceof X509Certificate ? cert : nodeCertificate(certificateDer(cert));
  const uris = sanUris(parsed.subjectAltName);
  return {
    connectorId: single(uris, CONNECTOR_URI_PREFIX, 'connector'),
    group: single(uris, GROUP_URI_PREFIX, 'group'),
    serialNumber: parsed.serialNumber.toLowerCase(),
    notBefore: new Date(parsed.validFrom),
    notAfter: new Date(parsed.validTo),
  };
}

function nodeCertificate(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw PkiErrors.certificateInvalid('certificate', err);
  }
}

function sanUris(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined) {
    throw PkiErrors.identityMissing('it has no subjectAltName extension');
  }
  try {
    return parseAltNames(subjectAltName)
      .filter((name) => name.type === 'URI')
      .map((name) => name.value);
  } catch (err) {
    throw PkiErrors.identityMissing(`its subjectAltName is unreadable (${String(err)})`);
  }
}

// Exactly one URI of each kind: a certificate naming two connectors must not be read as either.
function single(uris: readonly string[], prefix: string, what: string): string {
  const values = uris
    .filter((uri) => uri.startsWith(prefix))
    .map((uri) => uri.slice(prefix.length));
  if (values.length !== 1) {
    throw PkiErrors.identityMissing(`expected one ${prefix}<name> URI, found ${values.length}`);
  }
  const value = values[0] ?? '';
  if (!CONNECTOR_NAME_PATTERN.test(value)) {
    throw PkiErrors.identityMissing(`its ${what} name ${JSON.stringify(value)} is malformed`);
  }
  return value;
}
