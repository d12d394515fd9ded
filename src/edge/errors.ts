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
  unsupported: (what: string, fix: string) =>
    new PosternError(
      'POSTERN_ERR_UNSUPPORTED',
      `${what} is not supported by this release yet. ${fix}`,
    ),
  listenFailed: (what: string, address: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_LISTEN_FAILED',
      `The edge cannot listen for its ${what} on ${address}: ${(cause as Error).message}. Choose a free address (flags --tunnel-listen / --admin-listen) or stop what holds it.`,
      { cause },
    ),
  internal: (what: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_INTERNAL',
      `${what} failed unexpectedly; see the edge log for details.`,
      { cause },
    ),
} as const;
