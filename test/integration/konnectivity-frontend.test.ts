import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { parseAgentIdentifiers } from '../../src/connector/index.js';
import {
  freePort,
  startEchoServer,
  startTestConnector,
  startTestEdge,
  tempDir,
  type TestEdge,
} from '../harness/harness.js';
import { opensslSelfSigned } from '../support/openssl-cert.js';
import { buildGoPeer } from '../support/go-peer.js';

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
const DIAL_TIMEOUT_MS = 1500;

let dir: string;
let edge: TestEdge;
let app: Awaited<ReturnType<typeof startEchoServer>>;
let appV6: net.Server | undefined;
let edgeCa: string;
const apiserver = opensslSelfSigned('/CN=kube-apiserver', 'DNS:kube-apiserver');
const intruder = opensslSelfSigned('/CN=intruder', 'DNS:intruder');
type TestConnector = Awaited<ReturnType<typeof startTestConnector>>;
let nodeAgent: TestConnector;
let routeAgent: TestConnector;

before(async () => {
  dir = await tempDir('postern-konn-');
  // The apiserver's self-signed certificate is its own CA: only it may use the TCP listener.
  await writeFile(join(dir, 'client-ca.crt'), apiserver.cert);
  edge = await startTestEdge({
    konnectivity: {
      udsPath: join(dir, 'konn.sock'),
      listen: '127.0.0.1:0',
      clientCaFile: join(dir, 'client-ca.crt'),
      strategies: 'destHost,cidr,defaultRoute',
      dialTimeoutMs: DIAL_TIMEOUT_MS,
      headTimeoutMs: 1500,
    },
  });
  edgeCa = await readFile(join(edge.dir, 'ca.crt'), 'utf8');
  app = await startEchoServer('127.0.0.1');
  appV6 = await echoOnIpv6Loopback(app.port);
  const key = await edge.createKey('konn');
  // Different identifiers: a node-local agent (destHost) and a route for the whole 127/8 (cidr),
  // which also offers itself as the default route.
  nodeAgent = await startTestConnector({
    provisionKey: key.value,
    identifiers: parseAgentIdentifiers('host=localhost&ipv4=127.0.0.1'),
  });
  routeAgent = await startTestConnector({
    provisionKey: key.value,
    identifiers: parseAgentIdentifiers('cidr=127.0.0.0/8&default-route=true'),
  });
});

after(async () => {
  await app.close();
  await new Promise<void>((resolve) => (appV6 ? appV6.close(() => resolve()) : resolve()));
  await edge.stop();
  await rm(dir, { recursive: true, force: true });
});

/** `localhost` may resolve to ::1 first: serve the echo there too when the host has IPv6. */
async function echoOnIpv6Loopback(port: number): Promise<net.Server | undefined> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen({ host: '::1', port, ipv6Only: true }, () => resolve(server));
  });
}

function viaUds(): net.Socket {
  return net.connect({ path: edge.konnectivity!.udsPath! });
}

function viaTls(identity?: { cert: string; key: string }): tls.TLSSocket {
  return tls.connect({
    host: '127.0.0.1',
    port: edge.konnectivity!.tcpAddress!.port,
    ca: [edgeCa],
    ...(identity ?? {}),
  });
}

/** Collects what the server sends until `enough` says stop, the socket closes, or time runs out. */
function collect(
  socket: net.Socket,
  enough: (received: Buffer) => boolean = () => false,
  timeoutMs = 8000,
): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      resolve({ data, closed });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (enough(data)) done(false);
    });
    socket.once('close', () => done(true));
    socket.on('error', () => undefined);
  });
}

/** Sends a CONNECT head (and optional bytes right behind it, in the same write), returns the answer. */
async function connectThrough(
  socket: net.Socket,
  target: string,
  after: Buffer = Buffer.alloc(0),
  expectBytes = ESTABLISHED.length + after.length,
): Promise<{ data: Buffer; closed: boolean }> {
  const head = Buffer.from(
    `CONNECT ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n`,
  );
  socket.write(Buffer.concat([head, after]));
  return collect(socket, (d) => d.length >= expectBytes);
}

function statusOf(answer: Buffer): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer.toString('latin1'))?.[1] ?? 0);
}

test('over the Unix socket (mode 0770) the answer is exactly the 200 line and bytes sent right after the head arrive', async () => {
  assert.equal((await stat(edge.konnectivity!.udsPath!)).mode & 0o777, 0o770);
  const before = [nodeAgent.counters.total, routeAgent.counters.total];
  const socket = viaUds();
  const early = Buffer.from('sent-in-the-same-write-as-the-head');
  const answer = await connectThrough(socket, `127.0.0.1:${app.port}`, early);
  assert.equal(answer.data.subarray(0, ESTABLISHED.length).toString('latin1'), ESTABLISHED);
  assert.deepEqual(answer.data.subarray(ESTABLISHED.length), early);
  // destHost (ipv4=127.0.0.1) wins over the cidr route.
  assert.deepEqual(
    [nodeAgent.counters.total, routeAgent.counters.total],
    [before[0]! + 1, before[1]!],
  );
  socket.destroy();
});

