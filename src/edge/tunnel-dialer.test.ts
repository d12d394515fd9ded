import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { sessionPair } from '../tunnel/test-kit.js';
import type { MuxStream } from '../tunnel/index.js';
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
