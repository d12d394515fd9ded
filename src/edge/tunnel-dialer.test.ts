import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { makeMessage } from '../protocol/index.js';
import { OpeningBytes } from '../traffic/opening-bytes.js';
import { sessionPair } from '../tunnel/test-kit.js';
import { readMessage, writeMessage, type MuxStream } from '../tunnel/index.js';
import { ConnectorRegistry, type ConnectorTunnel } from './connector-registry.js';
import { EdgeMetrics } from './edge-metrics.js';
import { TunnelDialer } from './tunnel-dialer.js';

test(
  'a connector that never answers a dial gives a dial timeout that names it and says it is hung',
  { timeout: 20_000 },
  async () => {
    const pair = await sessionPair();
    // The connector's side accepts the dial stream and then says nothing: a hung process.
    const held: MuxStream[] = [];
    pair.client.on('stream', (stream: MuxStream) => {
      stream.on('error', () => undefined);
      held.push(stream);
    });
    const registry = new ConnectorRegistry();
    const metrics = new EdgeMetrics(registry);
    const dialer = new TunnelDialer(registry, { logger: pino({ level: 'silent' }), metrics });
    const tunnel = {
      connectorId: 'c-hung',
      group: 'g',
      draining: false,
      session: pair.server,
    } as unknown as ConnectorTunnel;
    registry.add(tunnel);
    const started = Date.now();
    try {
      await assert.rejects(
        dialer.dialVia(tunnel, {
          address: 'app.internal:80',
          timeoutMs: 100,
          sessionId: 's1',
        }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'POSTERN_ERR_DIAL_TIMEOUT');
          assert.match(
            err.message,
            /Connector c-hung did not answer the dial to app\.internal:80 within 2100 ms/,
          );
          assert.match(err.message, /hung or overloaded/);
          return true;
        },
      );
      assert.ok(Date.now() - started >= 2000, 'it waited the dial timeout plus the margin');
      // Meanwhile it takes no new sessions: the next one does not wait on it too.
      assert.deepEqual(registry.usable('g'), []);
      const next = Date.now();
      await assert.rejects(
        dialer.dial({
          via: 'g',
          address: 'app.internal:80',
          timeoutMs: 100,
          sessionId: 's2',
        }),
        { code: 'POSTERN_ERR_NO_CONNECTOR' },
      );
      assert.ok(Date.now() - next < 1000, 'refused at once');
    } finally {
      pair.dispose();
    }
  },
);

test(
  'the first bytes of a session follow the dial header before the connector answers; after a failed dial all of them go to the next attempt',
  { timeout: 20_000 },
  async () => {
    const pair = await sessionPair({ client: { ackWithFirstFrame: true } });
    // The connector's side answers each dial only once the opening bytes are there: they came
    // without waiting for its answer. The first dial is refused, the second connects.
    const answers = ['refused', 'ok'] as const;
    const afterAnswer: string[] = [];
    pair.client.on('stream', (stream: MuxStream) => {
      stream.on('error', () => undefined);
      const code = answers[afterAnswer.length] ?? 'ok';
      afterAnswer.push('');
      const index = afterAnswer.length - 1;
      void readMessage(stream, { maxBytes: 16 * 1024 }).then((dial) => {
        assert.equal(dial?.type, 'dial');
        let opening = '';
        stream.on('data', (chunk: Buffer) => {
          if (opening.length < 'PROXY hello'.length) {
            opening += chunk.toString();
            if (opening !== 'PROXY hello') return;
            writeMessage(stream, makeMessage({ type: 'dial_result', code, message: '' }));
            if (code !== 'ok') stream.end();
            return;
          }
          afterAnswer[index] += chunk.toString();
        });
      });
    });
    const registry = new ConnectorRegistry();
    const metrics = new EdgeMetrics(registry);
    const dialer = new TunnelDialer(registry, { logger: pino({ level: 'silent' }), metrics });
    const tunnel = {
      connectorId: 'c-1',
      group: 'g',
      draining: false,
      session: pair.server,
    } as unknown as ConnectorTunnel;
    registry.add(tunnel);
    const opening = new OpeningBytes();
    opening.add(Buffer.from('PROXY '));
    const request = { address: 'app.internal:80', timeoutMs: 1_000, sessionId: 's1', opening };
    try {
      const refused = dialer.dialVia(tunnel, request);
      // Added while the dial is under way: sent behind what was there.
      opening.add(Buffer.from('hello'));
      await assert.rejects(refused, { code: 'POSTERN_ERR_DIAL_REFUSED' });
      assert.equal(Buffer.concat(opening.unsent()).toString(), 'PROXY hello', 'all kept to resend');
      const result = await dialer.dialVia(tunnel, request);
      assert.deepEqual(opening.unsent(), [], 'the connector has them');
      opening.add(Buffer.from(' late'));
      assert.equal(
        Buffer.concat(opening.unsent()).toString(),
        ' late',
        'not sent after the answer',
      );
      result.socket.write(' world');
      result.socket.end();
      await new Promise((resolve) => result.socket.once('finish', resolve));
      for (let i = 0; i < 100 && afterAnswer[1] !== ' world'; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(afterAnswer, ['', ' world']);
    } finally {
      pair.dispose();
    }
  },
);
