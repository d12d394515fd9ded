import type tls from 'node:tls';
import type { Logger } from 'pino';
import { isPosternError, type PosternError } from '../core/index.js';
import { parseConnectorIdentity, type ConnectorIdentity } from '../pki/index.js';
import type { EnrollmentAuthority } from '../control/index.js';
import type { EdgeMetrics } from './edge-metrics.js';
import { edgeErrors } from './errors.js';
import { refuseTunnel } from './tunnel-refusal.js';

/** What admitting a tunnel needs from the tunnel listener. */
export interface TunnelAdmissionOptions {
  readonly authority: EnrollmentAuthority;
  readonly metrics: EdgeMetrics;
  readonly logger: Logger;
  /** How long a refused peer has to open the stream the refusal is sent on. */
  readonly timeoutMs: number;
}

/**
 * Admits a tunnel connection: its client certificate must chain to the edge CA (TLS checked
 * that) and name a connector the store still admits. Returns the connector's identity, or
 * undefined once the peer was refused, told why on its control stream (see tunnel-refusal.ts).
 */
export async function admitTunnel(
  socket: tls.TLSSocket,
  o: TunnelAdmissionOptions,
): Promise<ConnectorIdentity | undefined> {
  let identity: ConnectorIdentity | undefined;
  let refusal: PosternError | undefined;
  if (!socket.authorized) {
    refusal = edgeErrors.certificateRejected(
      String(socket.authorizationError ?? 'no client certificate'),
    );
  } else {
    try {
      identity = parseConnectorIdentity(socket.getPeerCertificate().raw);
      await o.authority.admit(identity);
    } catch (err) {
      refusal = isPosternError(err) ? err : edgeErrors.certificateRejected((err as Error).message);
    }
  }
  if (refusal || !identity) {
    await refuse(socket, refusal ?? edgeErrors.certificateRejected('no identity'), o);
    return undefined;
  }
  return identity;
}

/**
 * Tells a refused peer why on its control stream and closes, without a yamux session: an
 * unauthenticated peer gets no streams acknowledged and no frames parsed.
 */
async function refuse(
  socket: tls.TLSSocket,
  err: PosternError,
  o: TunnelAdmissionOptions,
): Promise<void> {
  const outcome = await refuseTunnel(socket, err, { timeoutMs: o.timeoutMs });
  if (outcome === 'no_control_stream') {
    o.metrics.tunnelRejections.inc({ reason: 'no_control_stream' });
    return;
  }
  o.metrics.tunnelRejections.inc({ reason: err.code });
  o.logger.warn(
    { remote: socket.remoteAddress, reason: err.code, err: err.message },
    'tunnel refused',
  );
}
