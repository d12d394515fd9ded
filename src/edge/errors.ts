import { PosternError } from '../core/index.js';

/** Errors of the edge's tunnel port and composition. */
export const edgeErrors = {
  certificateRejected: (why: string) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_CERT_REJECTED',
      `The edge refused the connector's client certificate (${why}). Re-enroll the connector with a new provisioning key: remove its state directory and start it with --provision-key.`,
    ),
  noHello: () =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_NO_HELLO',
      'The connector did not open its control stream with a hello in time. Check that connector and edge run the same release.',
    ),
  listenFailed: (what: string, address: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_LISTEN_FAILED',
      `The edge cannot listen for its ${what} on ${address}: ${(cause as Error).message}. Choose a free address (flags --tunnel-listen / --admin-listen) or stop what holds it.`,
      { cause },
    ),
  /** A virtual server of the documents could not bind at start; `where` locates its `listen`. */
  documentListenFailed: (where: string, cause: unknown) =>
    new PosternError('POSTERN_ERR_LISTEN_FAILED', where, { cause }),
  connectorSilent: (connectorId: string, address: string, ms: number) =>
    new PosternError(
      'POSTERN_ERR_DIAL_TIMEOUT',
      `Connector ${connectorId} did not answer the dial to ${address} within ${ms} ms (its own dial timeout plus a margin): it is hung or overloaded, and its tunnel is dropped once keepalive fails. Check the connector's host and its log.`,
    ),
  internal: (what: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_INTERNAL',
      `${what} failed unexpectedly; see the edge log for details.`,
      { cause },
    ),
  accessBadTarget: (target: string) =>
    new PosternError(
      'POSTERN_ERR_ACCESS_BAD_TARGET',
      `"${target}" is not a destination the access proxy understands. Ask for host:port, e.g. CONNECT db.corp.internal:5432 (IPv6 as [fd00::5]:22).`,
    ),
  accessNoApplication: (target: string) =>
    new PosternError(
      'POSTERN_ERR_ACCESS_NO_APPLICATION',
      `No application covers ${target}, so the edge does not forward it. Check the host name and port, or ask an administrator to add them to an application's domains/cidrs and ports.`,
    ),
  accessDenied: (reason: string) =>
    new PosternError(
      'POSTERN_ERR_ACCESS_DENIED',
      `Access was denied: ${reason}. Ask an administrator for access if you need it.`,
    ),
  accessMethod: (method: string) =>
    new PosternError(
      'POSTERN_ERR_ACCESS_METHOD',
      `The access proxy only tunnels TCP with CONNECT; ${method} is not served here. Use \`postern tcp HOST:PORT --listen 127.0.0.1:PORT\` or an HTTPS-proxy-aware client.`,
    ),
  enrollmentRateLimited: (retryAfterSeconds: number) =>
    new PosternError(
      'POSTERN_ERR_ENROLLMENT_RATE_LIMITED',
      `Too many failed enrollments from this address or with this provisioning key; the edge accepts no more for ${retryAfterSeconds} s. Check the key value (\`postern keys list\`) and retry after that; the connector retries by itself.`,
    ),
} as const;
