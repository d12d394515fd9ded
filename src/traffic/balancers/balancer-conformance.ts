// The contract every Balancer must meet, registered as node:test tests by each algorithm's test
// file (see conformance.test.ts). Algorithm-specific promises live in their own test files.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Balancer, BalancerNode, RandomSource } from './balancer.js';
import { seededRandom } from './seeded-random.js';

/** A node whose live figures the test drives. */
export interface TestNode extends BalancerNode {
  active: number;
  responseMs: number | undefined;
  ramp?: number | undefined;
}

/** Builds a fresh balancer; `random` is seeded by the suite so runs repeat exactly. */
export type BalancerFactory = (options: { random: RandomSource }) => Balancer<TestNode>;

/** What the algorithm promises about weights: `true` = shares follow weights. */
export interface ConformanceExpectations {
  readonly honoursWeight: boolean;
}

/** Nodes `n0..n{count-1}` with the given weights (default 1), idle, all answering in 10 ms. */
export function testNodes(count: number, weights: readonly number[] = []): TestNode[] {
  return Array.from({ length: count }, (_, i) => ({
    address: `10.0.0.${i}:80`,
    weight: weights[i] ?? 1,
    active: 0,
    responseMs: 10,
    ramp: 1,
  }));
}

/** Picks `rounds` times, each session held open (active + 1), and counts picks per address. */
export function spreadHeld(
  balancer: Balancer<TestNode>,
  nodes: readonly TestNode[],
  rounds: number,
): Map<string, number> {
  const counts = new Map<string, number>(nodes.map((n) => [n.address, 0]));
  for (let i = 0; i < rounds; i++) {
    const node = balancer.pick(nodes);
    assert.ok(node, 'a pick from a non-empty set returned nothing');
    node.active += 1;
    counts.set(node.address, (counts.get(node.address) ?? 0) + 1);
  }
  return counts;
}

/** Picks `rounds` times, each session finishing at once, and counts picks per address. */
export function spread(
  balancer: Balancer<TestNode>,
  nodes: readonly TestNode[],
  rounds: number,
): Map<string, number> {
  const counts = new Map<string, number>(nodes.map((n) => [n.address, 0]));
  for (let i = 0; i < rounds; i++) {
    const node = balancer.pick(nodes);
    assert.ok(node, 'a pick from a non-empty set returned nothing');
    counts.set(node.address, (counts.get(node.address) ?? 0) + 1);
  }
  return counts;
}

function assertShares(counts: Map<string, number>, expected: readonly number[], slack: number) {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const sum = expected.reduce((a, b) => a + b, 0);
  [...counts.values()].forEach((count, i) => {
    const want = expected[i]! / sum;
    const got = count / total;
    assert.ok(Math.abs(got - want) <= slack, `node ${i}: share ${got.toFixed(3)}, want ${want}`);
  });
}

/** Registers the shared Balancer contract as tests under `describe(name)`. */
export function balancerConformance(
  name: string,
  factory: BalancerFactory,
  expect: ConformanceExpectations,
): void {
  const make = (seed = 42): Balancer<TestNode> => factory({ random: seededRandom(seed) });

  describe(`${name} (Balancer conformance)`, () => {
    test('returns undefined for an empty node list', () => {
      assert.equal(make().pick([]), undefined);
    });

    test('always picks the only node', () => {
      const nodes = testNodes(1, [7]);
      const balancer = make();
      for (let i = 0; i < 50; i++) assert.equal(balancer.pick(nodes), nodes[0]);
    });

    test('picks only objects from the given list', () => {
      const nodes = testNodes(5, [1, 2, 3, 4, 5]);
      const balancer = make();
      for (let i = 0; i < 500; i++) assert.ok(nodes.includes(balancer.pick(nodes)!));
    });

    test('never picks an excluded node, and returns undefined when all are excluded', () => {
      const nodes = testNodes(4, [1, 5, 1, 5]);
      const balancer = make();
      const exclude = new Set([nodes[1]!.address, nodes[3]!.address]);
      for (let i = 0; i < 500; i++) {
        const node = balancer.pick(nodes, exclude)!;
        assert.ok(!exclude.has(node.address), `picked excluded ${node.address}`);
      }
      assert.equal(balancer.pick(nodes, new Set(nodes.map((n) => n.address))), undefined);
    });

    test('returns the single node left when all others are excluded', () => {
      const nodes = testNodes(6);
      const balancer = make();
      const exclude = new Set(nodes.slice(1).map((n) => n.address));
      for (let i = 0; i < 50; i++) assert.equal(balancer.pick(nodes, exclude), nodes[0]);
    });

    test('follows node set changes between picks', () => {
      const balancer = make();
      const first = testNodes(3);
      spread(balancer, first, 10);
      const second = [...testNodes(5).slice(3), { ...first[0]! }];
      const counts = spread(balancer, second, 300);
      assert.deepEqual([...counts.keys()].sort(), second.map((n) => n.address).sort());
      for (const [address, count] of counts) assert.ok(count > 50, `${address} got ${count}`);
      const shrunk = second.slice(0, 1);
      for (let i = 0; i < 20; i++) assert.equal(balancer.pick(shrunk), shrunk[0]);
    });

    test('gives identical nodes equal shares over 10 000 picks', () => {
      assertShares(spread(make(), testNodes(4), 10_000), [1, 1, 1, 1], 0.02);
    });

    test(
      expect.honoursWeight
        ? 'shares picks in proportion to weight over 10 000 picks'
        : 'ignores weights: equal shares over 10 000 picks',
      () => {
        const weights = [5, 3, 1, 1];
        const counts = spread(make(7), testNodes(4, weights), 10_000);
        assertShares(counts, expect.honoursWeight ? weights : [1, 1, 1, 1], 0.02);
      },
    );

    test('gives a node in slow start its ramp of a full share of held sessions', () => {
      for (const ramp of [0.05, 0.25, 0.6]) {
        const nodes = testNodes(4);
        nodes[1]!.ramp = ramp;
        assertShares(spreadHeld(make(11), nodes, 8_000), [1, ramp, 1, 1], 0.02);
      }
    });

    test('scales a weighted node in slow start by its ramp, and is back to full at ramp 1', () => {
      const weights = [4, 2, 2];
      const nodes = testNodes(3, weights);
      nodes[0]!.ramp = 0.5;
      const held = spreadHeld(make(13), nodes, 8_000);
      assertShares(held, expect.honoursWeight ? [2, 2, 2] : [0.5, 1, 1], 0.02);
      for (const n of nodes) n.active = 0;
      nodes[0]!.ramp = 1;
      const full = spreadHeld(make(13), nodes, 8_000);
      assertShares(full, expect.honoursWeight ? weights : [1, 1, 1], 0.02);
    });

    test('keeps spreading when nodes are added to a running set', () => {
      const balancer = make();
      const nodes = testNodes(2);
      spread(balancer, nodes, 1_000);
      const grown = [...nodes, ...testNodes(4).slice(2)];
      assertShares(spread(balancer, grown, 8_000), [1, 1, 1, 1], 0.03);
    });
  });
}
