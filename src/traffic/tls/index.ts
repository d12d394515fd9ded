export { CertificateStore, dnsNamesOf } from './certificate-store.js';
export type {
  CertificatePair,
  CertificateStoreOptions,
  StoredCertificate,
} from './certificate-store.js';
export { parseClientHello } from './client-hello.js';
export type { ClientHelloResult } from './client-hello.js';
export { TlsPassthroughVirtualServer } from './tls-passthrough-virtual-server.js';
export type {
  TlsPassthroughOptions,
  TlsSessionRecord,
  SniRoute,
} from './tls-passthrough-virtual-server.js';
export { tlsErrors } from './errors.js';
