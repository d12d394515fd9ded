// What reaches a node, byte for byte: a raw TCP backend logs every request head it receives.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { makeCertificate, type TestKeyPair } from '../tls/test-certificates.js';
import type { AccessGate } from './access-gate.js';
import type { HttpRequestRecord, HttpVirtualServerOptions } from './http-options.js';
import { HttpVirtualServer } from './http-virtual-server.js';
import { makePool, startProxy, waitFor } from './test-kit.js';

/** A node that records each request head as text and answers 200 (101 to an Upgrade). */
interface RawBackend {
  readonly address: string;
  readonly heads: string[];
  close(): Promise<void>;
}

async function startRawBackend(): Promise<RawBackend> {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end + 2);
        buffered = buffered.slice(end + 4);
        heads.push(head);
        socket.write(
          /\r\nupgrade:/i.test(head)
            ? 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'
            : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    heads,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sends raw bytes to the proxy and resolves with what came back once `done` holds or it closes. */
function rawExchange(port: number, text: string, done: (answer: string) => boolean) {
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    const timer = setTimeout(() => finish(), 5000);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      answer += c;
      if (done(answer)) finish();
    });
    socket.on('close', finish);
    socket.on('error', reject);
  });
}

/** The field lines of a request head, lower-cased names, in order. */
function fields(head: string): [string, string][] {
  return head
    .split('\r\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => {
      const colon = l.indexOf(':');
      return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
    });
}

function values(head: string, name: string): string[] {
  return fields(head)
    .filter(([n]) => n === name)
    .map(([, v]) => v);
}

const FORGED =
  'X-Postern-User: ceo@corp\r\nx-postern-groups: admins\r\nX-POSTERN-ASSERTION: forged\r\n' +
  'X-Postern-A: 1\r\nX-Postern-Email: ceo@corp\r\n';
const COOKIES =
  'Cookie: theme=dark; __Host-postern-session=SESSIONSECRET; lang=en; __host-postern-login=L; ' +
  'postern-admin-login=A\r\n';

function assertNoPosternValues(head: string): void {
  assert.deepEqual(
    fields(head).filter(([n]) => n.startsWith('x-postern-')),
    [],
    `no X-Postern-* field reaches the node:\n${head}`,
  );
  assert.doesNotMatch(head, /SESSIONSECRET|postern-login|postern-admin-login/i);
}

describe("client fields in Postern's namespace never reach the node", () => {
  let node: RawBackend;
  before(async () => (node = await startRawBackend()));
  after(() => node.close());

  test('a server without access: X-Postern-* removed, Postern cookies removed, others kept', async () => {
    const proxy = await startProxy({ pool: makePool('p', [node.address]) });
    try {
      const answer = await rawExchange(
        proxy.port,
        `GET / HTTP/1.1\r\nHost: app.test\r\n${FORGED}${COOKIES}Connection: close\r\n\r\n`,
        (a) => a.endsWith('ok'),
      );
      assert.match(answer, /^HTTP\/1\.1 200 /);
      const head = node.heads.at(-1) ?? '';
      assertNoPosternValues(head);
      assert.deepEqual(values(head, 'cookie'), ['theme=dark; lang=en']);
    } finally {
      await proxy.close();
    }
  });

  test('a server whose gate lets requests through untouched (login: none) strips them too', async () => {
    const gate: AccessGate = { check: () => Promise.resolve({ allow: true }) };
    const proxy = await startProxy({ pool: makePool('p', [node.address]), gate });
    try {
      await rawExchange(
        proxy.port,
        `GET /x HTTP/1.1\r\nHost: app.test\r\n${FORGED}Cookie: __Host-postern-session=S\r\nConnection: close\r\n\r\n`,
        (a) => a.endsWith('ok'),
      );
      const head = node.heads.at(-1) ?? '';
      assertNoPosternValues(head);
      assert.deepEqual(values(head, 'cookie'), [], 'a Cookie field left empty is dropped');
    } finally {
      await proxy.close();
    }
  });

  test('the first request of a WebSocket upgrade is cleaned the same way; the gate adds its own', async () => {
    const gate: AccessGate = {
      check: () =>
        Promise.resolve({
          allow: true,
          remove: ['x-postern-user'],
          headers: { 'X-Postern-User': 'alice@corp' },
        }),
    };
    const proxy = await startProxy({ pool: makePool('p', [node.address]), gate });
    try {
      const answer = await rawExchange(
        proxy.port,
        `GET /ws HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${FORGED}${COOKIES}\r\n`,
        (a) => a.includes('\r\n\r\n'),
      );
      assert.match(answer, /^HTTP\/1\.1 101 /);
      const head = node.heads.at(-1) ?? '';
      assert.match(head, /^GET \/ws /);
      assert.deepEqual(
        fields(head).filter(([n]) => n.startsWith('x-postern-')),
        [['x-postern-user', 'alice@corp']],
      );
      assert.deepEqual(values(head, 'cookie'), ['theme=dark; lang=en']);
    } finally {
      await proxy.close();
    }
  });
});

