import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { makePool, startProxy, waitFor } from './test-kit.js';

/** A node that answers every request on a connection with `response`, counting connections. */
async function rawNode(
  response: string,
): Promise<{ address: string; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    s.on('data', () => s.write(response));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    accepted: () => accepted,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Sends raw keep-alive GETs on one connection and returns each response's head as text. */
async function rawHeads(port: number, count: number): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  let buffered = '';
  socket.on('data', (chunk: string) => (buffered += chunk));
  const heads: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      socket.write('GET / HTTP/1.1\r\nHost: app.test\r\n\r\n');
      // Bodies here are "ok" (Content-Length: 2).
      await waitFor(() => buffered.includes('\r\n\r\nok'), 3000);
      const end = buffered.indexOf('\r\n\r\n');
      heads.push(buffered.slice(0, end + 2));
      buffered = buffered.slice(end + 6);
    }
  } finally {
    socket.destroy();
  }
  return heads;
}

describe('response head forwarding', () => {
  test('plain fields reach the client as the node sent them: order, case, repeats and its Date', async () => {
    const node = await rawNode(
      'HTTP/1.1 200 Fine\r\nx-lower: a\r\nX-Dup: 1\r\nConnection: keep-alive\r\nX-Dup: 2\r\n' +
        'Date: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: 2\r\n\r\nok',
    );
    const p = await startProxy({
      pool: makePool('plain', [node.address]),
      forwardedHeaders: false,
    });
    try {
      const [head] = await rawHeads(p.port, 1);
      assert.equal(
        head,
        'HTTP/1.1 200 Fine\r\nx-lower: a\r\nX-Dup: 1\r\nX-Dup: 2\r\n' +
          'Date: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: 2\r\n',
      );
    } finally {
      await p.close();
      await node.close();
    }
  });

  test("a node cannot set Postern's cookies: those Set-Cookie fields are removed, the others pass", async () => {
    const node = await rawNode(
      'HTTP/1.1 200 OK\r\nSet-Cookie: app=1; Path=/\r\n' +
        'Set-Cookie: __Host-postern-session=planted; Path=/; Secure\r\n' +
        'set-cookie: __HOST-POSTERN-LOGIN-abc=x\r\nSet-Cookie: postern-admin-login=y\r\n' +
        'Set-Cookie: my-postern-pref=dark\r\nContent-Length: 2\r\n\r\nok',
    );
    // No rules: the head would otherwise go out as the node sent it (the fast path).
    const p = await startProxy({ pool: makePool('cookies', [node.address]) });
    try {
      const [head] = await rawHeads(p.port, 1);
      const cookies = (head ?? '').match(/^set-cookie: .*$/gim);
      assert.deepEqual(cookies, ['Set-Cookie: app=1; Path=/', 'Set-Cookie: my-postern-pref=dark']);
    } finally {
      await p.close();
      await node.close();
    }
  });

  test("the node's Connection: close ends its connection, not the client's; a Date is added once", async () => {
    const node = await rawNode(
      'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok',
    );
    const p = await startProxy({ pool: makePool('closing', [node.address]) });
    try {
      const heads = await rawHeads(p.port, 2);
      for (const head of heads) {
        assert.doesNotMatch(head, /^connection:/im);
        assert.equal(head.match(/^Date: /gm)?.length, 1);
      }
      assert.equal(node.accepted(), 2, 'a node connection that said close is not reused');
    } finally {
      await p.close();
      await node.close();
    }
  });

  test('a field value with a control character gets 502, not a forwarded head', async () => {
    const node = await rawNode('HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\nContent-Length: 2\r\n\r\nok');
    const p = await startProxy({ pool: makePool('bad', [node.address]) });
    const socket = net.connect(p.port, '127.0.0.1');
    try {
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (c: string) => (text += c));
      socket.write('GET / HTTP/1.1\r\nHost: app.test\r\n\r\n');
      await waitFor(() => text.includes('\r\n\r\n'), 3000);
      assert.match(text, /^HTTP\/1\.1 502 /);
      assert.match(text, /X-Postern-Error: POSTERN_ERR_UPSTREAM_PROTOCOL/i);
      assert.doesNotMatch(text.slice(0, text.indexOf('\r\n\r\n')), /^X-Bad:/m);
    } finally {
      socket.destroy();
      await p.close();
      await node.close();
    }
  });
});
