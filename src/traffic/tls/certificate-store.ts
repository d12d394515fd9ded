import { X509Certificate, createPrivateKey } from 'node:crypto';
import tls from 'node:tls';
import { tlsErrors } from './errors.js';

/** A certificate (PEM, chain allowed: leaf first) and its private key (PEM). */
export interface CertificatePair {
  /** Name for errors and listings. Default `certificate-<index>`. */
  readonly name?: string;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/** Settings applied to every certificate's TLS context. */
export interface CertificateStoreOptions {
  /** Lowest TLS version accepted. Default TLSv1.2. */
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** What the store knows about one certificate. */
export interface StoredCertificate {
  readonly name: string;
  /** DNS names from the SAN (or the subject CN when the SAN has none), lower case. */
  readonly dnsNames: readonly string[];
  readonly validTo: Date;
  readonly context: tls.SecureContext;
}

/**
 * Certificates for TLS termination, chosen by SNI: an exact SAN DNS name first, then a
 * wildcard (`*.example.com` covers exactly one label), else the first certificate.
 */
export class CertificateStore {
  readonly certificates: readonly StoredCertificate[];
  readonly #exact = new Map<string, StoredCertificate>();
  readonly #wildcard = new Map<string, StoredCertificate>();

  /** Throws POSTERN_ERR_TLS_CERTIFICATE_INVALID or POSTERN_ERR_TLS_KEY_MISMATCH naming the pair. */
  constructor(pairs: readonly CertificatePair[], options: CertificateStoreOptions = {}) {
    this.certificates = pairs.map((p, i) => load(p, p.name ?? `certificate-${i}`, options));
    for (const c of this.certificates) {
      for (const dns of c.dnsNames) {
        const table = dns.startsWith('*.') ? this.#wildcard : this.#exact;
        const key = dns.startsWith('*.') ? dns.slice(1) : dns;
        // The first certificate naming a host wins, in configuration order.
        if (!table.has(key)) table.set(key, c);
      }
    }
  }

  /** The certificate served to clients that send no SNI or an unknown name. */
  get default(): StoredCertificate | undefined {
    return this.certificates[0];
  }

  /** The certificate for an SNI server name. */
  find(servername: string | undefined): StoredCertificate | undefined {
    if (servername) {
      const name = servername.toLowerCase();
      const exact = this.#exact.get(name);
      if (exact) return exact;
      const dot = name.indexOf('.');
      const wild = dot > 0 ? this.#wildcard.get(name.slice(dot)) : undefined;
      if (wild) return wild;
    }
    return this.default;
  }

  /** An `SNICallback` for `tls.createServer` that serves {@link find}'s choice. */
  readonly sniCallback = (
    servername: string,
    cb: (err: Error | null, ctx?: tls.SecureContext) => void,
  ): void => {
    cb(null, this.find(servername)?.context);
  };
}

function load(
  pair: CertificatePair,
  name: string,
  options: CertificateStoreOptions,
): StoredCertificate {
  let x509: X509Certificate;
  let context: tls.SecureContext;
  try {
    x509 = new X509Certificate(pair.cert);
    const key = createPrivateKey(pair.key);
    if (!x509.checkPrivateKey(key)) throw tlsErrors.keyMismatch(name);
    context = tls.createSecureContext({
      cert: pair.cert,
      key: pair.key,
      minVersion: options.minVersion ?? 'TLSv1.2',
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'POSTERN_ERR_TLS_KEY_MISMATCH') throw err;
    throw tlsErrors.certificateInvalid(name, err);
  }
  return { name, dnsNames: dnsNamesOf(x509), validTo: new Date(x509.validTo), context };
}

/** DNS names of a certificate: SAN DNS entries, or the subject CN when there are none. */
export function dnsNamesOf(cert: X509Certificate): string[] {
  const names = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  if (names.length > 0) return names;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}
