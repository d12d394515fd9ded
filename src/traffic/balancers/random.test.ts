import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spread, testNodes, type TestNode } from './balancer-conformance.js';
import { RandomBalancer } from './random.js';
import { seededRandom } from './seeded-random.js';

test('random repeats exactly with the same seed and differs with another', () => {
  const nodes = testNodes(10);
  const run = (seed: number) => {
    const balancer = new RandomBalancer<TestNode>({ random: seededRandom(seed) });
    return Array.from({ length: 40 }, () => nodes.indexOf(balancer.pick(nodes)!));
  };
  assert.deepEqual(run(1), run(1));
  assert.notDeepEqual(run(1), run(2));
});

test('random stays uniform over the nodes left when most are excluded', () => {
  const nodes = testNodes(20);
  const keep = [nodes[3]!, nodes[11]!, nodes[19]!];
  const exclude = new Set(nodes.filter((n) => !keep.includes(n)).map((n) => n.address));
  const balancer = new RandomBalancer<TestNode>({ random: seededRandom(5) });
  const counts = new Map<string, number>();
  for (let i = 0; i < 9_000; i++) {
    const node = balancer.pick(nodes, exclude)!;
    counts.set(node.address, (counts.get(node.address) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), keep.map((n) => n.address).sort());
  for (const count of counts.values()) assert.ok(Math.abs(count - 3_000) < 250, `${count}`);
});

test('random does not follow list order', () => {
  const nodes = testNodes(4);
  const balancer = new RandomBalancer<TestNode>({ random: seededRandom(3) });
  const order = Array.from({ length: 12 }, () => nodes.indexOf(balancer.pick(nodes)!));
  assert.notDeepEqual(order, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
  assert.equal(spread(balancer, nodes, 100).size, 4);
});
