import { PosternError } from '../core/index.js';

/** Errors of the connector: enrollment, state, tunnel. */
export const connectorErrors = {
  stateUnreadable: (dir: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_CONNECTOR_STATE',
      `The connector state in ${dir} cannot be read (${(cause as Error).message}). Fix its permissions, or remove the directory and enroll again with a provisioning key.`,
      { cause },
    ),
  noProvisioningKey: () =>
    new PosternError(
      'POSTERN_ERR_NO_PROVISIONING_KEY',
      'The connector has not enrolled yet and no provisioning key was given. Pass --provision-key, set POSTERN_PROVISION_KEY, or point --provision-key-file at a file holding the key (create one with `postern keys create --group NAME`).',
    ),
  edgeUnverified: (address: string) =>
    new PosternError(
      'POSTERN_ERR_EDGE_UNVERIFIED',
      `The server at ${address} could not prove it knows the provisioning key, so the connector did not send the key's secret. Either the key value was not copied whole (check its secret), the address does not point at your Postern edge, or the key no longer exists there.`,
    ),
  edgeUnreachable: (address: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_EDGE_UNREACHABLE',
      `Cannot reach the edge at ${address}: ${(cause as Error).message}. Check the address, DNS and that outbound TCP to that port is allowed.`,
      { cause },
    ),
  enrollmentProtocol: (address: string, why: string) =>
    new PosternError(
      'POSTERN_ERR_ENROLLMENT_PROTOCOL',
      `Enrollment with ${address} failed: ${why}. Check that the address is a Postern edge's tunnel port and both run the same release.`,
    ),
  badEdgeAddress: (address: string) =>
    new PosternError(
      'POSTERN_ERR_INVALID_ARGUMENT',
      `The edge address "${address}" (--edge, POSTERN_EDGE) is not host:port. Give the edge's tunnel address, e.g. edge.example.com:8443 or [2001:db8::1]:8443, or a comma list of them.`,
    ),
  certificateExpired: (connectorId: string, notAfter: Date, because?: string, cause?: Error) =>
    new PosternError(
      'POSTERN_ERR_CONNECTOR_CERT_EXPIRED',
      `The certificate of connector ${connectorId} expired at ${notAfter.toISOString()} while it was offline, so the edge refuses it${
        because === undefined ? '' : `, and ${because.replace(/\.$/, '')}`
      }. Start the connector with a valid provisioning key (--provision-key, POSTERN_PROVISION_KEY or --provision-key-file) to enroll it again; the old connector ${connectorId} stays listed as disconnected and can be deleted with \`postern connectors delete ${connectorId}\`.`,
      cause === undefined ? {} : { cause },
    ),
  badIdentifiers: (text: string, why: string) =>
    new PosternError(
      'POSTERN_ERR_AGENT_IDENTIFIERS',
      `--agent-identifiers "${text}" is not valid: ${why}. Use Konnectivity's form, e.g. host=node1&ipv4=10.0.0.5&cidr=10.0.0.0/16&default-route=true.`,
    ),
} as const;
