// Public entry of src/pki: the enrollment CA, connector CSRs, identities in certificates, renewal.
export { PkiErrors } from './errors.js';
export type { CertificateInput } from './certificate-input.js';
export {
  CertificateAuthority,
  createCertificateAuthority,
  loadCertificateAuthority,
} from './certificate-authority.js';
export type { CaMaterial, CreateCaOptions, LoadCaOptions } from './certificate-authority.js';
export { DEFAULT_CLIENT_VALIDITY_MS } from './client-certificate.js';
export type { ClientCertificateOptions, IssuedClientCertificate } from './client-certificate.js';
export { DEFAULT_SERVER_VALIDITY_MS } from './server-certificate.js';
export type { IssuedServerCertificate, ServerCertificateOptions } from './server-certificate.js';
export { generateKeyPairAndCsr, MAX_CSR_PEM_LENGTH } from './csr.js';
export type { CsrOptions, KeyAndCsr } from './csr.js';
export { parseConnectorIdentity } from './identity.js';
export type { ConnectorIdentity } from './identity.js';
export { CONNECTOR_NAME_PATTERN, CONNECTOR_URI_PREFIX, GROUP_URI_PREFIX } from './names.js';
export { needsRenewal, renewalTime, RENEWAL_FRACTION } from './renewal.js';
export type { ValidityWindow } from './validity.js';
export { certificateFingerprint } from './fingerprint.js';
export { assertCertificateMatchesKey } from './key-pair-check.js';
export { CLOCK_SKEW_MS } from './x509.js';
export { enrollmentProof, hashProvisioningSecret, sameSecretValue } from './enrollment-proof.js';
export { renewalProof, verifyRenewalProof } from './renewal-proof.js';
