// `discovered` reports as they arrive on the control stream (decoded from JSON), from connectors
// with and without node weights, applied to a real `via` pool.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { poolSchema } from '../config/index.js';
import { FakeClock } from '../core/index.js';
import { encodeMessage, makeMessage, MessageDecoder, parseMessage } from '../protocol/index.js';
import { Pool } from '../traffic/index.js';
import { RemoteReports } from './remote-reports.js';

const reporter = { connectorId: 'c1', group: 'site' };
const spec = poolSchema.parse({
  name: 'web',
  via: 'site',
  algorithm: 'weighted_round_robin',
  discovery: { dns: { name: '_web._tcp.site.test', type: 'SRV' } },
});

function setup() {
  const clock = new FakeClock();
  const pool = Pool.fromConfig(spec, { clock, discoveryRunsRemotely: true });
  pool.start();
  const reports = new RemoteReports({ logger: pino({ level: 'silent' }), clock });
  /** Applies a report the way the edge receives it: JSON on the wire, then validated. */
  const receive = (json: Record<string, unknown>) => {
    const message = parseMessage(JSON.parse(JSON.stringify({ v: 1, ...json })));
    if (message?.type !== 'discovered') throw new Error(`parsed as ${message?.type}`);
    return reports.apply(reporter, message, { pool, spec });
  };
  const weights = () => Object.fromEntries(pool.status().nodes.map((n) => [n.address, n.weight]));
  return { pool, receive, weights };
}

test('a discovered report without weights (an older connector) gives every node weight 1', () => {
  const { receive, weights } = setup();
  assert.equal(
    receive({ type: 'discovered', pool: 'web', addresses: ['10.0.0.1:80', '10.0.0.2:80'] }),
    true,
  );
  assert.deepEqual(weights(), { '10.0.0.1:80': 1, '10.0.0.2:80': 1 });
});

test('weights in a discovered report reach the pool; a change of weights alone applies', () => {
  const { pool, receive, weights } = setup();
  const addresses = ['10.0.0.1:80', '10.0.0.2:80'];
  receive({ type: 'discovered', pool: 'web', addresses, weights: { '10.0.0.1:80': 3 } });
  assert.deepEqual(weights(), { '10.0.0.1:80': 3, '10.0.0.2:80': 1 });
  const picks = new Map<string, number>();
  for (let i = 0; i < 40; i++) {
    const pick = pool.pick();
    picks.set(pick.node.address, (picks.get(pick.node.address) ?? 0) + 1);
    pick.done({ ok: true });
  }
  assert.deepEqual(Object.fromEntries(picks), { '10.0.0.1:80': 30, '10.0.0.2:80': 10 });

  // Weights for addresses not in the set are ignored; the same addresses with new weights apply.
  const reweighted = { '10.0.0.2:80': 5, '10.9.9.9:80': 7 };
  receive({ type: 'discovered', pool: 'web', addresses, weights: reweighted });
  assert.deepEqual(weights(), { '10.0.0.1:80': 1, '10.0.0.2:80': 5 });
});

test('the weights field survives the codec and is refused when malformed', () => {
  const message = makeMessage({
    type: 'discovered',
    pool: 'web',
    addresses: ['10.0.0.1:80'],
    weights: { '10.0.0.1:80': 65_535 },
  });
  const { messages } = new MessageDecoder().push(encodeMessage(message));
  assert.deepEqual(parseMessage(messages[0]), message);
  for (const weight of [0, 1.5, 65_536]) {
    assert.throws(
      () =>
        parseMessage({
          v: 1,
          type: 'discovered',
          pool: 'web',
          addresses: ['10.0.0.1:80'],
          weights: { '10.0.0.1:80': weight },
        }),
      { code: 'POSTERN_ERR_MESSAGE_INVALID' },
    );
  }
});
