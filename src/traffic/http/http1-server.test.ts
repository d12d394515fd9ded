import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Http1Handlers, Http1Settings } from './http1-connection.js';
import type { Http1Request } from './http1-request.js';
import type { Http1Response } from './http1-response.js';
import { Http1Server } from './http1-server.js';

const settings: Http1Settings = {
  maxHeaderBytes: 1024,
  requestTimeoutMs: 2_000,
  keepaliveTimeoutMs: 300,
  idleTimeoutMs: 5_000,
};

type Handler = (req: Http1Request, res: Http1Response) => void;

/** A TCP server whose connections Postern's HTTP/1.1 server serves with `handler`. */
async function serve(handler: Handler, o: Partial<Http1Handlers> = {}) {
  const refused: { status: number; message: string }[] = [];
  const http1 = new Http1Server(settings, {
    request: handler,
    upgrade: o.upgrade ?? ((_req, socket) => socket.destroy()),
    clientError: (socket, status, error) => {
      refused.push({ status, message: error.message });
      socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    },
  });
  const server = net.createServer((socket) => http1.accept(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    http1,
    refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A raw client connection that collects everything the server sends. */
async function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let text = '';
  let ended = false;
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (text += d));
  socket.on('end', () => (ended = true));
  const until = async (ok: (t: string) => boolean, what: string, ms = 3_000): Promise<string> => {
    const deadline = Date.now() + ms;
    while (!ok(text)) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(text)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return text;
  };
  return {
    socket,
    send: (s: string | Buffer) => socket.write(s),
    text: () => text,
    ended: () => ended,
    until,
    closed: () => until(() => ended, 'the server to close the connection'),
  };
}

/** Answers `200` with the method, target and body it read, as text. */
const echo: Handler = (req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString('latin1')));
  const answer = (): void => {
    const text = `${req.method} ${req.url} ${body}`;
    res.writeHead(200, undefined, ['Content-Length', String(text.length)]);
    res.end(text);
  };
  if (req.hasBody) req.on('end', answer);
  else answer();
  req.resume();
};

