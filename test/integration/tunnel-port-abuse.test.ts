import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IdentityStore } from '../../src/connector/index.js';
import {
  createCertificateAuthority,
  generateKeyPairAndCsr,
  loadCertificateAuthority,
} from '../../src/pki/index.js';
import { MuxSession } from '../../src/tunnel/index.js';
import {
  eventually,
  roundTrip,
  startEchoServer,
  startTestConnector,
  startTestEdge,
  tempDir,
  type TestEdge,
} from '../harness/harness.js';

let edge: TestEdge;
let app: Awaited<ReturnType<typeof startEchoServer>>;
let port: number;
let tunnelPort: number;
before(async () => {
  edge = await startTestEdge({ tunnelHandshakeTimeoutMs: 500 });
  app = await startEchoServer();
  port = await edge.publish('abuse', 'site-abuse', app.address);
  tunnelPort = edge.tunnelAddress.port;
  const key = await edge.createKey('site-abuse');
  await startTestConnector({ provisionKey: key.value });
});
after(async () => {
  await app.close();
  await edge.stop();
});

/** The edge still carries sessions and still enrolls connectors. */
async function edgeStillServes(): Promise<void> {
  assert.equal((await roundTrip(port, Buffer.from('alive'))).toString(), 'alive');
}

/** Opens a tunnel TLS connection with a real connector's identity, speaking nothing yet. */
async function connectAsConnector(identity: {
  caPem: string;
  certPem: string;
  keyPem: string;
}): Promise<tls.TLSSocket> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port: tunnelPort,
    ALPNProtocols: ['postern-tunnel/1'],
    ca: [identity.caPem],
    cert: identity.certPem,
    key: identity.keyPem,
    checkServerIdentity: () => undefined,
  });
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');
  return socket;
}

function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  // Read (and drop) whatever arrives, so the end of the stream is seen.
  socket.resume();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

test('garbage bytes on the tunnel port are dropped and the edge keeps serving', async () => {
  const socket = net.connect({ host: '127.0.0.1', port: tunnelPort });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\x16\x03\x01garbage'));
  assert.ok(await closedWithin(socket, 2000), 'the edge closed the garbage connection');
  await edgeStillServes();
});

test('a half-open TLS handshake is cut after the handshake timeout', async () => {
  const socket = net.connect({ host: '127.0.0.1', port: tunnelPort });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  // The first bytes of a ClientHello, then silence.
  socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
  await edgeStillServes();
  assert.ok(await closedWithin(socket, 3000), 'the edge cut the silent handshake');
});

test('a tunnel without a client certificate is refused with a coded reason', async () => {
  const socket = tls.connect({
    host: '127.0.0.1',
    port: tunnelPort,
    ALPNProtocols: ['postern-tunnel/1'],
    rejectUnauthorized: false,
  });
  await once(socket, 'secureConnect');
  const session = new MuxSession(socket, { role: 'client' });
  session.on('error', () => undefined);
  const control = session.openStream();
  control.write(Buffer.alloc(0));
  const chunks: Buffer[] = [];
  control.on('data', (c: Buffer) => chunks.push(c));
  control.on('error', () => undefined);
  await eventually(
    () => Buffer.concat(chunks).includes('POSTERN_ERR_TUNNEL_CERT_REJECTED'),
    'refusal on the control stream',
    3000,
  );
  session.destroy();
  await edgeStillServes();
});

test('a client certificate from another CA is refused, and the edge keeps serving', async () => {
  const foreign = await loadCertificateAuthority(
    await createCertificateAuthority({ commonName: 'Other CA' }),
  );
  const { keyPem, csrPem } = await generateKeyPairAndCsr({ commonName: 'intruder' });
  const issued = await foreign.issueClientCertificate(csrPem, {
    connectorId: 'c-intruder',
    group: 'site-abuse',
  });
  const dir = await tempDir();
  await new IdentityStore(dir).save({
    connectorId: 'c-intruder',
    group: 'site-abuse',
    edgeAddress: `127.0.0.1:${tunnelPort}`,
    ephemeral: false,
    keyPem,
    certPem: issued.certPem,
    caPem: await readFile(join(edge.dir, 'ca.crt'), 'utf8'),
  });
  const intruder = await startTestConnector({ stateDir: dir, wait: false });
  const err = await new Promise<{ code: string }>((resolve) =>
    intruder.once('tunnelError', (e) => resolve(e as never)),
  );
  assert.equal(err.code, 'POSTERN_ERR_TUNNEL_CERT_REJECTED');
  assert.equal(edge.registry.get('c-intruder'), undefined);
  await intruder.stop({ drainTimeoutMs: 0 });
  await edgeStillServes();
});

test('garbage frames inside an authenticated tunnel end that tunnel only', async () => {
  const key = await edge.createKey('site-abuse');
  const rogue = await startTestConnector({ provisionKey: key.value });
  const id = rogue.identity!.connectorId;
  const identity = rogue.identity!;
  await rogue.stop({ drainTimeoutMs: 0 });
  const socket = await connectAsConnector(identity);
  socket.write(Buffer.from('this is not a yamux frame at all, just bytes'));
  assert.ok(await closedWithin(socket, 3000), 'the edge closed the broken tunnel');
  assert.equal(edge.registry.get(id), undefined);
  await edgeStillServes();
});

test('a tunnel that never says hello is closed after the handshake timeout', async () => {
  const key = await edge.createKey('site-abuse');
  const quiet = await startTestConnector({ provisionKey: key.value });
  const identity = quiet.identity!;
  await quiet.stop({ drainTimeoutMs: 0 });
  const socket = await connectAsConnector(identity);
  const session = new MuxSession(socket, { role: 'client', keepAliveIntervalMs: 0 });
  session.on('error', () => undefined);
  const control = session.openStream();
  control.on('error', () => undefined);
  control.write(Buffer.alloc(0));
  assert.ok(await closedWithin(socket, 3000), 'the edge closed the silent tunnel');
  await edgeStillServes();
});

test('the tunnel port prefers TLS 1.3 with AES-128-GCM, whatever order the client offers', async () => {
  const socket = tls.connect({
    host: '127.0.0.1',
    port: tunnelPort,
    ALPNProtocols: ['postern-enroll/1'],
    rejectUnauthorized: false,
    ciphers: 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
  });
  await once(socket, 'secureConnect');
  assert.equal(socket.getProtocol(), 'TLSv1.3');
  assert.equal(socket.getCipher().standardName, 'TLS_AES_128_GCM_SHA256');
  socket.destroy();
});
