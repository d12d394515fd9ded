import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { findingProblem, sourceOf } from '../../config/index.js';
import type { Certificate, ConfigProblem, Configuration, Finding } from '../../config/index.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Parses every certificate and key of a configuration and checks that each key belongs to its
 * certificate (the check src/config cannot make without node:crypto). Returns every problem,
 * located in the document that defined the certificate.
 */
export function certificateProblems(cfg: Configuration): ConfigProblem[] {
  // Configurations assembled outside a document may lack the collection.
  const certificates = (cfg.certificates as Configuration['certificates'] | undefined) ?? [];
  return certificates
    .flatMap((cert, i) => check(cert, i))
    .map((finding) => findingProblem(finding));
}

function check(cert: Certificate, index: number): Finding[] {
  const finding = (field: 'cert' | 'key', message: string): Finding => ({
    object: cert,
    path: ['certificates', index],
    field: [field],
    message: `${message}${fromFile(cert, field)}`,
  });
  const parsed = parseChain(cert.cert);
  const findings: Finding[] = [];
  if (typeof parsed === 'string') findings.push(finding('cert', parsed));
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(cert.key);
  } catch (err) {
    findings.push(finding('key', `is not a usable private key: ${reason(err)}`));
  }
  if (typeof parsed !== 'string' && key !== undefined && !parsed.checkPrivateKey(key)) {
    findings.push(
      finding(
        'key',
        `does not belong to the certificate "${cert.name}" (${parsed.subject.replace(/\n/g, ', ')}); ` +
          'pair each certificate with its own key',
      ),
    );
  }
  return findings;
}

/** The leaf certificate, after checking that every certificate of the chain parses. */
function parseChain(pem: string): X509Certificate | string {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  let leaf: X509Certificate | undefined;
  for (const [i, block] of blocks.entries()) {
    try {
      const cert = new X509Certificate(block);
      leaf ??= cert;
    } catch (err) {
      return `certificate ${i + 1} of the PEM text does not parse: ${reason(err)}`;
    }
  }
  return leaf ?? 'holds no PEM certificate';
}

function fromFile(cert: Certificate, field: 'cert' | 'key'): string {
  const name = sourceOf(cert)?.fileRef([field]);
  return name === undefined ? '' : ` (value read from "${name}")`;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
