import { PosternError } from '../core/index.js';

/** Errors raised by src/pki; callers match on `code`. */
export const PkiErrors = {
  certificateInvalid: (what: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_PKI_CERT_INVALID',
      `The ${what} is not a readable X.509 certificate. Pass a PEM "CERTIFICATE" block or its DER bytes.`,
      { cause },
    ),
  keyInvalid: (cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_PKI_KEY_INVALID',
      'The private key is not a readable PEM key. Pass the PKCS#8 ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY") PEM that was generated with the certificate.',
      { cause },
    ),
  unsupportedKey: (what: string, found: string) =>
    new PosternError(
      'POSTERN_ERR_PKI_UNSUPPORTED_KEY',
      `The ${what} uses a ${found} key; Postern only accepts ECDSA P-256. Generate a P-256 key (openssl ecparam -name prime256v1 -genkey) and try again.`,
    ),
  keyMismatch: () =>
    new PosternError(
      'POSTERN_ERR_PKI_KEY_MISMATCH',
      'The private key does not belong to the certificate (their public keys differ). Pass the key that was generated together with this certificate.',
    ),
  notCa: (subject: string, reason: string) =>
    new PosternError(
      'POSTERN_ERR_PKI_NOT_CA',
      `The certificate "${subject}" cannot act as a CA: ${reason}. Use a certificate with basicConstraints CA:TRUE and keyUsage keyCertSign, e.g. one made by createCertificateAuthority.`,
    ),
  caNotValid: (at: Date, notBefore: Date, notAfter: Date) =>
    new PosternError(
      'POSTERN_ERR_PKI_CA_NOT_VALID',
      `The CA certificate is not valid at ${at.toISOString()} (it is valid from ${notBefore.toISOString()} to ${notAfter.toISOString()}). Rotate the CA, or correct the system clock.`,
    ),
  csrInvalid: (reason: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_PKI_CSR_INVALID',
      `The certificate signing request was rejected: ${reason}. Generate a fresh key pair and CSR (generateKeyPairAndCsr) and send it unchanged.`,
      { cause },
    ),
  nameInvalid: (what: string, value: string, rule: string) =>
    new PosternError(
      'POSTERN_ERR_PKI_NAME_INVALID',
      `Invalid ${what} ${JSON.stringify(value)}: ${rule}.`,
    ),
  identityMissing: (reason: string) =>
    new PosternError(
      'POSTERN_ERR_PKI_IDENTITY_MISSING',
      `The certificate does not carry a connector identity: ${reason}. Only certificates issued by the Postern CA to an enrolled connector identify a connector; enroll the connector again.`,
    ),
} as const;
