/** What the tunnel listener needs from the control plane to enroll and admit connectors. */
export interface EnrollmentAuthority {
  /** Proves to a connector that this edge knows the key, bound to the TLS session's exporter value. */
  edgeProof(keyId: string, exporter: Buffer): Promise<string>;
  /** Checks and consumes the key, records the connector and issues its certificate. */
  enroll(request: EnrollRequest): Promise<EnrollResult>;
  /** Throws a coded error when the connector may not hold a tunnel (deleted, revoked, unknown). */
  admit(connector: { connectorId: string; group: string; serialNumber: string }): Promise<void>;
  /** Issues a fresh certificate for a connected connector's new key. */
  renew(connectorId: string, csrPem: string): Promise<string>;
  /** Records a tunnel's status (last seen, version, addresses). */
  recordSeen(connectorId: string, status: ConnectorStatusUpdate): Promise<void>;
  /** Removes an ephemeral connector that left gracefully and returns its key usage. */
  retireEphemeral(connectorId: string): Promise<void>;
}

/** An enrollment as the connector asked for it. */
export interface EnrollRequest {
  readonly keyId: string;
  readonly secret: string;
  readonly csrPem: string;
  readonly hostname: string;
  readonly version: string;
  readonly ephemeral: boolean;
  readonly sourceIp: string;
}

/** What an enrolled connector receives. */
export interface EnrollResult {
  readonly connectorId: string;
  readonly group: string;
  readonly certPem: string;
  readonly caPem: string;
}

/** Fields of a connector's status that a tunnel reports. */
export interface ConnectorStatusUpdate {
  readonly connected: boolean;
  readonly version?: string;
  readonly hostname?: string;
  readonly privateIp?: string;
  readonly publicIp?: string;
}
