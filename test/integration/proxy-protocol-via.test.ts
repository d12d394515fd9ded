import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import {
  startProxyNode,
  type ProxyNode,
  type SeenHeader,
} from '../../src/traffic/test-proxy-node.js';
import { makeCertificate, type TestKeyPair } from '../../src/traffic/tls/test-certificates.js';
import { freePort, startTestConnector, startTestEdge, type TestEdge } from '../harness/harness.js';

// Via pools: the edge writes the PROXY header into the tunnel stream after the connector's dial
// result, and the connector relays it as the first bytes to the node; nothing is added on the way.

let edge: TestEdge;
let node: ProxyNode;
let tlsNode: ProxyNode;
let pair: TestKeyPair;
before(async () => {
  node = await startProxyNode();
  pair = await makeCertificate('pp-via', ['pp-via']);
  tlsNode = await startProxyNode({ tls: pair });
  edge = await startTestEdge();
  const key = await edge.createKey('pp-site');
  await startTestConnector({ provisionKey: key.value });
});
after(async () => {
  await edge.stop();
  await node.close();
  await tlsNode.close();
});

/** Creates a via pool and a virtual server sending `version`; returns the listener's port. */
async function publish(
  name: string,
  protocol: 'tcp' | 'tls',
  address: string,
  version: string,
): Promise<number> {
  const pool = await edge.api('POST', '/pools', { name, via: 'pp-site', nodes: [{ address }] });
  assert.equal(pool.status, 201, JSON.stringify(pool.body));
  const port = await freePort();
  const vs = await edge.api('POST', '/virtual-servers', {
    name,
    protocol,
    listen: `127.0.0.1:${port}`,
    pool: name,
    proxy_protocol: version,
  });
  assert.equal(vs.status, 201, JSON.stringify(vs.body));
  return port;
}

/** Reads the header line the node saw, then checks an echo; bounded by `ms`. */
async function converse(
  socket: net.Socket,
  ms = 8000,
): Promise<{ seen: SeenHeader; clientPort: number }> {
  const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${ms} ms`)), ms);
  let text = '';
  let seen: SeenHeader | undefined;
  let clientPort = 0;
  try {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      text += chunk.toString();
      const nl = text.indexOf('\n');
      if (seen === undefined && nl >= 0) {
        seen = JSON.parse(text.slice(0, nl)) as SeenHeader;
        clientPort = socket.localPort ?? 0;
        text = text.slice(nl + 1);
        socket.write('after');
      }
      if (text === 'after') break;
    }
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
  assert.ok(seen !== undefined);
  assert.equal(text, 'after');
  return { seen, clientPort };
}

test('a tcp virtual server over a via pool delivers the v2 header as the node’s first bytes', async () => {
  const port = await publish('pp-via-tcp', 'tcp', node.address, 'v2');
  const { seen, clientPort } = await converse(net.connect(port, '127.0.0.1'));
  assert.deepEqual(seen, {
    version: 2,
    family: 'TCP4',
    source: '127.0.0.1',
    destination: '127.0.0.1',
    sourcePort: clientPort,
    destinationPort: port,
  });
});

test('a tls passthrough virtual server over a via pool sends the v1 header before the ClientHello', async () => {
  const port = await publish('pp-via-tls', 'tls', tlsNode.address, 'v1');
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'pp-via', ca: pair.cert });
  const { seen, clientPort } = await converse(socket);
  assert.deepEqual(seen, {
    version: 1,
    family: 'TCP4',
    source: '127.0.0.1',
    destination: '127.0.0.1',
    sourcePort: clientPort,
    destinationPort: port,
  });
});
