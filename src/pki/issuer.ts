import { CoreErrors } from '../core/index.js';
import { PkiErrors } from './errors.js';
import { randomSerialNumber } from './serial-number.js';
import type { ValidityWindow } from './validity.js';
import { ECDSA_P256, webCrypto, x509 } from './x509.js';
import type { CryptoKey } from './x509.js';

/** What a CA needs to sign: its name, key and identifier, and its own validity. */
export interface Issuer {
  readonly name: x509.Name;
  readonly signingKey: CryptoKey;
  readonly authorityKeyIdentifier: x509.AuthorityKeyIdentifierExtension;
  readonly validity: ValidityWindow;
}

/** Parameters of one leaf certificate. */
export interface LeafParams {
  readonly subject: x509.JsonName;
  readonly publicKey: x509.PublicKey | CryptoKey;
  readonly validity: ValidityWindow;
  readonly keyUsage: x509.KeyUsageFlags;
  readonly extendedKeyUsage: x509.ExtendedKeyUsage;
  readonly subjectAltNames: x509.JsonGeneralNames;
}

/** Throws POSTERN_ERR_PKI_CA_NOT_VALID unless the issuer is valid at `nowMs`. */
export function assertIssuerValid(issuer: Issuer, nowMs: number): void {
  const { notBefore, notAfter } = issuer.validity;
  if (nowMs < notBefore.getTime() || nowMs > notAfter.getTime()) {
    throw PkiErrors.caNotValid(new Date(nowMs), notBefore, notAfter);
  }
}

/** Signs an end-entity certificate: CA:FALSE, one EKU, SAN, SKI and AKI, random serial. */
export async function signLeaf(issuer: Issuer, params: LeafParams): Promise<x509.X509Certificate> {
  if (params.validity.notAfter <= params.validity.notBefore) {
    throw CoreErrors.invalidArgument('validity', 'the certificate would expire before it starts');
  }
  const extensions = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(params.keyUsage, true),
    new x509.ExtendedKeyUsageExtension([params.extendedKeyUsage]),
    new x509.SubjectAlternativeNameExtension(params.subjectAltNames),
    await x509.SubjectKeyIdentifierExtension.create(params.publicKey, false, webCrypto),
    issuer.authorityKeyIdentifier,
  ];
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: params.subject,
      issuer: issuer.name,
      notBefore: params.validity.notBefore,
      notAfter: params.validity.notAfter,
      publicKey: params.publicKey,
      signingKey: issuer.signingKey,
      signingAlgorithm: ECDSA_P256,
      extensions,
    },
    webCrypto,
  );
}
