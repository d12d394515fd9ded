import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  deadAddress,
  makePool,
  ScriptedPool,
  startBackend,
  startProxy,
  waitFor,
  type Backend,
  type Proxy,
} from './test-kit.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Encodes a single final text frame, masked when sent by a client (RFC 6455 §5.2; payload < 126). */
function frame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  const key = mask ? randomBytes(4) : undefined;
  const head = Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]);
  if (!key) return Buffer.concat([head, payload]);
  return Buffer.concat([head, key, payload.map((b, i) => b ^ (key[i % 4] as number))]);
}

/** Decodes one frame from the start of `buf`; undefined when incomplete. */
function unframe(buf: Buffer): string | undefined {
  if (buf.length < 2) return undefined;
  const masked = ((buf[1] as number) & 0x80) !== 0;
  const len = (buf[1] as number) & 0x7f;
  const start = 2 + (masked ? 4 : 0);
  if (buf.length < start + len) return undefined;
  const payload = Buffer.from(buf.subarray(start, start + len));
  if (masked)
    for (let i = 0; i < len; i++)
      payload[i] = (payload[i] as number) ^ (buf[2 + (i % 4)] as number);
  return payload.toString();
}

/** Reads from `socket` until `done` says the bytes so far are enough (bounded). */
function readUntil(socket: Duplex, done: (all: Buffer) => boolean, ms = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let all = Buffer.alloc(0);
    const timer = setTimeout(
      () => reject(new Error(`timed out; got ${all.toString('latin1')}`)),
      ms,
    );
    const onData = (c: Buffer): void => {
      all = Buffer.concat([all, c]);
      if (done(all)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(all);
      }
    };
    socket.on('data', onData);
  });
}

