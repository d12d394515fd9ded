import { isPosternError } from '../core/index.js';
import { PkiErrors } from './errors.js';
import { generateP256KeyPair, privateKeyToPem } from './keys.js';
import { ECDSA_P256, webCrypto, x509 } from './x509.js';

/** CSRs larger than this are refused before parsing; a P-256 CSR is a few hundred bytes. */
export const MAX_CSR_PEM_LENGTH = 16 * 1024;

/** Options for {@link generateKeyPairAndCsr}. */
export interface CsrOptions {
  /** Subject common name to ask for; the CA replaces it with the connector id. */
  readonly commonName: string;
  /** SAN URIs to ask for; the CA ignores them and sets its own. Default none. */
  readonly uris?: readonly string[];
}

/** A private key that stays with its owner, and the CSR that is sent to the CA. */
export interface KeyAndCsr {
  /** PKCS#8 PEM ("PRIVATE KEY"). */
  readonly keyPem: string;
  /** PKCS#10 PEM ("CERTIFICATE REQUEST"). */
  readonly csrPem: string;
}

/** Generates a P-256 key pair and a CSR signed with it, on the side that will hold the key. */
export async function generateKeyPairAndCsr(options: CsrOptions): Promise<KeyAndCsr> {
  const keys = await generateP256KeyPair();
  const uris = options.uris ?? [];
  const extensions =
    uris.length > 0
      ? [new x509.SubjectAlternativeNameExtension(uris.map((value) => ({ type: 'url', value })))]
      : [];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: [{ CN: [options.commonName] }], keys, signingAlgorithm: ECDSA_P256, extensions },
    webCrypto,
  );
  return { keyPem: await privateKeyToPem(keys.privateKey), csrPem: csr.toString('pem') };
}

/**
 * Parses a PEM CSR and checks its self-signature and key type; the caller may then trust only
 * its public key (proof of possession), never the names it asks for.
 */
export async function readCertificateRequest(
  csrPem: string,
): Promise<x509.Pkcs10CertificateRequest> {
  if (typeof csrPem !== 'string' || csrPem.length > MAX_CSR_PEM_LENGTH) {
    throw PkiErrors.csrInvalid(
      `it must be a PEM string of at most ${MAX_CSR_PEM_LENGTH} characters`,
    );
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
    // Inside the try: the library decodes some fields lazily and throws plain errors for them.
    assertCsrAlgorithms(csr);
  } catch (err) {
    if (isPosternError(err)) throw err;
    throw PkiErrors.csrInvalid('it is not a readable PKCS#10 PEM', err);
  }
  let valid: boolean;
  try {
    valid = await csr.verify(webCrypto);
  } catch (err) {
    throw PkiErrors.csrInvalid('its signature could not be checked', err);
  }
  if (!valid) throw PkiErrors.csrInvalid('its signature does not match its contents');
  return csr;
}

// Everything Postern issues is ECDSA P-256 with SHA-256; refuse other keys before any crypto runs.
function assertCsrAlgorithms(csr: x509.Pkcs10CertificateRequest): void {
  // The library types algorithms with the DOM's Algorithm, which this project does not compile with.
  const key = csr.publicKey.algorithm as unknown as { name: string; namedCurve?: string };
  if (key.name !== 'ECDSA' || key.namedCurve !== 'P-256') {
    const found = `${key.name} ${key.namedCurve ?? ''}`.trim();
    throw PkiErrors.unsupportedKey('certificate signing request', found);
  }
  const signature = csr.signatureAlgorithm as unknown as { name: string; hash?: { name: string } };
  if (signature.name !== 'ECDSA' || signature.hash?.name !== 'SHA-256') {
    const found = `${signature.name}/${signature.hash?.name ?? 'no hash'}`;
    throw PkiErrors.csrInvalid(`it is signed with ${found}, not ECDSA/SHA-256`);
  }
}
