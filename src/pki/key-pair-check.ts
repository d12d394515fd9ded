import { parseCertificate, type CertificateInput } from './certificate-input.js';
import { assertKeyMatchesCertificate, parsePrivateKeyPem } from './keys.js';

/**
 * Throws POSTERN_ERR_PKI_KEY_MISMATCH unless `keyPem` is the private key of `cert`, e.g. a
 * connector checking the certificate it got back for its CSR before it stores the pair.
 */
export function assertCertificateMatchesKey(cert: CertificateInput, keyPem: string): void {
  assertKeyMatchesCertificate(parseCertificate(cert), parsePrivateKeyPem(keyPem, 'private key'));
}
