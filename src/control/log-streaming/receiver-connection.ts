import net from 'node:net';
import tls from 'node:tls';
import type { DeepReadonly, LogReceiver } from '../../config/index.js';
import { parseHostPort } from '../../config/index.js';

/** The fields of a receiver that decide how to connect; a change of any of them reconnects. */
export type ConnectionSpec = Pick<
  DeepReadonly<LogReceiver>,
  'name' | 'address' | 'transport' | 'tls'
>;

/** A key that changes exactly when the connection settings change. */
export function connectionKey(spec: ConnectionSpec): string {
  return JSON.stringify([spec.address, spec.transport, spec.tls ?? null]);
}

/**
 * Opens a TCP or TLS connection to a receiver and resolves once it can carry records (for TLS,
 * after a handshake that verified the receiver's certificate); rejects on error or timeout.
 */
export function connectReceiver(
  spec: ConnectionSpec,
  options: { timeoutMs: number },
): Promise<net.Socket> {
  const { host, port } = parseHostPort(spec.address);
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    const ready = spec.transport === 'tls' ? 'secureConnect' : 'connect';
    try {
      socket =
        spec.transport === 'tls'
          ? tls.connect({
              host,
              port,
              // Node checks the certificate against servername when given, else against host.
              ...serverName(spec.tls?.server_name ?? host),
              ...(spec.tls?.ca === undefined ? {} : { ca: spec.tls.ca }),
              ...(spec.tls?.cert === undefined ? {} : { cert: spec.tls.cert }),
              ...(spec.tls?.key === undefined ? {} : { key: spec.tls.key }),
              minVersion: 'TLSv1.2',
            })
          : net.connect({ host, port });
    } catch (err) {
      // Unusable PEM (a bad CA or key) throws here rather than failing the handshake.
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy(new Error(`no connection within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    socket.once('error', fail);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

function serverName(name: string): { servername?: string } {
  // SNI carries host names only; an IP address is still checked against the certificate.
  return net.isIP(name) ? {} : { servername: name };
}
