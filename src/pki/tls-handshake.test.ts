import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as tls from 'node:tls';
import {
  createCertificateAuthority,
  generateKeyPairAndCsr,
  loadCertificateAuthority,
  parseConnectorIdentity,
  type CertificateAuthority,
  type ConnectorIdentity,
} from './index.js';

interface ClientCredentials {
  readonly certPem: string;
  readonly keyPem: string;
}

interface HandshakeResult {
  readonly protocol: string | null;
  readonly received: string;
  readonly clientError: Error | undefined;
  readonly serverError: Error | undefined;
  /** Why the server refused the client certificate (an OpenSSL verify code such as CERT_HAS_EXPIRED). */
  readonly rejection: Error | string | undefined;
  readonly identity: ConnectorIdentity | undefined;
  readonly identityFromPeerObject: ConnectorIdentity | undefined;
}

const DAY_MS = 24 * 60 * 60_000;

/** A TLS 1.3 server that demands a client certificate from `caPem`, as the edge's tunnel listener does. */
async function startServer(ca: CertificateAuthority) {
  const serverCert = await ca.issueServerCertificate({
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const seen: {
    identity?: ConnectorIdentity;
    fromObject?: ConnectorIdentity;
    error?: Error;
    rejection?: Error | string;
  } = {};
  const server = tls.createServer(
    {
      key: serverCert.keyPem,
      cert: serverCert.certPem,
      ca: [ca.certPem],
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
    },
    (socket) => {
      const peer = socket.getPeerCertificate();
      seen.identity = parseConnectorIdentity(peer.raw);
      seen.fromObject = parseConnectorIdentity(peer);
      socket.end(`hello ${seen.identity.connectorId}`);
    },
  );
  // Node verifies the client certificate after the handshake and, with rejectUnauthorized,
  // destroys the socket without an alert; the reason is only on the socket's authorizationError.
  server.on('tlsClientError', (err, socket) => {
    seen.error = err;
    seen.rejection = socket.authorizationError;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** Connects with `client` credentials and waits (at most 5 s) until the connection closes. */
async function handshake(
  target: Awaited<ReturnType<typeof startServer>>,
  caPem: string,
  client: ClientCredentials,
): Promise<HandshakeResult> {
  delete target.seen.identity;
  delete target.seen.fromObject;
  delete target.seen.error;
  delete target.seen.rejection;
  const socket = tls.connect({
    host: '127.0.0.1',
    port: target.port,
    servername: 'localhost',
    ca: [caPem],
    cert: client.certPem,
    key: client.keyPem,
    minVersion: 'TLSv1.3',
  });
  let received = '';
  let clientError: Error | undefined;
  let protocol: string | null = null;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', (err: Error) => {
    clientError = err;
  });
  socket.on('secureConnect', () => {
    protocol = socket.getProtocol();
  });
  const timer = setTimeout(() => socket.destroy(new Error('handshake test timed out')), 5000);
  // Not events.once: it rejects on 'error', and a rejected handshake is an expected outcome here.
  await new Promise((resolve) => socket.once('close', resolve));
  clearTimeout(timer);
  // The server reports a rejected client on its own schedule; give its event a turn to arrive.
  if (received === '' && target.seen.error === undefined) {
    await Promise.race([once(target.server, 'tlsClientError'), delay(1000)]);
  }
  return {
    protocol,
    received,
    clientError,
    serverError: target.seen.error,
    rejection: target.seen.rejection,
    identity: target.seen.identity,
    identityFromPeerObject: target.seen.fromObject,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function enroll(ca: CertificateAuthority, connectorId: string, now?: number) {
  const { keyPem, csrPem } = await generateKeyPairAndCsr({ commonName: connectorId });
  const issued = await ca.issueClientCertificate(csrPem, {
    connectorId,
    group: 'site-a',
    ...(now === undefined ? {} : { clock: { now: () => now } }),
  });
  return { keyPem, certPem: issued.certPem, issued };
}

describe('mutual TLS with certificates from the Postern CA', () => {
  let ca: CertificateAuthority;
  let target: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    // Backdated so that a certificate issued "two days ago" is still inside the CA's validity.
    const tenDaysAgo = Date.now() - 10 * DAY_MS;
    ca = await loadCertificateAuthority(
      await createCertificateAuthority({ clock: { now: () => tenDaysAgo } }),
    );
    target = await startServer(ca);
  });

  after(() => {
    target.server.close();
  });

  test('a connector certificate completes a TLS 1.3 handshake and names the connector', async () => {
    const client = await enroll(ca, 'conn-1');
    const result = await handshake(target, ca.certPem, client);
    assert.equal(result.clientError, undefined);
    assert.equal(result.serverError, undefined);
    assert.equal(result.protocol, 'TLSv1.3');
    assert.equal(result.received, 'hello conn-1');
    assert.equal(result.identity?.connectorId, 'conn-1');
    assert.equal(result.identity?.group, 'site-a');
    assert.equal(result.identity?.serialNumber, client.issued.serialNumber);
    assert.deepEqual(result.identityFromPeerObject, result.identity);
  });

  test('a client certificate from another CA is rejected by the handshake', async () => {
    const other = await loadCertificateAuthority(await createCertificateAuthority());
    const client = await enroll(other, 'conn-1');
    const result = await handshake(target, ca.certPem, client);
    assert.equal(result.received, '');
    assert.equal(result.identity, undefined);
    // Both CAs are called "Postern CA", as two separate installations would be: the name
    // matches, the signature does not, and OpenSSL reports an untrusted leaf.
    assert.ok(
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'].includes(
        String(result.rejection),
      ),
      `rejected for ${String(result.rejection)}`,
    );
    assert.ok(result.serverError, 'the server reports the rejected client');
  });

  test('an expired client certificate is rejected by the handshake', async () => {
    const client = await enroll(ca, 'conn-2', Date.now() - 2 * DAY_MS);
    assert.ok(client.issued.notAfter.getTime() < Date.now());
    const result = await handshake(target, ca.certPem, client);
    assert.equal(result.received, '');
    assert.equal(result.identity, undefined);
    assert.equal(result.rejection, 'CERT_HAS_EXPIRED');
    assert.ok(result.serverError, 'the server reports the rejected client');
  });

  test('a server certificate from another CA is rejected by the connector', async () => {
    const other = await loadCertificateAuthority(await createCertificateAuthority());
    const client = await enroll(ca, 'conn-3');
    const result = await handshake(target, other.certPem, client);
    assert.equal(result.protocol, null);
    assert.equal(result.received, '');
    // The edge sends its chain (leaf + CA); a connector that trusts another CA sees a foreign root.
    assert.equal(
      (result.clientError as NodeJS.ErrnoException | undefined)?.code,
      'SELF_SIGNED_CERT_IN_CHAIN',
    );
  });
});
