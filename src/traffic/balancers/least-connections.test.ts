import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testNodes, type TestNode } from './balancer-conformance.js';
import { LeastConnectionsBalancer } from './least-connections.js';

test('least connections picks the node with the fewest sessions in progress', () => {
  const nodes = testNodes(3);
  nodes[0]!.active = 4;
  nodes[1]!.active = 1;
  nodes[2]!.active = 2;
  assert.equal(new LeastConnectionsBalancer<TestNode>().pick(nodes), nodes[1]);
});

test('least connections levels held sessions across nodes', () => {
  const nodes = testNodes(3);
  nodes[0]!.active = 6;
  const balancer = new LeastConnectionsBalancer<TestNode>();
  for (let i = 0; i < 12; i++) balancer.pick(nodes)!.active += 1;
  assert.deepEqual(
    nodes.map((n) => n.active),
    [6, 6, 6],
  );
});

test('least connections breaks ties in turn rather than always taking the first', () => {
  const nodes = testNodes(3);
  const balancer = new LeastConnectionsBalancer<TestNode>();
  const order = Array.from({ length: 6 }, () => nodes.indexOf(balancer.pick(nodes)!));
  assert.deepEqual(order, [0, 1, 2, 0, 1, 2]);
});
