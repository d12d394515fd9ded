import { createHash } from 'node:crypto';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { trafficErrors } from './errors.js';
import { splitHostPort } from './direct-dial.js';

/** TLS from the edge to a pool's nodes, ready to use (built once per pool). */
export interface UpstreamTls {
  readonly pool: string;
  /** SNI and the name verified; undefined = the node's host when it is a name. */
  readonly serverName: string | undefined;
  /** Verify the node's certificate (against `ca`, else the system CAs). */
  readonly verify: boolean;
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** Idle connections are kept apart per pool: two pools may trust different CAs for one node. */
  readonly cacheGroup: string;
}

/** A pool's `tls` as configuration documents write it. */
export interface UpstreamTlsConfigInput {
  readonly enabled?: boolean | undefined;
  readonly server_name?: string | undefined;
  readonly verify?: boolean | undefined;
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly min_version?: 'TLSv1.2' | 'TLSv1.3' | undefined;
}

/** Builds a pool's upstream TLS settings; undefined when TLS is not enabled. */
export function upstreamTlsFromConfig(
  pool: string,
  via: string | undefined,
  config: UpstreamTlsConfigInput | undefined,
): UpstreamTls | undefined {
  if (config === undefined || config.enabled === false) return undefined;
  const settings = {
    serverName: config.server_name,
    verify: config.verify ?? true,
    ca: config.ca,
    cert: config.cert,
    key: config.key,
    minVersion: config.min_version ?? 'TLSv1.2',
  };
  // Connections made under other settings (a reload changed the CA) are never reused; a NUL
  // cannot occur in a group name, so the key never equals a plain `via` group.
  const digest = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
  return { pool, ...settings, cacheGroup: `${via ?? ''}\0tls\0${pool}\0${digest}` };
}

/**
 * Starts TLS over an already connected stream to `address` and resolves once the handshake and
 * the certificate check succeeded. Failures reject with POSTERN_ERR_UPSTREAM_TLS naming the node.
 */
export function startUpstreamTls(
  socket: Duplex,
  address: string,
  options: { readonly tls: UpstreamTls; readonly timeoutMs: number },
): Promise<tls.TLSSocket> {
  const settings = options.tls;
  const host = splitHostPort(address)?.host ?? address;
  const servername = settings.serverName ?? (net.isIP(host) === 0 ? host : undefined);
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      // The name checked against the certificate: Node uses servername, else host (IP SANs).
      host: servername ?? host,
      ...(servername === undefined ? {} : { servername }),
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: settings.verify,
      minVersion: settings.minVersion,
      ...(settings.ca === undefined ? {} : { ca: settings.ca }),
      ...(settings.cert === undefined ? {} : { cert: settings.cert, key: settings.key }),
    });
    const fail = (reason: string, cause?: unknown): void => {
      clearTimeout(timer);
      secure.destroy();
      socket.destroy();
      reject(trafficErrors.upstreamTls(address, settings.pool, reason, cause));
    };
    const timer = setTimeout(
      () => fail(`no TLS handshake within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.removeAllListeners('error');
      resolve(secure);
    });
    secure.once('error', (err: NodeJS.ErrnoException) => fail(tlsReason(err), err));
  });
}

/** A short reason for a handshake failure, e.g. "certificate not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)". */
function tlsReason(err: NodeJS.ErrnoException & { reason?: unknown }): string {
  // OpenSSL's own errors read "80FC…:error:0A00010B:SSL routines:…:ssl3_record.c:350:\n": its
  // reason ("wrong version number") is what the operator needs, on one line.
  const openSsl = /^[0-9A-F]+:error:/.test(err.message) && typeof err.reason === 'string';
  const text = openSsl ? (err.reason as string) : err.message;
  return err.code ? `${text} (${err.code})` : text;
}
