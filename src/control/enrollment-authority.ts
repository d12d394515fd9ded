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
  /**
   * Issues a fresh certificate to a connector whose certificate expired while it was offline
   * (no tunnel possible), on proof that it holds that certificate's key; see RenewExpiredRequest.
   */
  renewExpired(request: RenewExpiredRequest): Promise<{ certPem: string; caPem: string }>;
  /** Records a tunnel's status (last seen, version, addresses). */
  recordSeen(connectorId: string, status: ConnectorStatusUpdate): Promise<void>;
  /** Removes an ephemeral connector that left gracefully and returns its key usage. */
  retireEphemeral(connectorId: string): Promise<void>;
}

/**
 * A renewal without a tunnel: the connector's last certificate (expired, or about to), a CSR for
 * its new key, and a signature with the old key over the TLS session's exporter value and CSR.
 */
export interface RenewExpiredRequest {
  readonly connectorId: string;
  readonly certPem: string;
  readonly csrPem: string;
  readonly proof: string;
  readonly exporter: Buffer;
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
