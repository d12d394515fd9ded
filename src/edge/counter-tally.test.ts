import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { CounterTally } from './counter-tally.js';

function counter(registry: Registry): Counter<'vs' | 'status'> {
  return new Counter({
    name: 'tally_test_total',
    help: 'test',
    labelNames: ['vs', 'status'] as const,
    registers: [registry],
  });
}

const labelsOf = (vs: string, status: string | number) => ({ vs, status: String(status) });

test('pairs that look alike as one string stay apart', async () => {
  const registry = new Registry();
  const tally = new CounterTally(counter(registry));
  tally.add('a', '1', labelsOf);
  tally.add('a1', '', labelsOf, 2);
  const text = await registry.metrics();
  assert.match(text, /tally_test_total\{vs="a",status="1"\} 1/);
  assert.match(text, /tally_test_total\{vs="a1",status=""\} 2/);
});

test('tallied increments show in the registry on every read, summed per label set', async () => {
  const registry = new Registry();
  const tally = new CounterTally(counter(registry));
  tally.add('a', 200, labelsOf);
  tally.add('a', 200, labelsOf, 2);
  tally.add('b', 502, labelsOf);
  const first = await registry.metrics();
  assert.match(first, /tally_test_total\{vs="a",status="200"\} 3/);
  assert.match(first, /tally_test_total\{vs="b",status="502"\} 1/);
  tally.add('a', 200, labelsOf, 4);
  const second = await registry.metrics();
  // Counted once: a read applies only what was added since the previous read.
  assert.match(second, /tally_test_total\{vs="a",status="200"\} 7/);
  assert.match(second, /tally_test_total\{vs="b",status="502"\} 1/);
});

test('a counter read directly with get() includes tallied increments', async () => {
  const c = counter(new Registry());
  const tally = new CounterTally(c);
  tally.add('x', 204, labelsOf, 5);
  const values = (await c.get()).values;
  assert.deepEqual(
    values.map((v) => [v.labels, v.value]),
    [[{ vs: 'x', status: '204' }, 5]],
  );
});

test('a collect function the counter already had still runs', async () => {
  const registry = new Registry();
  let collected = 0;
  const c = new Counter({
    name: 'tally_chain_total',
    help: 'test',
    registers: [registry],
    collect() {
      collected++;
    },
  });
  const tally = new CounterTally(c);
  tally.add('', '', () => ({}), 2);
  assert.match(await registry.metrics(), /tally_chain_total 2/);
  assert.equal(collected, 1);
});
