import tls from 'node:tls';
import { definedProps } from '../core/index.js';
import { TUNNEL_CIPHERS } from '../protocol/index.js';
import { splitHostPort } from '../traffic/index.js';
import { connectorErrors } from './errors.js';

/** How to open a TLS connection to the edge's tunnel port. */
export interface EdgeConnectOptions {
  readonly alpn: string;
  /** CA to verify the edge against; absent only for enrollment (verified by proof instead). */
  readonly caPem?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  readonly timeoutMs?: number;
}

/** Opens a TLS 1.3 connection to `host:port` with the given ALPN. */
export function connectToEdge(
  address: string,
  options: EdgeConnectOptions,
): Promise<tls.TLSSocket> {
  const target = splitHostPort(address);
  if (!target)
    return Promise.reject(connectorErrors.edgeUnreachable(address, new Error('not host:port')));
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      servername: isIp(target.host) ? undefined : target.host,
      minVersion: 'TLSv1.3',
      ciphers: TUNNEL_CIPHERS,
      ALPNProtocols: [options.alpn],
      rejectUnauthorized: options.caPem !== undefined,
      ...(options.caPem === undefined
        ? {}
        : { ca: [options.caPem], checkServerIdentity: () => undefined }),
      ...definedProps({ cert: options.certPem, key: options.keyPem }),
    });
    socket.setNoDelay(true);
    const timer = setTimeout(
      () => socket.destroy(new Error(`no TLS handshake within ${options.timeoutMs ?? 10_000} ms`)),
      options.timeoutMs ?? 10_000,
    );
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (socket.alpnProtocol !== options.alpn) {
        socket.destroy();
        reject(
          connectorErrors.enrollmentProtocol(
            address,
            'the server does not speak the Postern tunnel protocol (ALPN)',
          ),
        );
        return;
      }
      resolve(socket);
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(connectorErrors.edgeUnreachable(address, err));
    };
    socket.once('error', onError);
  });
}

function isIp(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}
