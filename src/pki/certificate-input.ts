import type { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { PkiErrors } from './errors.js';
import { x509 } from './x509.js';

/**
 * Any form a certificate reaches us in: a PEM string, DER bytes, a node:crypto X509Certificate,
 * an @peculiar/x509 certificate, or what `tlsSocket.getPeerCertificate()` returns (it has `.raw`).
 */
export type CertificateInput =
  string | Uint8Array | NodeX509Certificate | x509.X509Certificate | { readonly raw: Uint8Array };

/** The DER bytes of a certificate given in any accepted form. */
export function certificateDer(input: CertificateInput, what = 'certificate'): Uint8Array {
  if (typeof input === 'string') {
    try {
      return new Uint8Array(x509.PemConverter.decodeFirst(input));
    } catch (err) {
      throw PkiErrors.certificateInvalid(what, err);
    }
  }
  if (input instanceof Uint8Array) return input;
  if (input instanceof x509.X509Certificate) return new Uint8Array(input.rawData);
  // node's X509Certificate and tls PeerCertificate both expose the DER as `raw`; a peer that
  // sent no certificate yields `{}` from getPeerCertificate().
  const raw = (input as { raw?: unknown }).raw;
  if (raw instanceof Uint8Array && raw.length > 0) return raw;
  throw PkiErrors.certificateInvalid(what, new Error('no certificate bytes (no `raw` DER)'));
}

/** Parses a certificate given in any accepted form. */
export function parseCertificate(
  input: CertificateInput,
  what = 'certificate',
): x509.X509Certificate {
  if (input instanceof x509.X509Certificate) return input;
  const der = certificateDer(input, what);
  try {
    return new x509.X509Certificate(der);
  } catch (err) {
    throw PkiErrors.certificateInvalid(what, err);
  }
}

/** Encodes certificate DER bytes as a PEM "CERTIFICATE" block. */
export function certificateToPem(cert: x509.X509Certificate): string {
  return cert.toString('pem');
}
