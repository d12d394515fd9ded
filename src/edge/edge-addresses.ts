import { hostname } from 'node:os';
import net from 'node:net';
import { PosternError } from '../core/index.js';
import { splitHostPort } from '../traffic/index.js';
import { edgeErrors } from './errors.js';

/** A listen address given as `host:port`. */
export interface ListenAt {
  readonly host: string;
  readonly port: number;
}

/** Parses a `--*-listen` flag value; port 0 picks a free port. */
export function parseListen(text: string, flag: string): ListenAt {
  const hp = splitHostPort(text, { allowZero: true });
  if (!hp)
    throw new PosternError(
      'POSTERN_ERR_INVALID_ARGUMENT',
      `${flag} "${text}" is not host:port; use e.g. 0.0.0.0:8443 or [::]:8443.`,
    );
  return hp;
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatAddress(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The host connectors are told to dial: the listen host, or this machine's name for a wildcard. */
export function advertiseHostFor(listenHost: string): string {
  return listenHost === '0.0.0.0' || listenHost === '::' ? hostname() : listenHost;
}

/** Names the tunnel certificate covers: loopback, the listen and advertised hosts, the host name. */
export function serverNames(host: string, advertise: string | undefined) {
  const hosts = new Set(['localhost', host, hostname()]);
  const advertised = advertise ? splitHostPort(advertise)?.host : undefined;
  if (advertised) hosts.add(advertised);
  const dnsNames = [...hosts].filter((h) => !net.isIP(h));
  const ipAddresses = [
    ...new Set([
      '127.0.0.1',
      '::1',
      ...[...hosts].filter((h) => net.isIP(h) && h !== '0.0.0.0' && h !== '::'),
    ]),
  ];
  return { dnsNames, ipAddresses };
}

/** Listens on the tunnel port, turning a bind error into POSTERN_ERR_LISTEN_FAILED. */
export function listenTunnelPort(server: net.Server, at: ListenAt): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(edgeErrors.listenFailed('tunnel port', `${at.host}:${at.port}`, err));
    server.once('error', onError);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
