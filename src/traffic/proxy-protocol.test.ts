import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { DirectDialer } from './direct-dial.js';
import { makePool } from './http/test-kit.js';
import type { ProxyProtocolVersion } from './proxy-header.js';
import { TcpVirtualServer } from './tcp-virtual-server.js';
import { startProxyNode, type ProxyNode, type SeenHeader } from './test-proxy-node.js';
import { makeCertificate, type TestKeyPair } from './tls/test-certificates.js';
import { TlsPassthroughVirtualServer } from './tls/tls-passthrough-virtual-server.js';

/** Whether this machine can listen on ::1 (IPv6 loopback). */
async function hasIPv6Loopback(): Promise<boolean> {
  const probe = net.createServer();
  try {
    probe.listen(0, '::1');
    await once(probe, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    probe.close();
  }
}

interface Answer {
  readonly header: SeenHeader;
  /** The client's own end, as the expected source. */
  readonly local: { address: string; port: number };
  readonly echoed: string;
}

/** Reads the node's first line (the header it saw), then checks that client bytes follow intact. */
async function converse(socket: net.Socket | tls.TLSSocket, ms = 5000): Promise<Answer> {
  const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${ms} ms`)), ms);
  let text = '';
  let seen: SeenHeader | undefined;
  let local = { address: '', port: 0 };
  try {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      text += chunk.toString();
      const nl = text.indexOf('\n');
      if (seen === undefined && nl >= 0) {
        seen = JSON.parse(text.slice(0, nl)) as SeenHeader;
        // Read while open: a destroyed socket no longer reports its addresses.
        local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
        text = text.slice(nl + 1);
        socket.write('ping after header');
      }
      if (seen !== undefined && text === 'ping after header') break;
    }
  } finally {
    clearTimeout(timer);
  }
  socket.destroy();
  assert.ok(seen !== undefined, 'the node answered with the header it saw');
  return { header: seen, local, echoed: text };
}

async function tcpServer(
  host: string,
  node: string,
  proxyProtocol: ProxyProtocolVersion,
): Promise<TcpVirtualServer> {
  const server = new TcpVirtualServer({
    name: 'pp-tcp',
    listen: { host, port: 0 },
    pool: makePool('pp', [node]),
    dialer: new DirectDialer(),
    proxyProtocol,
  });
  await server.start();
  return server;
}

function expected(
  version: 1 | 2,
  family: 'TCP4' | 'TCP6',
  local: { address: string; port: number },
  port: number,
): SeenHeader {
  const loopback = family === 'TCP4' ? '127.0.0.1' : version === 1 ? '::1' : '0:0:0:0:0:0:0:1';
  assert.equal(local.address, family === 'TCP4' ? '127.0.0.1' : '::1');
  return {
    version,
    family,
    source: loopback,
    destination: loopback,
    sourcePort: local.port,
    destinationPort: port,
  };
}

let node: ProxyNode;
let tlsNode: ProxyNode;
let pair: TestKeyPair;
let ipv6 = false;
before(async () => {
  node = await startProxyNode();
  pair = await makeCertificate('pp-node', ['pp-node']);
  tlsNode = await startProxyNode({ tls: pair });
  ipv6 = await hasIPv6Loopback();
});
after(async () => {
  await node.close();
  await tlsNode.close();
});

describe('a tcp virtual server with proxy_protocol', () => {
  for (const version of [1, 2] as const) {
    test(`v${version} tells the node the client's and the listener's IPv4 ends before any client byte`, async (t) => {
      const server = await tcpServer('127.0.0.1', node.address, `v${version}`);
      t.after(() => server.close({ drainTimeoutMs: 0 }));
      const { port } = server.address();
      // The client writes nothing until the node has answered: the header came from the edge.
      const answer = await converse(net.connect(port, '127.0.0.1'));
      assert.deepEqual(answer.header, expected(version, 'TCP4', answer.local, port));
      assert.equal(answer.echoed, 'ping after header');
    });

    test(`v${version} on an IPv6 listener sends TCP6 with the client's ::1 end`, async (t) => {
      if (!ipv6) {
        t.diagnostic('no IPv6 loopback on this machine; IPv6 checked by the encoder tests only');
        return;
      }
      const server = await tcpServer('::1', node.address, `v${version}`);
      t.after(() => server.close({ drainTimeoutMs: 0 }));
      const { port } = server.address();
      const answer = await converse(net.connect(port, '::1'));
      assert.deepEqual(answer.header, expected(version, 'TCP6', answer.local, port));
      assert.equal(answer.echoed, 'ping after header');
    });
  }

  test('none (the default) sends the node only the client’s bytes', async (t) => {
    const server = await tcpServer('127.0.0.1', node.address, 'none');
    t.after(() => server.close({ drainTimeoutMs: 0 }));
    const socket = net.connect(server.address().port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('hello');
    const [first] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    assert.equal(first.toString().split('\n')[0], 'null');
  });
});

describe('a tls passthrough virtual server with proxy_protocol', () => {
  for (const version of [1, 2] as const) {
    test(`v${version} header precedes the ClientHello, and the TLS session to the node works`, async (t) => {
      const server = new TlsPassthroughVirtualServer({
        name: 'pp-tls',
        listen: { host: '127.0.0.1', port: 0 },
        pool: makePool('pp-tls', [tlsNode.address]),
        dialer: new DirectDialer(),
        proxyProtocol: `v${version}`,
      });
      await server.start();
      t.after(() => server.close({ drainTimeoutMs: 0 }));
      const { port } = server.address();
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'pp-node',
        ca: pair.cert,
      });
      const answer = await converse(socket);
      assert.deepEqual(answer.header, expected(version, 'TCP4', answer.local, port));
      assert.equal(answer.echoed, 'ping after header');
    });
  }
});
