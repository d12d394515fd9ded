import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../core/index.js';
import { SourceIpTable } from './source-ip-table.js';

test('a source IP stays pinned while it keeps coming back within the TTL', () => {
  const clock = new FakeClock();
  const table = new SourceIpTable({ ttlMs: 1_000, clock });
  table.set('192.0.2.1', 'a:80');
  for (let i = 0; i < 5; i++) {
    clock.advance(900);
    assert.equal(table.get('192.0.2.1'), 'a:80');
  }
});

test('a source IP mapping expires after the TTL without use', () => {
  const clock = new FakeClock();
  const table = new SourceIpTable({ ttlMs: 1_000, clock });
  table.set('192.0.2.1', 'a:80');
  clock.advance(1_000);
  assert.equal(table.get('192.0.2.1'), undefined);
  assert.equal(table.size, 0);
});

test('the table never holds more than maxEntries and evicts the least recently used', () => {
  const clock = new FakeClock();
  const table = new SourceIpTable({ ttlMs: 60_000, maxEntries: 3, clock });
  for (const ip of ['1', '2', '3']) table.set(ip, `${ip}:80`);
  assert.equal(table.get('1'), '1:80');
  table.set('4', '4:80');
  assert.equal(table.size, 3);
  assert.equal(table.get('2'), undefined);
  assert.deepEqual(
    ['1', '3', '4'].map((ip) => table.get(ip)),
    ['1:80', '3:80', '4:80'],
  );
});

test('expired entries are swept when new ones arrive', () => {
  const clock = new FakeClock();
  const table = new SourceIpTable({ ttlMs: 100, clock });
  for (let i = 0; i < 50; i++) table.set(`10.0.0.${i}`, 'a:80');
  clock.advance(200);
  table.set('10.1.0.1', 'b:80');
  assert.equal(table.size, 1);
});

test('configure shrinks the table to a new bound and applies a new TTL', () => {
  const clock = new FakeClock();
  const table = new SourceIpTable({ ttlMs: 10_000, clock });
  for (let i = 0; i < 10; i++) table.set(`ip${i}`, 'a:80');
  table.configure({ ttlMs: 100, maxEntries: 4 });
  assert.equal(table.size, 4);
  table.set('fresh', 'b:80');
  clock.advance(150);
  assert.equal(table.get('fresh'), undefined);
});
