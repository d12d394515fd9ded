import { createPrivateKey, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { PkiErrors } from './errors.js';
import { ECDSA_P256, webCrypto, x509 } from './x509.js';
import type { CryptoKey, CryptoKeyPair } from './x509.js';

/** Parses a PEM private key (PKCS#8 or SEC1) and insists on ECDSA P-256. */
export function parsePrivateKeyPem(keyPem: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: keyPem, format: 'pem' });
  } catch (err) {
    throw PkiErrors.keyInvalid(err);
  }
  assertP256(key, what);
  return key;
}

/** Throws POSTERN_ERR_PKI_UNSUPPORTED_KEY unless `key` is an EC key on P-256. */
export function assertP256(key: KeyObject, what: string): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const found =
      key.asymmetricKeyType === 'ec'
        ? `EC ${curve ?? 'unknown-curve'}`
        : String(key.asymmetricKeyType);
    throw PkiErrors.unsupportedKey(what, found);
  }
}

/** The DER SubjectPublicKeyInfo of a private key's public half. */
export function publicKeyDer(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
}

/** Imports a P-256 private key as a non-extractable WebCrypto signing key. */
export async function toSigningKey(privateKey: KeyObject): Promise<CryptoKey> {
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  return webCrypto.subtle.importKey('pkcs8', pkcs8, ECDSA_P256, false, ['sign']);
}

/** Generates a fresh, extractable P-256 key pair. */
export async function generateP256KeyPair(): Promise<CryptoKeyPair> {
  return webCrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
}

/** Exports a private key as PKCS#8 PEM ("PRIVATE KEY"). */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webCrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/**
 * Throws POSTERN_ERR_PKI_KEY_MISMATCH unless `key` is the private half of `cert`'s public key
 * (a connector checks this on the certificate it receives from enrollment or renewal).
 */
export function assertKeyMatchesCertificate(cert: x509.X509Certificate, key: KeyObject): void {
  const fromKey = publicKeyDer(key);
  const fromCert = Buffer.from(cert.publicKey.rawData);
  if (fromKey.length !== fromCert.length || !timingSafeEqual(fromKey, fromCert)) {
    throw PkiErrors.keyMismatch();
  }
}
