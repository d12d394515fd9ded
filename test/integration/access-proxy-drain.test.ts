// The access proxy drains on stop as the virtual servers do: a real edge with an access listener,
// a real connector, an echo app and `postern tcp`'s tunnel client. Once the stop began a new
// connection is refused; open sessions and a login page request in flight go on and end by
// themselves; a session still open when the drain timeout ends is cut, recorded `drain_timeout`,
// and so is a connection whose TLS handshake is still under way then.
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { eventually } from '../harness/harness.js';
import { stalledTlsHandshake } from '../support/stalled-tls-handshake.js';
import { echoOnce } from '../harness/echo-once.js';
import { startAccessLab, type AccessLab } from './support/access-lab.js';

const alice = { subject: 'u-alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };

interface SessionEnd {
  kind: string;
  bytesFromClient?: number;
  closeReason?: string;
}

/** Opens a TLS connection to the access port: `connected`, or the code of the error. */
function tryConnect(port: number, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
  });
}

/** Sends one GET over TLS and resolves with the whole answer once the edge closes. */
function getOnce(port: number, ca: string, path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    let text = '';
    socket.once('secureConnect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(text));
  });
}

const closedOnce = (socket: Duplex): Promise<void> =>
  new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('the access proxy drains on stop', { timeout: 60_000 }, () => {
  const ends: SessionEnd[] = [];
  let lab: AccessLab;

  before(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => collect(line) });
    function collect(line: string): void {
      const parsed = JSON.parse(line) as { msg: string; activity?: SessionEnd };
      if (parsed.msg === 'user activity' && parsed.activity?.kind === 'session_end')
        ends.push(parsed.activity);
    }
    lab = await startAccessLab({ group: 'drain-site', edge: { logger, drainTimeoutMs: 3000 } });
  });

  after(() => lab?.close());

  it('refuses new connections, lets open sessions and requests finish, and cuts the rest at the drain timeout', async () => {
    const { ca, port } = lab;
    const { token } = await lab.issueToken(alice);
    const open = () => lab.openTunnel(token);
    // Byte counts tell the two sessions apart in their records: 1 + 3 from one, 2 + 3 from the other.
    const finishing = await open();
    const lingering = await open();
    assert.equal(await echoOnce(finishing, 'f'), 'f');
    assert.equal(await echoOnce(lingering, 'll'), 'll');
    let answerLogin: () => void = () => undefined;
    let loginAsked = false;
    lab.edge.accessProxy!.onHttpRequest = async (req, res) => {
      if (req.url !== '/login') return false;
      loginAsked = true;
      await new Promise<void>((resolve) => (answerLogin = resolve));
      res.end('login page');
      return true;
    };
    const login = getOnce(port, ca, '/login');
    await eventually(() => loginAsked, 'the login request at the access listener');

    const closing = lab.closeEdge();
    await eventually(
      async () => (await tryConnect(port, ca)) === 'ECONNREFUSED',
      'new connections refused once the stop began',
    );
    // The stop is under way, and what was open before it still works.
    assert.equal(await echoOnce(finishing, 'end'), 'end', 'an open session carries on');
    assert.equal(await echoOnce(lingering, 'end'), 'end', 'the other one too');
    answerLogin();
    const answer = await login;
    assert.match(answer, /^HTTP\/1\.1 200 /, 'the login request in flight is answered');
    assert.match(answer, /login page$/);
    // One session ends by itself within the drain timeout; the other is still open after it.
    finishing.end();
    await closedOnce(finishing);
    await eventually(() => ends.length === 1, 'the end of the finished session');
    assert.equal(lingering.destroyed, false, 'the other session is still open');
    await closedOnce(lingering);
    await closing;

    assert.deepEqual(
      ends.map((e) => [e.bytesFromClient, e.closeReason]),
      [
        [4, 'closed'],
        [5, 'drain_timeout'],
      ],
    );
  });
});

describe(
  'the access proxy cuts TLS handshakes still under way at the drain timeout',
  { timeout: 60_000 },
  () => {
    let lab: AccessLab;

    before(async () => {
      lab = await startAccessLab({ group: 'drain-handshake', edge: { drainTimeoutMs: 1000 } });
    });

    after(() => lab?.close());

    it('leaves a connection in its handshake open while draining and cuts it with the open sessions', async () => {
      const { ca, port } = lab;
      const { token } = await lab.issueToken(alice);
      const lingering = await lab.openTunnel(token);
      assert.equal(await echoOnce(lingering, 'l'), 'l');
      const stalled = await stalledTlsHandshake(port);
      // The edge has read the ClientHello and answered: the handshake waits for the client.
      await eventually(() => stalled.bytesRead > 0, "the server's answer to the ClientHello");

      const closing = lab.closeEdge();
      await eventually(
        async () => (await tryConnect(port, ca)) === 'ECONNREFUSED',
        'new connections refused once the stop began',
      );
      assert.equal(stalled.destroyed, false, 'a handshake under way may still finish in the drain');
      // The drain timeout cuts the session; the edge's handshake timeout (10 s) is far off.
      await closedOnce(lingering);
      await eventually(
        () => stalled.destroyed,
        'the connection in its TLS handshake cut with the session at the drain timeout',
        3000,
      );
      await closing;
    });
  },
);