describe("Postern's HTTP/1.1 server", () => {
  let s: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    s = await serve(echo);
  });
  after(() => s.close());

  test('answers pipelined requests in order on one connection', async () => {
    const c = await connect(s.port);
    c.send(
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz' +
        'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n1;ext=1\r\n!\r\n0\r\nT: 1\r\n\r\n' +
        'GET /d HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const text = await c.until((t) => t.includes('GET /d'), 'four responses');
    const bodies = [...text.matchAll(/\r\n\r\n([A-Z]+ \/[a-d] [^H]*)/g)].map((m) => m[1]);
    assert.deepEqual(bodies, ['GET /a ', 'POST /b xyz', 'POST /c hi!', 'GET /d ']);
    assert.equal(c.ended(), false, 'the connection stays open');
    c.socket.destroy();
  });

  test('HTTP/1.0: closes after the response unless asked to keep alive', async () => {
    const c = await connect(s.port);
    c.send('GET /old HTTP/1.0\r\n\r\n');
    await c.closed();
    assert.match(c.text(), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(c.text(), /Connection: close\r\n/);
    const k = await connect(s.port);
    k.send('GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await k.until((t) => t.includes('GET /k'), 'the response');
    assert.match(k.text(), /Connection: keep-alive\r\n/);
    k.send('GET /k2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await k.until((t) => t.includes('GET /k2'), 'a second response on the same connection');
    k.socket.destroy();
  });

  test('Connection: close ends the connection after the response', async () => {
    const c = await connect(s.port);
    c.send('GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await c.closed();
    assert.match(c.text(), /Connection: close\r\n[\s\S]*GET \/bye $/);
  });

  test('an idle keep-alive connection closes after keepalive_timeout_ms', async () => {
    const c = await connect(s.port);
    c.send('GET /once HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until((t) => t.includes('GET /once'), 'the response');
    const started = Date.now();
    await c.closed();
    const waited = Date.now() - started;
    assert.ok(waited >= settings.keepaliveTimeoutMs - 50, `closed after ${waited} ms`);
  });

  test('refuses what cannot be parsed and closes: 400, 431, 501, 505, 405 for CONNECT', async () => {
    const cases: [string, number, RegExp][] = [
      ['GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n', 400, /bad header name/],
      [
        'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
        400,
        /both/,
      ],
      ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 501, /not supported/],
      ['GET / HTTP/3.0\r\nHost: x\r\n\r\n', 505, /version/],
      [
        `GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(2000)}\r\n\r\n`,
        431,
        /larger than 1024 bytes/,
      ],
      ['CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n', 405, /CONNECT/],
    ];
    for (const [request, status, message] of cases) {
      const before = s.refused.length;
      const c = await connect(s.port);
      c.send(request);
      await c.closed();
      assert.match(c.text(), new RegExp(`^HTTP/1.1 ${status} `), request.slice(0, 40));
      assert.match(s.refused[before]?.message ?? '', message);
    }
  });

  test('a head that does not arrive within request_timeout_ms gets 408', async () => {
    const quick = await serve(echo);
    quick.http1.configure({ ...settings, requestTimeoutMs: 200 });
    try {
      const c = await connect(quick.port);
      c.send('GET / HTTP/1.1\r\nHo');
      await c.closed();
      assert.match(c.text(), /^HTTP\/1\.1 408 /);
      assert.match(quick.refused[0]?.message ?? '', /200 ms/);
    } finally {
      await quick.close();
    }
  });
});

describe("Postern's HTTP/1.1 server: bodies and responses", () => {
  test('Expect: 100-continue is answered when the body is wanted, not before', async () => {
    let resume: (() => void) | undefined;
    const s = await serve((req, res) => {
      resume = () => echo(req, res);
    });
    try {
      const c = await connect(s.port);
      c.send('PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(c.text(), '', 'nothing before the handler reads');
      resume?.();
      await c.until((t) => t.includes('100 Continue'), '100 Continue');
      c.send('ok');
      await c.until((t) => t.includes('PUT /up ok'), 'the response');
      c.socket.destroy();
    } finally {
      await s.close();
    }
  });

  test('a body the handler never read is dropped and the next request is served', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/deny') {
        res.writeHead(403, undefined, ['Content-Length', '0']);
        res.end();
      } else echo(req, res);
    });
    try {
      const c = await connect(s.port);
      c.send('POST /deny HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
      await c.until((t) => t.includes('403'), 'the 403');
      c.send(Buffer.alloc(100_000, 97));
      c.send('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.until((t) => t.includes('GET /next'), 'the next response');
      c.socket.destroy();
    } finally {
      await s.close();
    }
  });

  test('a broken chunked body after the response ended closes the connection without a second response', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, undefined, ['Content-Length', '5']);
      res.end('early');
    });
    try {
      const c = await connect(s.port);
      c.send('POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      await c.until((t) => t.endsWith('early'), 'the early response');
      c.send('-3\r\nabc\r\n');
      const text = await c.closed();
      assert.equal(text.match(/HTTP\/1\.1 /g)?.length, 1, text);
      assert.match(text, /^HTTP\/1\.1 200 /);
      assert.deepEqual(s.refused, []);
    } finally {
      await s.close();
    }
  });

  test('a broken chunked body while the response is under way cuts the connection', async () => {
    let res: Http1Response | undefined;
    const s = await serve((_req, r) => {
      res = r;
      r.writeHead(200, undefined, []);
      r.write('partial');
    });
    try {
      const c = await connect(s.port);
      c.send('POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      await c.until((t) => t.includes('partial'), 'the start of the response');
      c.send('zz\r\n');
      const text = await c.closed();
      assert.equal(text.match(/HTTP\/1\.1 /g)?.length, 1, text);
      assert.deepEqual(s.refused, []);
      assert.equal(res?.writableEnded, false);
    } finally {
      await s.close();
    }
  });

  test('frames bodies: chunked without Content-Length, none for HEAD, 204 and 304', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, undefined, []);
        res.write('abc');
        res.write(Buffer.alloc(20_000, 98));
        res.end('z');
      } else {
        const status = req.url === '/204' ? 204 : req.url === '/304' ? 304 : 200;
        res.writeHead(status, undefined, status === 200 ? ['Content-Length', '5'] : []);
        res.end(status === 200 ? 'hello' : undefined);
      }
    });
    try {
      const c = await connect(s.port);
      c.send('GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n');
      const chunked = await c.until((t) => t.endsWith('\r\n0\r\n\r\n'), 'the last chunk');
      assert.match(chunked, /Transfer-Encoding: chunked\r\n/);
      assert.match(chunked, /\r\n3\r\nabc\r\n4e20\r\nb{20000}\r\n1\r\nz\r\n0\r\n\r\n$/);
      for (const [request, status] of [
        ['HEAD /x', 200],
        ['GET /204', 204],
        ['GET /304', 304],
      ] as const) {
        const h = await connect(s.port);
        h.send(`${request} HTTP/1.1\r\nHost: x\r\n\r\n`);
        await h.until((t) => t.endsWith('\r\n\r\n'), 'the head');
        await new Promise((r) => setTimeout(r, 50));
        assert.match(h.text(), new RegExp(`^HTTP/1.1 ${status} `));
        assert.ok(h.text().endsWith('\r\n\r\n'), `no body after the ${request} head: ${h.text()}`);
        h.socket.destroy();
      }
      c.socket.destroy();
    } finally {
      await s.close();
    }
  });

  test('refuses response fields that would break the head, before anything is sent', async () => {
    let thrown: unknown;
    const s = await serve((_req, res) => {
      try {
        res.writeHead(200, undefined, ['X-Evil', 'a\r\nSet-Cookie: b']);
      } catch (err) {
        thrown = err;
        res.writeHead(500, undefined, ['Content-Length', '0']);
        res.end();
      }
    });
    try {
      const c = await connect(s.port);
      c.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.until((t) => t.endsWith('\r\n\r\n'), 'the 500');
      assert.match(String(thrown), /invalid value in header X-Evil/);
      assert.doesNotMatch(c.text(), /Set-Cookie/);
      c.socket.destroy();
    } finally {
      await s.close();
    }
  });

  test('an Upgrade request hands over the socket and the bytes read after its head', async () => {
    const s = await serve(echo, {
      upgrade: (req, socket, head) => {
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\n\r\n${req.head.upgrade}:${head.toString()}`,
        );
        socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
        socket.resume();
      },
    });
    try {
      const c = await connect(s.port);
      c.send(
        'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nearly',
      );
      await c.until((t) => t.includes('websocket:early'), 'the handler to see the early bytes');
      c.send('later');
      await c.until((t) => t.includes('LATER'), 'bytes after the upgrade');
      c.socket.destroy();
    } finally {
      await s.close();
    }
  });

  test('a slow reader gets backpressure: writes stop until it reads, then the body completes', async () => {
    const chunk = Buffer.alloc(64 * 1024, 99);
    const total = 1024; // 64 MiB: more than loopback buffers hold
    let sent = 0;
    const s = await serve((_req, res) => {
      res.writeHead(200, undefined, ['Content-Length', String(total * chunk.length)]);
      const pump = (): void => {
        while (sent < total) {
          sent++;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    try {
      const socket = net.connect(s.port, '127.0.0.1');
      await once(socket, 'connect');
      let received = 0;
      socket.pause();
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => setTimeout(r, 300));
      const sentWhilePaused = sent;
      assert.ok(
        sentWhilePaused < total / 2,
        `wrote ${sentWhilePaused} of ${total} chunks to a client reading nothing`,
      );
      const done = new Promise<void>((resolve) =>
        socket.on('data', (d: Buffer) => {
          received += d.length;
          if (received >= total * chunk.length) resolve();
        }),
      );
      socket.resume();
      await done;
      assert.equal(sent, total);
      socket.destroy();
    } finally {
      await s.close();
    }
  });
});
