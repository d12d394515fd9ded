import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testNodes, type TestNode } from './balancer-conformance.js';
import { FastestResponseTimeBalancer } from './fastest-response-time.js';

test('fastest response time tries nodes without a measurement first, in turn', () => {
  const nodes = testNodes(4);
  nodes[1]!.responseMs = undefined;
  nodes[3]!.responseMs = undefined;
  nodes[0]!.responseMs = 1;
  const balancer = new FastestResponseTimeBalancer<TestNode>();
  assert.equal(balancer.pick(nodes), nodes[1]);
  assert.equal(balancer.pick(nodes), nodes[3]);
  assert.equal(balancer.pick(nodes), nodes[1]);
});

test('fastest response time sends idle traffic to the fastest node', () => {
  const nodes = testNodes(3);
  nodes[0]!.responseMs = 30;
  nodes[1]!.responseMs = 5;
  nodes[2]!.responseMs = 12;
  const balancer = new FastestResponseTimeBalancer<TestNode>();
  for (let i = 0; i < 10; i++) assert.equal(balancer.pick(nodes), nodes[1]);
});

test('fastest response time moves on when the fastest node is busy', () => {
  const nodes = testNodes(2);
  nodes[0]!.responseMs = 10;
  nodes[1]!.responseMs = 25;
  const balancer = new FastestResponseTimeBalancer<TestNode>();
  const picks = Array.from({ length: 7 }, () => {
    const node = balancer.pick(nodes)!;
    node.active += 1;
    return nodes.indexOf(node);
  });
  // Scores: node 0 = 10 × (active + 1), node 1 = 25 × (active + 1).
  assert.deepEqual(picks, [0, 0, 1, 0, 0, 1, 0]);
});

test('fastest response time gives an untried node in slow start one session at a time, not a burst', () => {
  // A node added to a busy pool has no measurement yet: trying it first must not send it
  // every session that starts before its first answer.
  const nodes = testNodes(4);
  nodes[3]!.responseMs = undefined;
  nodes[3]!.ramp = 0.05;
  const balancer = new FastestResponseTimeBalancer<TestNode>();
  const picks = Array.from({ length: 40 }, () => {
    const node = balancer.pick(nodes)!;
    node.active += 1;
    return nodes.indexOf(node);
  });
  assert.equal(picks[0], 3);
  assert.equal(picks.filter((i) => i === 3).length, 1);
  // Alone (the others excluded), it still takes sessions.
  const others = new Set(nodes.slice(0, 3).map((n) => n.address));
  assert.equal(balancer.pick(nodes, others), nodes[3]);
});
