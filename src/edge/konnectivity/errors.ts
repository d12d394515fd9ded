import { PosternError } from '../../core/index.js';

/** Errors of the Konnectivity-compatible HTTP CONNECT frontend. */
export const konnectivityErrors = {
  badStrategy: (text: string, why: string) =>
    new PosternError(
      'POSTERN_ERR_KONNECTIVITY_STRATEGY',
      `--proxy-strategies "${text}" is not valid: ${why}. Give a comma-separated list of destHost, cidr, defaultRoute and default, e.g. destHost,cidr,default.`,
    ),
  badOptions: (why: string) =>
    new PosternError(
      'POSTERN_ERR_KONNECTIVITY_OPTIONS',
      `The Konnectivity frontend cannot start: ${why}.`,
    ),
  socketInUse: (path: string, why: string) =>
    new PosternError(
      'POSTERN_ERR_KONNECTIVITY_SOCKET',
      `The Konnectivity socket ${path} cannot be created: ${why}. Stop whatever serves it, or remove the file if it is left over, or choose another --konnectivity-uds path.`,
    ),
  listenFailed: (address: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_KONNECTIVITY_LISTEN',
      `The Konnectivity frontend cannot listen on ${address}: ${(cause as Error).message}. Choose a free address (--konnectivity-listen / --konnectivity-uds) or stop what holds it.`,
      { cause },
    ),
  noConnector: (target: string, strategies: readonly string[]) =>
    new PosternError(
      'POSTERN_ERR_KONNECTIVITY_NO_CONNECTOR',
      `No connector can take a session to ${target} under the proxy strategies ${strategies.join(',')}. Start a connector whose --agent-identifiers cover it (host, ipv4/ipv6, cidr or default-route=true), add "default" to --proxy-strategies, or check that the connectors are up and not draining.`,
    ),
  overloaded: (limit: number) =>
    new PosternError(
      'POSTERN_ERR_KONNECTIVITY_OVERLOADED',
      `The Konnectivity frontend already has ${limit} dials pending; this request was refused so that pending dials cannot pile up. Retry; if it persists, look for a connector that does not answer dials.`,
    ),
  badRequest: (reason: string) =>
    new PosternError(
      'POSTERN_ERR_KONNECTIVITY_BAD_REQUEST',
      `The request is not a valid HTTP CONNECT request (${reason}). Send "CONNECT host:port HTTP/1.1" followed by headers and an empty line.`,
    ),
  headTimeout: (ms: number) =>
    new PosternError(
      'POSTERN_ERR_KONNECTIVITY_HEAD_TIMEOUT',
      `The client sent no complete CONNECT request head within ${ms} ms; the connection was closed.`,
    ),
} as const;
