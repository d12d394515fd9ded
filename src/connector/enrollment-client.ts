import { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import {
  ENROLL_ALPN,
  ENROLL_EXPORTER_LABEL,
  expectMessage,
  makeMessage,
  type ProvisioningKeyValue,
} from '../protocol/index.js';
import {
  enrollmentProof,
  generateKeyPairAndCsr,
  hashProvisioningSecret,
  renewalProof,
  sameSecretValue,
} from '../pki/index.js';
import { readMessage, writeMessage } from '../tunnel/index.js';
import { connectToEdge } from './edge-connection.js';
import { connectorErrors } from './errors.js';
import type { ConnectorIdentityFiles } from './identity-store.js';

const STEP_TIMEOUT_MS = 15_000;

/**
 * Enrolls with a provisioning key: the edge first proves it knows the key (an HMAC over this
 * TLS session's exporter value), only then is the secret sent, with a CSR for a key pair
 * generated here. The private key never leaves the connector.
 */
export async function enroll(
  key: ProvisioningKeyValue,
  options: { version: string; ephemeral: boolean },
): Promise<ConnectorIdentityFiles> {
  const socket = await connectToEdge(key.edgeAddress, { alpn: ENROLL_ALPN });
  try {
    const exporter = socket.exportKeyingMaterial(32, ENROLL_EXPORTER_LABEL, Buffer.alloc(0));
    writeMessage(socket, makeMessage({ type: 'enroll_hello', keyId: key.keyId }));
    const challenge = expectMessage(await next(socket, key.edgeAddress), 'enroll_challenge');
    const expected = enrollmentProof(hashProvisioningSecret(key.secret), exporter);
    if (!sameSecretValue(challenge.edgeProof, expected))
      throw connectorErrors.edgeUnverified(key.edgeAddress);
    assertServedUnderCa(socket.getPeerX509Certificate(), challenge.caPem, key.edgeAddress);
    const { keyPem, csrPem } = await generateKeyPairAndCsr({ commonName: 'postern-connector' });
    writeMessage(
      socket,
      makeMessage({
        type: 'enroll_request',
        secret: key.secret,
        csrPem,
        hostname: hostname(),
        version: options.version,
        ephemeral: options.ephemeral,
      }),
    );
    const result = expectMessage(await next(socket, key.edgeAddress), 'enroll_result');
    return {
      connectorId: result.connectorId,
      group: result.group,
      edgeAddress: key.edgeAddress,
      ephemeral: options.ephemeral,
      keyPem,
      certPem: result.certPem,
      caPem: result.caPem,
    };
  } finally {
    socket.destroy();
  }
}

/**
 * Renews a certificate that expired while the connector was offline (a tunnel needs a valid one):
 * on an enrollment connection to an edge whose certificate is checked against the CA the
 * connector already has, it sends its last certificate and a CSR for a new key, signed with the
 * old key over this TLS session's exporter value. Same identity, new key and certificate.
 */
export async function renewExpiredCertificate(
  identity: ConnectorIdentityFiles,
): Promise<ConnectorIdentityFiles> {
  const address = identity.edgeAddress;
  const socket = await connectToEdge(address, { alpn: ENROLL_ALPN });
  try {
    assertServedUnderCa(socket.getPeerX509Certificate(), identity.caPem, address);
    const exporter = socket.exportKeyingMaterial(32, ENROLL_EXPORTER_LABEL, Buffer.alloc(0));
    const { keyPem, csrPem } = await generateKeyPairAndCsr({ commonName: 'postern-connector' });
    writeMessage(
      socket,
      makeMessage({
        type: 'renew_request',
        connectorId: identity.connectorId,
        certPem: identity.certPem,
        csrPem,
        proof: renewalProof(identity.keyPem, exporter, csrPem),
      }),
    );
    const result = expectMessage(await next(socket, address), 'renew_result');
    return { ...identity, keyPem, certPem: result.certPem, caPem: result.caPem };
  } finally {
    socket.destroy();
  }
}

async function next(socket: Parameters<typeof readMessage>[0], address: string) {
  const message = await readMessage(socket, { timeoutMs: STEP_TIMEOUT_MS, maxBytes: 64 * 1024 });
  if (!message) throw connectorErrors.enrollmentProtocol(address, 'the edge closed the connection');
  return message;
}

function assertServedUnderCa(
  cert: X509Certificate | undefined,
  caPem: string,
  address: string,
): void {
  const ca = new X509Certificate(caPem);
  if (!cert || !cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw connectorErrors.enrollmentProtocol(
      address,
      "the edge's TLS certificate is not signed by the CA it sent",
    );
  }
}
