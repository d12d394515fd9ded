import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spread, spreadHeld, testNodes, type TestNode } from './balancer-conformance.js';
import { WeightedLeastConnectionsBalancer } from './weighted-least-connections.js';

test('weighted least connections gives a 3-weight node three times the held sessions of a 1-weight node', () => {
  const nodes = testNodes(2, [3, 1]);
  const counts = spreadHeld(new WeightedLeastConnectionsBalancer<TestNode>(), nodes, 400);
  assert.deepEqual([...counts.values()], [300, 100]);
});

test('weighted least connections picks the node with the fewest sessions relative to its weight', () => {
  const nodes = testNodes(3, [4, 1, 2]);
  // (active + 1) / weight: 8/4 = 2, 2/1 = 2, 3/2 = 1.5; plain least connections would take node 1.
  nodes[0]!.active = 7;
  nodes[1]!.active = 1;
  nodes[2]!.active = 2;
  assert.equal(new WeightedLeastConnectionsBalancer<TestNode>().pick(nodes), nodes[2]);
});

test('weighted least connections gives a node in slow start a smaller share of held sessions', () => {
  const nodes = testNodes(2, [2, 2]);
  nodes[1]!.ramp = 0.25;
  const counts = spreadHeld(new WeightedLeastConnectionsBalancer<TestNode>(), nodes, 500);
  // Effective weights 2 and 0.5: shares 4:1.
  assert.deepEqual([...counts.values()], [400, 100]);
});

test('weighted least connections breaks ties in turn rather than always taking the first', () => {
  // (active + 1) / weight is 2 for each node.
  const nodes = testNodes(3, [2, 1, 2]);
  nodes[0]!.active = 3;
  nodes[1]!.active = 1;
  nodes[2]!.active = 3;
  const balancer = new WeightedLeastConnectionsBalancer<TestNode>();
  const order = Array.from({ length: 6 }, () => nodes.indexOf(balancer.pick(nodes)!));
  assert.deepEqual(order, [0, 1, 2, 0, 1, 2]);
});

test('weighted least connections shares sessions that end at once by weight, not all to the heaviest', () => {
  const nodes = testNodes(3, [3, 1, 1]);
  const counts = spread(new WeightedLeastConnectionsBalancer<TestNode>(), nodes, 500);
  assert.deepEqual([...counts.values()], [300, 100, 100]);
});
