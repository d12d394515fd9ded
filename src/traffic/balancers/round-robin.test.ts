import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testNodes } from './balancer-conformance.js';
import { RoundRobinBalancer } from './round-robin.js';

test('round robin visits nodes in list order and wraps around', () => {
  const nodes = testNodes(3, [9, 1, 1]);
  const balancer = new RoundRobinBalancer();
  const order = Array.from({ length: 7 }, () => nodes.indexOf(balancer.pick(nodes)!));
  assert.deepEqual(order, [0, 1, 2, 0, 1, 2, 0]);
});

test('round robin skips an excluded node and continues after the one it picked', () => {
  const nodes = testNodes(4);
  const balancer = new RoundRobinBalancer();
  const exclude = new Set([nodes[1]!.address]);
  const order = Array.from({ length: 6 }, () => nodes.indexOf(balancer.pick(nodes, exclude)!));
  assert.deepEqual(order, [0, 2, 3, 0, 2, 3]);
});
