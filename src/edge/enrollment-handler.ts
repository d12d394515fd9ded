import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { EnrollmentAuthority } from '../control/index.js';
import { isPosternError } from '../core/index.js';
import { ENROLL_EXPORTER_LABEL, expectMessage, makeMessage } from '../protocol/index.js';
import type { Message } from '../protocol/index.js';
import { readMessage, writeMessage } from '../tunnel/index.js';
import type { EdgeMetrics } from './edge-metrics.js';
import type { EnrollmentGuard } from './enrollment-guard.js';

/** What an enrollment exchange needs. */
export interface EnrollmentHandlerOptions {
  readonly authority: EnrollmentAuthority;
  readonly caPem: string;
  readonly metrics: EdgeMetrics;
  readonly logger: Logger;
  /** Counts failures per source and key id, refuses those over the limit, sums the log lines. */
  readonly guard: EnrollmentGuard;
  /** Bound on each step of the exchange. */
  readonly timeoutMs: number;
}

/**
 * Runs one enrollment on a TLS connection that chose the enrollment ALPN: hello → the edge's
 * proof bound to this TLS session (with the CA) → the secret and a CSR → the certificate, or an
 * `error` message with the code. See docs/protocol.md, "Enrollment".
 */
export async function serveEnrollment(
  socket: tls.TLSSocket,
  o: EnrollmentHandlerOptions,
): Promise<void> {
  const { authority, metrics, guard } = o;
  const log = o.logger;
  const source = normalizeIp(socket.remoteAddress ?? '');
  let keyId: string | undefined;
  const exporter = socket.exportKeyingMaterial(32, ENROLL_EXPORTER_LABEL, Buffer.alloc(0));
  try {
    const first = await readMessage(socket, { timeoutMs: o.timeoutMs, maxBytes: 64 * 1024 });
    if (first?.type === 'renew_request') {
      refuseIfLimited(guard, source);
      await renewExpired(socket, first, exporter, o);
      return;
    }
    const hello = expectMessage(first, 'enroll_hello');
    keyId = hello.keyId;
    refuseIfLimited(guard, source, keyId);
    const edgeProof = await authority.edgeProof(hello.keyId, exporter);
    writeMessage(socket, makeMessage({ type: 'enroll_challenge', edgeProof, caPem: o.caPem }));
    const request = expectMessage(
      await readMessage(socket, { timeoutMs: o.timeoutMs, maxBytes: 64 * 1024 }),
      'enroll_request',
    );
    const result = await authority.enroll({
      keyId: hello.keyId,
      secret: request.secret,
      csrPem: request.csrPem,
      hostname: request.hostname,
      version: request.version,
      ephemeral: request.ephemeral,
      sourceIp: socket.remoteAddress ?? '',
    });
    writeMessage(socket, makeMessage({ type: 'enroll_result', ...result }));
    metrics.enrollments.inc({ result: 'ok' });
    log.info(
      { connector: result.connectorId, group: result.group, key: hello.keyId },
      'connector enrolled',
    );
    socket.end();
  } catch (err) {
    const code = isPosternError(err) ? err.code : 'POSTERN_ERR_INTERNAL';
    metrics.enrollments.inc({ result: code });
    const message = isPosternError(err)
      ? err.message
      : 'The edge failed to enroll the connector; see the edge log.';
    if (!isPosternError(err)) log.error({ err }, 'enrollment failed unexpectedly');
    guard.failed(source, keyId, { code, message: (err as Error).message });
    writeMessage(socket, makeMessage({ type: 'error', code, message }));
    socket.end();
  }
}

/** Throws the rate-limit refusal when the source or the key id had too many failures. */
function refuseIfLimited(guard: EnrollmentGuard, source: string, keyId?: string): void {
  const refusal = guard.check(source, keyId);
  if (refusal) throw refusal;
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/**
 * Renews the certificate of a connector that was offline past its expiry: the authority checks
 * the old certificate and the proof of its key; errors go back like an enrollment's.
 */
async function renewExpired(
  socket: tls.TLSSocket,
  request: Message<'renew_request'>,
  exporter: Buffer,
  o: EnrollmentHandlerOptions,
): Promise<void> {
  const result = await o.authority.renewExpired({
    connectorId: request.connectorId,
    certPem: request.certPem,
    csrPem: request.csrPem,
    proof: request.proof,
    exporter,
  });
  writeMessage(socket, makeMessage({ type: 'renew_result', ...result }));
  o.metrics.enrollments.inc({ result: 'renewed_expired' });
  socket.end();
}
