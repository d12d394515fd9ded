import type net from 'node:net';
import { trafficErrors } from './errors.js';

/** Binds a virtual server's listener; rejects with POSTERN_ERR_LISTEN_FAILED when it cannot. */
export function listenOn(
  server: net.Server,
  name: string,
  at: { readonly host: string; readonly port: number },
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(trafficErrors.listenFailed(name, `${at.host}:${at.port}`, err));
    server.once('error', onError);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** The address a server listens on (useful with port 0). */
export function boundAddress(server: net.Server): { host: string; port: number } {
  const addr = server.address() as net.AddressInfo;
  return { host: addr.address, port: addr.port };
}
