import { PosternError } from '../../core/index.js';

/** Errors of TLS termination (certificates) and TLS passthrough (ClientHello reading). */
export const tlsErrors = {
  noCertificate: (server: string) =>
    new PosternError(
      'POSTERN_ERR_TLS_NO_CERTIFICATE',
      `Virtual server "${server}" terminates TLS but has no certificate. Add one under tls.certificates.`,
    ),
  certificateInvalid: (name: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_TLS_CERTIFICATE_INVALID',
      `Certificate "${name}" cannot be loaded: ${(cause as Error).message}. Supply a PEM certificate (chain allowed) and its PEM private key.`,
      { cause },
    ),
  keyMismatch: (name: string) =>
    new PosternError(
      'POSTERN_ERR_TLS_KEY_MISMATCH',
      `The private key of certificate "${name}" does not belong to the certificate. Pair each certificate with its own key.`,
    ),
  clientHelloInvalid: (detail: string) =>
    new PosternError(
      'POSTERN_ERR_TLS_CLIENT_HELLO_INVALID',
      `The client did not start with a valid TLS ClientHello (${detail}). Only TLS clients can use a tls virtual server.`,
    ),
  clientHelloTooLarge: (limit: number) =>
    new PosternError(
      'POSTERN_ERR_TLS_CLIENT_HELLO_TOO_LARGE',
      `The client's ClientHello is larger than ${limit} bytes. Such clients are refused; raise the limit if they are legitimate.`,
    ),
  clientHelloTimeout: (ms: number) =>
    new PosternError(
      'POSTERN_ERR_TLS_CLIENT_HELLO_TIMEOUT',
      `The client sent no complete ClientHello within ${ms} ms. Check the client, or raise the timeout for slow networks.`,
    ),
} as const;