test('the 200 line arrives alone: nothing follows it until the client speaks', async () => {
  const socket = viaUds();
  const answer = await connectThrough(socket, `127.0.0.1:${app.port}`);
  assert.equal(answer.data.toString('latin1'), ESTABLISHED);
  const quiet = await collect(socket, (d) => d.length > 0, 200);
  assert.equal(quiet.data.length, 0);
  socket.write('ping');
  assert.equal((await collect(socket, (d) => d.length >= 4)).data.toString(), 'ping');
  socket.destroy();
});

test('over TCP with the trusted client certificate the tunnel carries bytes both ways', async () => {
  const socket = viaTls(apiserver);
  const payload = Buffer.alloc(256 * 1024, 7);
  const answer = await connectThrough(socket, `127.0.0.1:${app.port}`, payload);
  assert.equal(answer.data.subarray(0, ESTABLISHED.length).toString('latin1'), ESTABLISHED);
  assert.equal(answer.data.length, ESTABLISHED.length + payload.length);
  assert.deepEqual(answer.data.subarray(ESTABLISHED.length), payload);
  socket.destroy();
});

test("kube-apiserver's own CONNECT code (Go) tunnels over UDS and mTLS TCP and reports failures with their reason", async () => {
  const peer = await buildGoPeer('egress-connect-client');
  await writeFile(join(dir, 'apiserver.crt'), apiserver.cert);
  await writeFile(join(dir, 'apiserver.key'), apiserver.key);
  const run = async (
    ...args: string[]
  ): Promise<{ ok: boolean; error?: string; echo?: string }> => {
    const { stdout } = await promisify(execFile)(peer, args, { timeout: 20_000 });
    return JSON.parse(stdout) as { ok: boolean; error?: string; echo?: string };
  };
  const target = `127.0.0.1:${app.port}`;
  const overUds = await run('-uds', edge.konnectivity!.udsPath!, '-target', target);
  assert.deepEqual(overUds, { ok: true, echo: 'hello from the apiserver\n' });
  const tcp = [
    '-tcp',
    `127.0.0.1:${edge.konnectivity!.tcpAddress!.port}`,
    '-ca',
    join(edge.dir, 'ca.crt'),
  ];
  const identity = ['-cert', join(dir, 'apiserver.crt'), '-key', join(dir, 'apiserver.key')];
  const overTcp = await run(...tcp, ...identity, '-target', target);
  assert.deepEqual(overTcp, { ok: true, echo: 'hello from the apiserver\n' });
  const refused = await run(
    '-uds',
    edge.konnectivity!.udsPath!,
    '-target',
    `127.0.0.1:${await freePort()}`,
  );
  assert.equal(refused.ok, false);
  assert.match(
    refused.error ?? '',
    /code 502: 502 Bad Gateway \(dial_failed: POSTERN_ERR_DIAL_REFUSED\)/,
  );
});

