// An Upgrade request that a real nginx ignores (it answers 200, as almost every non-WebSocket
// application does) must not turn the client connection into a raw pipe to the node: a second
// request on it would reach nginx past the edge's rules (security review item S1). The pool goes
// through a connector, so the tunnel's streams carry the exchange.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, startTestConnector, startTestEdge, tempDir } from '../harness/harness.js';

/** Starts nginx in the foreground on `port`: /admin answers a secret, everything else "public". */
async function startNginx(port: number): Promise<{ accessLog: string; stop(): Promise<void> }> {
  const dir = await tempDir('postern-secfixa-nginx-');
  const accessLog = join(dir, 'access.log');
  await writeFile(
    join(dir, 'nginx.conf'),
    [
      `pid ${join(dir, 'nginx.pid')};`,
      'events { worker_connections 64; }',
      'http {',
      `  access_log ${accessLog};`,
      `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;`,
      `  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
      `  server { listen 127.0.0.1:${port};`,
      '    location /admin { return 200 "ADMIN SECRET\\n"; }',
      '    location / { return 200 "public\\n"; } }',
      '}',
      '',
    ].join('\n'),
  );
  await writeFile(accessLog, '');
  const child: ChildProcess = spawn(
    'nginx',
    [
      '-p',
      dir,
      '-c',
      join(dir, 'nginx.conf'),
      '-e',
      join(dir, 'error.log'),
      '-g',
      'daemon off; master_process off;',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 5000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('nginx did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    accessLog,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes `first`, then `o.then` once the answer contains `o.ready`; resolves with everything
 * received when the edge closes the connection, or (closing it) once `o.until` holds.
 */
function exchange(
  port: number,
  first: string,
  o: { ready?: string; then?: string; until?: (text: string) => boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of the exchange within 10 s; got ${JSON.stringify(text)}`));
    }, 10_000);
    const finish = (): void => {
      clearTimeout(timer);
      resolve(text);
    };
    socket.setEncoding('latin1');
    socket.on('error', () => undefined);
    socket.on('data', (d: string) => {
      text += d;
      if (!sent && o.ready !== undefined && text.includes(o.ready)) {
        sent = true;
        socket.write(o.then ?? '');
      }
      if (o.until?.(text) === true) {
        socket.destroy();
        finish();
      }
    });
    socket.on('close', finish);
    socket.write(first);
  });
}

/** A node that switches every Upgrade request to a line echo protocol. */
async function startSwitchingNode(): Promise<{ address: string; close(): void }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n',
      );
      const early = head.slice(end + 4);
      if (early !== '') socket.write(`echo:${early}`);
      socket.on('data', (c: Buffer) => socket.write(`echo:${c.toString('latin1')}`));
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => server.close(),
  };
}

let edgePort = 0;
let wsPort = 0;
let switching: { close(): void } | undefined;
let nginx: { accessLog: string; stop(): Promise<void> } | undefined;
let stopAll: (() => Promise<void>) | undefined;

before(async () => {
  const nginxPort = await freePort();
  nginx = await startNginx(nginxPort);
  edgePort = await freePort();
  wsPort = await freePort();
  const node = await startSwitchingNode();
  switching = node;
  const dir = await tempDir('postern-secfixa-upgrade-');
  await writeFile(
    join(dir, 'site.yaml'),
    [
      'version: 1',
      'connector_groups: [{ name: site-a }]',
      'pools:',
      `  - { name: app, via: site-a, nodes: [{ address: "127.0.0.1:${nginxPort}" }] }`,
      `  - { name: ws, via: site-a, nodes: [{ address: "${node.address}" }] }`,
      'rules:',
      '  - { name: deny-admin, when: { path_prefix: /admin }, request: [{ deny: { status: 403, body: "admin denied" } }] }',
      'virtual_servers:',
      `  - { name: front, protocol: http, listen: "127.0.0.1:${edgePort}", pool: app, rules: [deny-admin] }`,
      `  - { name: ws, protocol: http, listen: "127.0.0.1:${wsPort}", pool: ws }`,
      '',
    ].join('\n'),
  );
  const edge = await startTestEdge({ configDir: dir });
  const key = await edge.createKey('site-a');
  const connector = await startTestConnector({ provisionKey: key.value });
  stopAll = async () => {
    await connector.stop();
    await edge.stop();
    await rm(dir, { recursive: true, force: true });
  };
});

after(async () => {
  await stopAll?.();
  await nginx?.stop();
  switching?.close();
});

test('a second request after an Upgrade that nginx answered with 200 meets the rules and never reaches nginx', async () => {
  const upgrade = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: anything\r\n\r\n';
  const smuggled = 'GET /admin/secret HTTP/1.1\r\nHost: x\r\nX-Postern-User: ceo@corp\r\n\r\n';
  // The answer has a Content-Length, so the client connection stays HTTP (as with nginx as the
  // edge): the second request is parsed and denied by the rule.
  const text = await exchange(edgePort, upgrade, {
    ready: 'public\n',
    then: smuggled,
    until: (t) => t.endsWith('admin denied'),
  });
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\n\r\npublic\nHTTP\/1\.1 403 Forbidden\r\n/);
  assert.doesNotMatch(text, /ADMIN SECRET/);
  const log = await readFile((nginx as { accessLog: string }).accessLog, 'utf8');
  assert.match(log, /"GET \/ HTTP\/1\.1" 200/);
  assert.doesNotMatch(log, /admin/);
});

test('the same request on its own connection meets the deny rule', async () => {
  const request = 'GET /admin/secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const text = await exchange(edgePort, request);
  assert.match(text, /^HTTP\/1\.1 403 /);
  assert.ok(text.endsWith('admin denied'), JSON.stringify(text));
});

test('a node that answers 101 gets a tunnel, with bytes sent before the 101 passed on after it', async () => {
  const upgrade = 'GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n';
  const text = await exchange(wsPort, `${upgrade}early;`, {
    ready: 'echo:early;',
    then: 'later;',
    until: (t) => t.endsWith('echo:later;'),
  });
  assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.ok(text.endsWith('echo:early;echo:later;'), JSON.stringify(text));
});
