import { PosternError } from '../../core/index.js';

/** Errors of the HTTP and HTTPS virtual servers; each becomes a status and an X-Postern-Error header. */
export const httpErrors = {
  upstreamTimeout: (address: string, ms: number) =>
    new PosternError(
      'POSTERN_ERR_UPSTREAM_TIMEOUT',
      `The upstream ${address} sent nothing for ${ms} ms. Check why the application is slow, or raise idle_timeout_ms.`,
    ),
  upstreamReset: (address: string, detail: string) =>
    new PosternError(
      'POSTERN_ERR_UPSTREAM_RESET',
      `The connection to the upstream ${address} closed before the response was complete (${detail}). Check the application's logs.`,
    ),
  upstreamProtocol: (address: string, detail: string) =>
    new PosternError(
      'POSTERN_ERR_UPSTREAM_PROTOCOL',
      `The upstream ${address} sent an invalid HTTP/1.1 response: ${detail}. Check that the node speaks HTTP/1.1 on that port.`,
    ),
  headersTooLarge: (limit: number) =>
    new PosternError(
      'POSTERN_ERR_HEADERS_TOO_LARGE',
      `The request headers are larger than ${limit} bytes. Send smaller headers (cookies?) or raise limits.max_header_bytes.`,
    ),
  uriTooLong: (limit: number) =>
    new PosternError(
      'POSTERN_ERR_URI_TOO_LONG',
      `The request line is longer than ${limit} bytes. Send a shorter URI (move data into the body) or raise limits.max_header_bytes.`,
    ),
  tooManyHeaders: (limit: number) =>
    new PosternError(
      'POSTERN_ERR_TOO_MANY_HEADERS',
      `The request has more than ${limit} header fields. Send fewer headers or raise limits.max_headers.`,
    ),
  requestTimeout: (ms: number) =>
    new PosternError(
      'POSTERN_ERR_REQUEST_TIMEOUT',
      `The request head did not arrive, or its body stalled, for ${ms} ms. Send it without pauses or raise request_timeout_ms.`,
    ),
  badRequest: (detail: string) =>
    new PosternError(
      'POSTERN_ERR_BAD_REQUEST',
      `The request is not valid HTTP: ${detail}. Fix the client.`,
    ),
  invalidRule: (rule: string, detail: string) =>
    new PosternError(
      'POSTERN_ERR_RULE_INVALID',
      `Rule "${rule}" cannot be used: ${detail}. Fix the rule in the configuration.`,
    ),
} as const;
