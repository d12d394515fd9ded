import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testNodes } from './balancer-conformance.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

test('weighted round robin interleaves weights 5,1,1 as nginx does: a a b a c a a', () => {
  const nodes = testNodes(3, [5, 1, 1]);
  const balancer = new WeightedRoundRobinBalancer();
  const letters = Array.from({ length: 14 }, () => 'abc'[nodes.indexOf(balancer.pick(nodes)!)]);
  assert.equal(letters.join(''), 'aabacaaaabacaa');
});

test('weighted round robin gives each node exactly its weight in every window of sum(weights)', () => {
  const weights = [4, 3, 2, 1];
  const nodes = testNodes(4, weights);
  const balancer = new WeightedRoundRobinBalancer();
  for (let window = 0; window < 20; window++) {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10; i++) counts[nodes.indexOf(balancer.pick(nodes)!)]! += 1;
    assert.deepEqual(counts, weights);
  }
});

test('weighted round robin keeps shares among the nodes left when one is excluded', () => {
  const nodes = testNodes(3, [3, 1, 100]);
  const balancer = new WeightedRoundRobinBalancer();
  const exclude = new Set([nodes[2]!.address]);
  const counts = [0, 0, 0];
  for (let i = 0; i < 400; i++) counts[nodes.indexOf(balancer.pick(nodes, exclude)!)]! += 1;
  assert.deepEqual(counts, [300, 100, 0]);
});
