import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../core/index.js';
import { DiskSpool } from './disk-spool.js';
import { ReceiverQueue, byteSize, type DropReason } from './receiver-queue.js';

/** A clock that moves only when the test says so; queues read only `now`. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_700_000_000_000;
  return {
    now: () => now,
    monotonic: () => now,
    setTimeout: () => ({}),
    clearTimeout: () => undefined,
    advance: (ms) => {
      now += ms;
    },
  };
}

function setup(
  o: { memoryRecords?: number; spoolBytes?: number; windowMs?: number; dir?: string } = {},
) {
  const clock = manualClock();
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'postern-logs-queue-'));
  const spool =
    o.spoolBytes === undefined ? undefined : new DiskSpool(dir, { maxBytes: o.spoolBytes });
  const drops: { reason: DropReason; records: number }[] = [];
  const queue = new ReceiverQueue({
    memoryRecords: o.memoryRecords ?? 4,
    memoryBytes: 1_000_000,
    windowMs: o.windowMs ?? 60_000,
    clock,
    spool,
    onDrop: (reason, records) => drops.push({ reason, records }),
  });
  const dropped = (reason: DropReason) =>
    drops.filter((d) => d.reason === reason).reduce((n, d) => n + d.records, 0);
  return {
    clock,
    dir,
    spool,
    queue,
    dropped,
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const record = (n: number) => JSON.stringify({ type: 'audit', n, pad: 'x'.repeat(40) });
const numbers = (entries: readonly { data: string }[]) =>
  entries.map((e) => (JSON.parse(e.data) as { n: number }).n);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test('records overflowing memory go to the spool and come back in publish order', () => {
  const t = setup({ memoryRecords: 4, spoolBytes: 1_000_000 });
  try {
    for (let n = 0; n < 50; n += 1) t.queue.push(record(n));
    const stats = t.queue.stats();
    assert.ok(stats.spoolRecords > 0, 'some records were spooled');
    assert.ok(stats.memoryRecords <= 4, `memory holds at most its limit (${stats.memoryRecords})`);
    assert.equal(stats.memoryRecords + stats.spoolRecords, 50);
    const out = [];
    for (let i = 0; i < 100 && t.queue.size > 0; i += 1) out.push(...t.queue.take(7, 1_000_000));
    assert.deepEqual(numbers(out), range(0, 50));
    assert.equal(t.dropped('memory_full') + t.dropped('spool_full'), 0);
  } finally {
    t.done();
  }
});

test('without a spool, memory overflow drops the oldest records and counts them', () => {
  const t = setup({ memoryRecords: 10 });
  try {
    for (let n = 0; n < 25; n += 1) t.queue.push(record(n));
    const kept = numbers(t.queue.take(100, 1_000_000));
    assert.equal(kept.length + t.dropped('memory_full'), 25);
    assert.ok(kept.length <= 10);
    // What is kept is the newest, still in order.
    assert.deepEqual(kept, range(25 - kept.length, 25));
  } finally {
    t.done();
  }
});

test('a full spool drops its oldest segment, keeps order and never grows past its limit', () => {
  const limit = 16 * 1024;
  const t = setup({ memoryRecords: 4, spoolBytes: limit });
  try {
    for (let n = 0; n < 2000; n += 1) {
      t.queue.push(record(n));
      assert.ok(t.queue.stats().spoolBytes <= limit, 'spool within its limit');
    }
    const dropped = t.dropped('spool_full');
    assert.ok(dropped > 0, 'the oldest records were dropped');
    const out = [];
    for (let i = 0; i < 1000 && t.queue.size > 0; i += 1) out.push(...t.queue.take(100, 1_000_000));
    assert.equal(out.length + dropped, 2000);
    assert.deepEqual(numbers(out), range(dropped, 2000), 'the newest survive, in order');
  } finally {
    t.done();
  }
});

test('records older than the window are dropped as expired instead of delivered', () => {
  const t = setup({ memoryRecords: 2, spoolBytes: 1_000_000, windowMs: 60_000 });
  try {
    for (let n = 0; n < 10; n += 1) t.queue.push(record(n));
    t.clock.advance(61_000);
    for (let n = 10; n < 13; n += 1) t.queue.push(record(n));
    const out = numbers(t.queue.take(100, 1_000_000));
    assert.deepEqual(out, [10, 11, 12]);
    assert.equal(t.dropped('expired'), 10);
  } finally {
    t.done();
  }
});

test('records put back after a failed write come first, before spool and memory', () => {
  const t = setup({ memoryRecords: 3, spoolBytes: 1_000_000 });
  try {
    for (let n = 0; n < 10; n += 1) t.queue.push(record(n));
    const first = t.queue.take(4, 1_000_000);
    assert.deepEqual(numbers(first), [0, 1, 2, 3]);
    t.queue.putBack(first);
    const all = [];
    for (let i = 0; i < 20 && t.queue.size > 0; i += 1) all.push(...t.queue.take(3, 1_000_000));
    assert.deepEqual(numbers(all), range(0, 10));
  } finally {
    t.done();
  }
});

test('a persisted queue is read back from disk by the next run, in order, once', () => {
  const first = setup({ memoryRecords: 4, spoolBytes: 1_000_000 });
  try {
    for (let n = 0; n < 20; n += 1) first.queue.push(record(n));
    const taken = first.queue.take(3, 1_000_000);
    first.queue.putBack(taken.slice(1)); // record 0 was delivered; 1 and 2 were not
    first.queue.persist();
    first.spool!.close();
    assert.equal(first.queue.stats().memoryRecords, 0);
    const second = setup({ memoryRecords: 4, spoolBytes: 1_000_000, dir: first.dir });
    assert.equal(second.queue.size, 19);
    const out = [];
    for (let i = 0; i < 20 && second.queue.size > 0; i += 1) out.push(...second.queue.take(5, 1e6));
    assert.deepEqual(numbers(out), range(1, 20));
  } finally {
    first.done();
  }
});

test('discarding a queue drops every record, counts them and deletes the spool', () => {
  const t = setup({ memoryRecords: 2, spoolBytes: 1_000_000 });
  t.queue.push(record(0));
  for (let n = 1; n < 8; n += 1) t.queue.push(record(n));
  t.queue.discard();
  assert.equal(t.dropped('removed'), 8);
  assert.equal(t.queue.size, 0);
  assert.throws(() => readdirSync(t.dir), /ENOENT/);
});

test('byte accounting counts each record and its line break', () => {
  const t = setup({ memoryRecords: 100 });
  try {
    t.queue.push('{"a":"é"}');
    assert.equal(t.queue.stats().memoryBytes, byteSize('{"a":"é"}'));
    assert.equal(byteSize('{"a":"é"}'), 11);
  } finally {
    t.done();
  }
});

test('stopping without a spool drops what is left and counts it as shutdown', () => {
  const t = setup({ memoryRecords: 100 });
  try {
    for (let n = 0; n < 5; n += 1) t.queue.push(record(n));
    t.queue.putBack(t.queue.take(2, 1_000_000));
    t.queue.persist();
    assert.equal(t.dropped('shutdown'), 5);
    assert.equal(t.queue.size, 0);
  } finally {
    t.done();
  }
});
