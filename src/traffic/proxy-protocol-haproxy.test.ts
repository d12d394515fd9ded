import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DirectDialer } from './direct-dial.js';
import { deadAddress, makePool } from './http/test-kit.js';
import { TcpVirtualServer } from './tcp-virtual-server.js';

// Interop: HAProxy as the node, with `accept-proxy` on its bind line, answers every request with
// the client address and listener address it took from the PROXY header (src, dst).

const HAPROXY = '/usr/sbin/haproxy';

let haproxy: ChildProcess;
let haproxyAddress: string;
let dir: string;
let output = '';

/** Resolves once `address` accepts a connection; bounded by `ms`. */
async function accepting(address: string, ms: number): Promise<void> {
  const [host = '', port = ''] = address.split(':');
  const deadline = Date.now() + ms;
  for (let i = 0; Date.now() < deadline && i < 200; i++) {
    if (haproxy.exitCode !== null) break;
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(Number(port), host, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`haproxy did not listen on ${address}:\n${output}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'proxyproto-haproxy-'));
  haproxyAddress = await deadAddress(); // a free port on 127.0.0.1
  const config = [
    'global',
    '  maxconn 64',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 5s',
    '  timeout server 5s',
    'frontend node',
    `  bind ${haproxyAddress} accept-proxy`,
    '  http-request return status 200 content-type text/plain lf-string "%[src] %[src_port] %[dst] %[dst_port]"',
    '',
  ].join('\n');
  await writeFile(join(dir, 'haproxy.cfg'), config);
  haproxy = spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'pipe' });
  haproxy.on('error', (err) => (output += String(err)));
  haproxy.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  haproxy.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  await accepting(haproxyAddress, 5000);
});

after(async () => {
  if (haproxy.exitCode === null) {
    haproxy.kill('SIGKILL');
    await once(haproxy, 'exit');
  }
  await rm(dir, { recursive: true, force: true });
});

/** Sends one HTTP/1.0 request through `port`; resolves with the body and the client's port. */
async function ask(port: number, ms = 5000): Promise<{ body: string; clientPort: number }> {
  const socket = net.connect(port, '127.0.0.1');
  const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${ms} ms`)), ms);
  await once(socket, 'connect');
  const clientPort = socket.localPort!;
  socket.write('GET / HTTP/1.0\r\nHost: node\r\n\r\n');
  let text = '';
  for await (const chunk of socket as AsyncIterable<Buffer>) text += chunk.toString();
  clearTimeout(timer);
  assert.match(text, /^HTTP\/1\.[01] 200/);
  return { body: text.slice(text.indexOf('\r\n\r\n') + 4), clientPort };
}

for (const version of ['v1', 'v2'] as const) {
  test(`haproxy with accept-proxy reads the ${version} header: it sees the client's and the listener's ends`, async (t) => {
    const server = new TcpVirtualServer({
      name: 'pp-haproxy',
      listen: { host: '127.0.0.1', port: 0 },
      pool: makePool('haproxy', [haproxyAddress]),
      dialer: new DirectDialer(),
      proxyProtocol: version,
    });
    await server.start();
    t.after(() => server.close({ drainTimeoutMs: 0 }));
    const { port } = server.address();
    const { body, clientPort } = await ask(port);
    assert.equal(body, `127.0.0.1 ${clientPort} 127.0.0.1 ${port}`);
  });
}