describe('X-Forwarded-For, Forwarded and X-Real-IP', () => {
  let node: RawBackend;
  before(async () => (node = await startRawBackend()));
  after(() => node.close());

  const lying =
    'X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\nX-Forwarded-Proto: https\r\n' +
    'X-Forwarded-Host: evil.test\r\nForwarded: for=9.9.9.9;proto=https\r\nX-Real-IP: 6.6.6.6\r\n';

  async function headFor(options: Partial<HttpVirtualServerOptions>): Promise<string> {
    const proxy = await startProxy({ pool: makePool('p', [node.address]), ...options });
    try {
      await rawExchange(
        proxy.port,
        `GET / HTTP/1.1\r\nHost: app.test\r\n${lying}Connection: close\r\n\r\n`,
        (a) => a.endsWith('ok'),
      );
      return node.heads.at(-1) ?? '';
    } finally {
      await proxy.close();
    }
  }

  test('by default the client address replaces them and Forwarded and X-Real-IP are removed', async () => {
    const head = await headFor({});
    assert.deepEqual(values(head, 'x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(values(head, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(values(head, 'x-forwarded-host'), ['app.test']);
    assert.deepEqual(values(head, 'forwarded'), []);
    assert.deepEqual(values(head, 'x-real-ip'), []);
  });

  test('behind a trusted proxy (append) the chain is extended and the proxy fields pass', async () => {
    const head = await headFor({ xForwardedFor: 'append' });
    assert.deepEqual(values(head, 'x-forwarded-for'), ['1.2.3.4, 5.6.7.8, 127.0.0.1']);
    assert.deepEqual(values(head, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(values(head, 'forwarded'), ['for=9.9.9.9;proto=https']);
    assert.deepEqual(values(head, 'x-real-ip'), ['6.6.6.6']);
  });
});

describe('HTTP/2 clients', () => {
  let node: RawBackend;
  let pair: TestKeyPair;
  let vs: HttpVirtualServer;
  let session: http2.ClientHttp2Session;
  const records: HttpRequestRecord[] = [];

  before(async () => {
    node = await startRawBackend();
    pair = await makeCertificate('a.test', ['a.test', 'b.test']);
    vs = new HttpVirtualServer({
      name: 'h2',
      protocol: 'https',
      listen: { host: '127.0.0.1', port: 0 },
      pool: makePool('p', [node.address]),
      dialer: new DirectDialer(),
      tls: { certificates: [{ name: 'c', ...pair }] },
      onRequestEnd: (r) => records.push(r.record()),
    });
    await vs.start();
    session = http2.connect(`https://127.0.0.1:${vs.address().port}`, {
      rejectUnauthorized: false,
      servername: 'a.test',
    });
  });
  after(async () => {
    session.close();
    await vs.close({ drainTimeoutMs: 500 });
    await node.close();
  });

  function h2(headers: http2.OutgoingHttpHeaders): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'GET', ...headers }, { endStream: true });
      let status = 0;
      let text = '';
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (text += c));
      stream.on('end', () => resolve({ status, text }));
      stream.on('error', reject);
    });
  }

  test('split Cookie fields are joined without Postern cookies; X-Postern-* is removed', async () => {
    const before = node.heads.length;
    const res = await h2({
      ':path': '/c',
      ':authority': 'a.test',
      'x-postern-user': 'ceo@corp',
      'x-postern-groups': 'admins',
      cookie: ['a=1', '__Host-postern-session=SESSIONSECRET', 'b=2; postern-admin-login=x'],
    });
    assert.equal(res.status, 200);
    const head = node.heads[before] ?? '';
    assertNoPosternValues(head);
    assert.deepEqual(values(head, 'cookie'), ['a=1; b=2']);
    assert.deepEqual(values(head, 'host'), ['a.test']);
  });

  test('a host field naming another authority is refused with 400 and reaches no node', async () => {
    const before = node.heads.length;
    const res = await h2({ ':path': '/c1', ':authority': 'b.test', host: 'a.test' });
    assert.equal(res.status, 400);
    assert.match(res.text, /POSTERN_ERR_BAD_REQUEST/);
    assert.equal(node.heads.length, before, 'nothing was forwarded');
  });

  test('a host field equal to :authority up to case and default port goes on, Host from :authority', async () => {
    const before = node.heads.length;
    const res = await h2({ ':path': '/c2', ':authority': 'a.test', host: 'A.TEST:443' });
    assert.equal(res.status, 200);
    assert.deepEqual(values(node.heads[before] ?? '', 'host'), ['a.test']);
    await waitFor(() => records.some((r) => r.path === '/c2'));
  });
});
