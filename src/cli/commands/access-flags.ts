import type { Command } from 'commander';
import type { EdgeOptions } from '../../edge/index.js';

const env = process.env;

/** Values of the edge's access proxy flags as commander parses them. */
export interface AccessFlags {
  accessListen?: string;
  accessCert?: string;
  accessKey?: string;
  accessUrl?: string;
}

/** Adds the access proxy's flags (each also read from the environment) to `postern edge`. */
export function addAccessFlags(command: Command): Command {
  return command
    .option(
      '--access-listen <host:port>',
      'access proxy for `postern tcp` and HTTPS-proxy clients (CONNECT over TLS, bearer tokens); off unless given (env POSTERN_ACCESS_LISTEN)',
      env.POSTERN_ACCESS_LISTEN,
    )
    .option(
      '--access-cert <file>',
      'certificate (PEM) of the access listener; default one issued by the edge CA (env POSTERN_ACCESS_CERT)',
      env.POSTERN_ACCESS_CERT,
    )
    .option(
      '--access-key <file>',
      'private key (PEM) for --access-cert (env POSTERN_ACCESS_KEY)',
      env.POSTERN_ACCESS_KEY,
    )
    .option(
      '--access-url <url>',
      'URL users give `postern login --edge`; default https://<access listen address> (env POSTERN_ACCESS_URL)',
      env.POSTERN_ACCESS_URL,
    );
}

/** The edge's `access` option from the parsed flags; undefined without --access-listen. */
export function accessOptions(parsed: object): EdgeOptions['access'] {
  const o = parsed as AccessFlags;
  if (o.accessListen === undefined) return undefined;
  return {
    listen: o.accessListen,
    certFile: o.accessCert,
    keyFile: o.accessKey,
    publicUrl: o.accessUrl,
  };
}