describe('http virtual server WebSocket upgrade', () => {
  let backend: Backend;
  let proxy: Proxy;
  const upgradeHeaders: http.IncomingHttpHeaders[] = [];

  before(async () => {
    backend = await startBackend('ws');
    backend.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
      upgradeHeaders.push(req.headers);
      const accept = createHash('sha1')
        .update(`${req.headers['sec-websocket-key']}${GUID}`)
        .digest('base64');
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-Internal: s3cret\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      let pending = Buffer.alloc(0);
      socket.on('end', () => socket.end());
      socket.on('data', (c: Buffer) => {
        pending = Buffer.concat([pending, c]);
        const text = unframe(pending);
        if (text === undefined) return;
        pending = Buffer.alloc(0);
        socket.write(frame(`echo: ${text}`, false));
      });
    });
    proxy = await startProxy({
      pool: makePool('ws', [backend.address]),
      rules: [
        {
          name: 'no-private',
          when: { path_prefix: '/private' },
          request: [{ deny: { status: 403 } }],
        },
        {
          name: 'ruled-101',
          when: { path_prefix: '/ruled' },
          response: [
            { set_header: { name: 'X-Frame-Options', value: 'DENY' } },
            { remove_header: 'X-Internal' },
            { remove_header: 'Sec-WebSocket-Accept' },
            { append_header: { name: 'Sec-WebSocket-Protocol', value: 'evil' } },
          ],
        },
      ],
    });
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  async function handshake(
    port: number,
    path: string,
  ): Promise<{ socket: net.Socket; head: string; rest: Buffer; accept: string }> {
    const socket = net.connect(port, '127.0.0.1');
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1').update(`${key}${GUID}`).digest('base64');
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: chat.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const all = await readUntil(socket, (b) => b.includes('\r\n\r\n'));
    const end = all.indexOf('\r\n\r\n') + 4;
    const head = all.subarray(0, end).toString('latin1');
    return { socket, head, rest: all.subarray(end), accept };
  }

  test('upgrades through the proxy and echoes frames both ways', async () => {
    const { socket, head } = await handshake(proxy.port, '/chat');
    try {
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols/);
      assert.match(head, /Sec-WebSocket-Accept: /);
      for (const text of ['hello', 'second message']) {
        socket.write(frame(text, true));
        const reply = await readUntil(socket, (b) => unframe(b) !== undefined);
        assert.equal(unframe(reply), `echo: ${text}`);
      }
      const seen = upgradeHeaders.at(-1);
      assert.equal(seen?.upgrade, 'websocket');
      assert.equal(seen?.['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen?.host, 'chat.test');
    } finally {
      socket.destroy();
    }
    await waitFor(() => proxy.records.some((r) => r.upgrade && r.path === '/chat'));
    const record = proxy.records.find((r) => r.upgrade && r.path === '/chat');
    assert.equal(record?.status, 101);
    assert.ok((record?.bytesIn ?? 0) > 0 && (record?.bytesOut ?? 0) > 0);
  });

  test('the 101 passes the response rules; the fields that make the switch stay as the node sent them', async () => {
    const { socket, head, accept } = await handshake(proxy.port, '/ruled/chat');
    try {
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(head, /\r\nX-Frame-Options: DENY\r\n/);
      assert.doesNotMatch(head, /X-Internal/i);
      assert.match(head, /\r\nUpgrade: websocket\r\n/);
      assert.match(head, /\r\nConnection: Upgrade\r\n/);
      assert.equal(head.match(/Sec-WebSocket-Accept: (.*)\r\n/)?.[1], accept);
      assert.doesNotMatch(head, /Sec-WebSocket-Protocol|evil/i);
      // Hop-by-hop fields, and those the node's Connection names, end at the proxy as usual.
      assert.doesNotMatch(head, /Keep-Alive|X-Hop/i);
      socket.write(frame('ruled', true));
      const reply = await readUntil(socket, (b) => unframe(b) !== undefined);
      assert.equal(unframe(reply), 'echo: ruled');
    } finally {
      socket.destroy();
    }
  });

  test("without matching response rules the 101 carries the node's end-to-end fields", async () => {
    const { socket, head, accept } = await handshake(proxy.port, '/chat/plain');
    socket.destroy();
    assert.match(head, /\r\nX-Internal: s3cret\r\n/);
    assert.doesNotMatch(head, /X-Frame-Options/);
    assert.equal(head.match(/Sec-WebSocket-Accept: (.*)\r\n/)?.[1], accept);
  });

  test('a rule can deny an upgrade request', async () => {
    const { socket, head } = await handshake(proxy.port, '/private/chat');
    socket.destroy();
    assert.match(head, /^HTTP\/1\.1 403 /);
  });

  test('an upgrade to a dead node gets 502 with the dial reason', async () => {
    const p = await startProxy({ pool: makePool('dead', [await deadAddress()]) });
    try {
      const { socket, head, rest } = await handshake(p.port, '/chat');
      socket.destroy();
      assert.match(head, /^HTTP\/1\.1 502 /);
      assert.match(head, /X-Postern-Error: POSTERN_ERR_DIAL_REFUSED/);
      assert.match(rest.toString(), /^POSTERN_ERR_DIAL_REFUSED: /);
    } finally {
      await p.close();
    }
  });
});

describe('WebSocket tunnel whose node never closes its side', () => {
  let node: net.Server;
  let address: string;
  /** The node's connections the edge has not finished (no FIN or close seen yet). */
  const nodeSockets = new Set<net.Socket>();
  const allNodeSockets = new Set<net.Socket>();
  /** While true, the node sends the client a frame every 50 ms. */
  let chatty = false;

  before(async () => {
    // allowHalfOpen: the node keeps its side open after the edge's FIN, as the reviewer's did.
    node = net.createServer({ allowHalfOpen: true }, (socket) => {
      nodeSockets.add(socket);
      allNodeSockets.add(socket);
      socket.once('end', () => nodeSockets.delete(socket));
      socket.once('close', () => nodeSockets.delete(socket));
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
        );
        if (!chatty) return;
        const timer = setInterval(() => socket.write(frame('tick', false)), 50);
        socket.once('close', () => clearInterval(timer));
      });
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(node.address() as net.AddressInfo).port}`;
  });

  after(async () => {
    for (const s of allNodeSockets) s.destroy();
    await new Promise((r) => node.close(r));
  });

  async function open(p: Proxy): Promise<net.Socket> {
    const socket = net.connect(p.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      'GET /live HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const head = await readUntil(socket, (b) => b.includes('\r\n\r\n'));
    assert.match(head.toString('latin1'), /^HTTP\/1\.1 101 /);
    return socket;
  }

  for (const leave of ['destroy', 'end'] as const) {
    test(`a client that leaves (${leave}) ends the tunnel: the node gets its FIN, the record is written, the pool count drops to 0`, async () => {
      chatty = false;
      const pool = makePool('silent', [address]);
      const p = await startProxy({ pool, idleTimeoutMs: 300 });
      try {
        const socket = await open(p);
        await waitFor(() => nodeSockets.size === 1);
        assert.equal(pool.status().nodes[0]?.activeConnections, 1);
        if (leave === 'destroy') socket.destroy();
        else socket.end();
        await waitFor(() => p.records.length === 1, 3000);
        assert.equal(p.records[0]?.closeReason, 'half_closed_timeout');
        assert.equal(p.records[0]?.status, 101);
        await waitFor(() => nodeSockets.size === 0, 2000);
        assert.equal(pool.status().nodes[0]?.activeConnections, 0);
        socket.destroy();
      } finally {
        await p.close();
      }
    });
  }

  test('a POST upgrade whose first node refuses the connection is retried on another node', async () => {
    chatty = false;
    const dead = await deadAddress();
    const pool = new ScriptedPool('p', [dead, address]);
    const p = await startProxy({ pool, idleTimeoutMs: 300 });
    try {
      const socket = net.connect(p.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        'POST /live HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n',
      );
      const head = await readUntil(socket, (b) => b.includes('\r\n\r\n'));
      socket.destroy();
      assert.match(head.toString('latin1'), /^HTTP\/1\.1 101 /);
      assert.deepEqual(pool.outcomes.map((o) => [o.node, o.outcome.ok]).slice(0, 1), [
        [dead, false],
      ]);
      await waitFor(() => p.records.length === 1, 3000);
      assert.equal(p.records[0]?.attempts, 2);
      assert.equal(p.records[0]?.node, address);
    } finally {
      await p.close();
    }
  });

  test('traffic from the node alone keeps the tunnel open; silence both ways closes it', async () => {
    const p = await startProxy({ pool: makePool('chatty', [address]), idleTimeoutMs: 300 });
    try {
      chatty = true;
      const socket = await open(p);
      let received = 0;
      socket.on('data', () => received++);
      // Three idle timeouts with a silent client: the node's frames count as activity.
      await new Promise((r) => setTimeout(r, 900));
      assert.equal(p.records.length, 0);
      assert.ok(received > 5, `client received ${received} frames`);
      chatty = false;
      socket.destroy();
      await waitFor(() => p.records.length === 1, 3000);
      // The node's frames to a client that has gone do not keep the tunnel alive.
      assert.equal(p.records[0]?.closeReason, 'half_closed_timeout');

      const quiet = await open(p);
      const closed = new Promise<void>((r) => quiet.once('close', () => r()));
      await waitFor(() => p.records.length === 2, 3000);
      assert.equal(p.records[1]?.closeReason, 'idle_timeout');
      await closed;
    } finally {
      chatty = false;
      await p.close();
    }
  });
});