test('over TCP a client without a certificate, or with one from another CA, is refused', async () => {
  const rejected = async (socket: tls.TLSSocket): Promise<void> => {
    socket.on('error', () => undefined);
    socket.write(`CONNECT 127.0.0.1:${app.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const answer = await collect(socket);
    assert.equal(answer.closed, true);
    assert.equal(answer.data.toString('latin1').includes('200'), false);
  };
  const appBefore = app.accepted();
  await rejected(viaTls());
  await rejected(viaTls(intruder));
  assert.equal(app.accepted(), appBefore);
  const text = await edge.metrics.registry.getSingleMetricAsString(
    'postern_edge_konnectivity_tls_rejections_total',
  );
  assert.match(text, /postern_edge_konnectivity_tls_rejections_total [2-9]/);
});

test('bad request heads get 400 or 405 and the connection closes', async () => {
  const cases: [string, number][] = [
    ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 405],
    ['CONNECT nowhere HTTP/1.1\r\n\r\n', 400],
    ['\x16\x03\x01\x02\x00garbage\r\n\r\n', 400],
    [`CONNECT 127.0.0.1:${app.port} HTTP/1.1\r\nX: ${'a'.repeat(9000)}\r\n\r\n`, 400],
  ];
  for (const [head, status] of cases) {
    const socket = viaUds();
    socket.write(head);
    const answer = await collect(socket);
    assert.equal(statusOf(answer.data), status, JSON.stringify(head.slice(0, 40)));
    assert.equal(answer.closed, true);
    if (status === 405) assert.match(answer.data.toString(), /\r\nAllow: CONNECT\r\n/);
  }
});

test('a client that never finishes its head is answered 408 and cut after the head timeout', async () => {
  const socket = viaUds();
  socket.write('CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost:');
  const started = Date.now();
  const answer = await collect(socket);
  assert.equal(statusOf(answer.data), 408);
  assert.equal(answer.closed, true);
  assert.ok(Date.now() - started >= 1000, 'not before the timeout');
});

test('a refused destination is 502 with the reason in status text and body', async () => {
  const closedPort = await freePort();
  const socket = viaUds();
  const answer = await connectThrough(socket, `127.0.0.1:${closedPort}`);
  const text = answer.data.toString('latin1');
  assert.equal(statusOf(answer.data), 502);
  assert.match(text.split('\r\n')[0]!, /POSTERN_ERR_DIAL_REFUSED/);
  assert.match(text, /refused the connection/);
});

test('a destination that never answers the dial is 504 after the dial timeout', async () => {
  const hole = await blackhole();
  try {
    const socket = viaUds();
    const started = Date.now();
    const answer = await connectThrough(socket, `127.0.0.1:${hole.port}`);
    assert.equal(statusOf(answer.data), 504);
    assert.match(answer.data.toString('latin1'), /POSTERN_ERR_DIAL_TIMEOUT/);
    assert.ok(Date.now() - started >= DIAL_TIMEOUT_MS - 100);
  } finally {
    hole.close();
  }
});

test('without the destHost agent the cidr route carries the session', async () => {
  await nodeAgent.stop({ drainTimeoutMs: 100 });
  const before = routeAgent.counters.total;
  const socket = viaUds();
  const answer = await connectThrough(socket, `127.0.0.1:${app.port}`, Buffer.from('cidr'));
  assert.equal(answer.data.toString('latin1'), `${ESTABLISHED}cidr`);
  assert.equal(routeAgent.counters.total, before + 1);
  socket.destroy();
});

test('a host name nobody advertises goes to the default-route agent', async () => {
  const before = routeAgent.counters.total;
  const socket = viaUds();
  const answer = await connectThrough(socket, `localhost:${app.port}`, Buffer.from('route'));
  assert.equal(answer.data.toString('latin1'), `${ESTABLISHED}route`);
  assert.equal(routeAgent.counters.total, before + 1);
  socket.destroy();
});

test('with no connector left the answer is 503 naming the missing connector', async () => {
  await routeAgent.stop({ drainTimeoutMs: 100 });
  const socket = viaUds();
  const answer = await connectThrough(socket, `127.0.0.1:${app.port}`);
  assert.equal(statusOf(answer.data), 503);
  assert.match(answer.data.toString('latin1'), /POSTERN_ERR_KONNECTIVITY_NO_CONNECTOR/);
  const text = await edge.metrics.registry.getSingleMetricAsString(
    'postern_edge_konnectivity_requests_total',
  );
  for (const outcome of [
    'established',
    'no_connector',
    'dial_failed',
    'dial_timeout',
    'bad_request',
    'method_not_allowed',
    'head_timeout',
  ]) {
    assert.match(text, new RegExp(`listener="uds",outcome="${outcome}"\\} [1-9]`), outcome);
  }
  // Counts of the requests this file made: two trusted TCP tunnels (Node and Go clients), one of each refusal.
  assert.match(text, /listener="tcp",outcome="established"\} 2\n/);
  for (const [outcome, count] of [
    ['no_connector', 1],
    ['dial_timeout', 1],
    ['head_timeout', 1],
    ['method_not_allowed', 1],
    ['bad_request', 3],
  ] as const) {
    assert.match(
      text,
      new RegExp(`listener="uds",outcome="${outcome}"\\} ${count}(\\n|$)`),
      outcome,
    );
  }
});

test('under the default strategy a connector still dials only what its identifiers cover', async () => {
  const udsPath = join(dir, 'default.sock');
  const other = await startTestEdge({ konnectivity: { udsPath, strategies: 'default' } });
  try {
    const key = await other.createKey('konn-default');
    await startTestConnector({
      provisionKey: key.value,
      identifiers: parseAgentIdentifiers('ipv4=127.0.0.1'),
    });
    const covered = net.connect({ path: udsPath });
    const ok = await connectThrough(covered, `127.0.0.1:${app.port}`, Buffer.from('mine'));
    assert.equal(ok.data.toString('latin1'), `${ESTABLISHED}mine`);
    covered.destroy();
    // 127.0.0.2 is not among its identifiers: refused by the connector before any connect.
    const accepted = app.accepted();
    const outside = net.connect({ path: udsPath });
    const refused = await connectThrough(outside, `127.0.0.2:${app.port}`);
    outside.destroy();
    assert.equal(statusOf(refused.data), 502);
    assert.match(refused.data.toString('latin1'), /POSTERN_ERR_DIAL_NOT_ALLOWED/);
    assert.equal(app.accepted(), accepted);
  } finally {
    await other.stop();
  }
});

/**
 * A TCP port on 127.0.0.1 whose accept queue is full, so new connects hang: the listener is a
 * child process that stops accepting (busy loop) and two connections fill its backlog.
 */
async function blackhole(): Promise<{ port: number; close(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      "const s=require('net').createServer();s.listen({host:'127.0.0.1',port:0,backlog:1},()=>{process.stdout.write(s.address().port+'\\n');setTimeout(()=>{for(;;){}},50)})",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('error', reject);
  });
  await new Promise((r) => setTimeout(r, 200));
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    fillers.push(s);
    await new Promise<void>((resolve) => {
      s.once('connect', () => resolve());
      setTimeout(resolve, 1000);
    });
  }
  return {
    port,
    close() {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    },
  };
}
