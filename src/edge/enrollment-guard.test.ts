import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { FakeClock } from '../tunnel/test-kit.js';
import { EnrollmentGuard, type EnrollmentGuardOptions } from './enrollment-guard.js';

const WRONG = { code: 'POSTERN_ERR_KEY_UNKNOWN', message: 'wrong secret' };

function guarded(options: Partial<EnrollmentGuardOptions> = {}) {
  const clock = new FakeClock();
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const guard = new EnrollmentGuard({ clock, logger, ...options });
  return { clock, lines, guard };
}

test('a source is refused after 10 failures in a minute, with the time left, and free after it', () => {
  const { clock, guard } = guarded();
  for (let i = 0; i < 10; i++) {
    assert.equal(guard.check('192.0.2.1', `k${i}`), undefined, `attempt ${i + 1} allowed`);
    guard.failed('192.0.2.1', `k${i}`, WRONG);
  }
  clock.advance(15_000);
  const refusal = guard.check('192.0.2.1', 'kother');
  assert.equal(refusal?.code, 'POSTERN_ERR_ENROLLMENT_RATE_LIMITED');
  assert.match(refusal?.message ?? '', /for 45 s/);
  assert.equal(guard.check('192.0.2.2', 'kother'), undefined, 'other sources are not affected');
  clock.advance(45_000);
  assert.equal(guard.check('192.0.2.1', 'kother'), undefined, 'free once the window ended');
});

test('a key id is refused after 20 failures from any number of sources', () => {
  const { guard } = guarded();
  for (let i = 0; i < 20; i++) guard.failed(`198.51.100.${i}`, 'ktarget', WRONG);
  assert.equal(guard.check('203.0.113.9', 'ktarget')?.code, 'POSTERN_ERR_ENROLLMENT_RATE_LIMITED');
  assert.equal(guard.check('203.0.113.9', 'kother'), undefined);
});

test('rate-limit refusals themselves do not extend the count', () => {
  const { guard } = guarded({ maxFailuresPerSource: 2 });
  guard.failed('192.0.2.1', undefined, WRONG);
  for (let i = 0; i < 5; i++) {
    guard.failed('192.0.2.1', 'k1', {
      code: 'POSTERN_ERR_ENROLLMENT_RATE_LIMITED',
      message: 'limited',
    });
  }
  assert.equal(guard.check('192.0.2.1', 'k1'), undefined);
});

test('refusals are logged once per source, then summed in one line per minute', () => {
  const { clock, lines, guard } = guarded();
  for (let i = 0; i < 300; i++) guard.failed('192.0.2.1', 'k1', WRONG);
  guard.failed('192.0.2.2', 'k1', WRONG);
  assert.equal(lines.length, 2, 'one line per source so far');
  assert.equal(lines[0]?.remote, '192.0.2.1');
  assert.equal(lines[0]?.reason, 'POSTERN_ERR_KEY_UNKNOWN');
  clock.advance(60_000);
  const summaries = lines.slice(2);
  assert.equal(summaries.length, 1, 'a summary only for the source with more refusals');
  assert.equal(summaries[0]?.remote, '192.0.2.1');
  assert.equal(summaries[0]?.refusals, 299);
  assert.deepEqual(summaries[0]?.reasons, { POSTERN_ERR_KEY_UNKNOWN: 299 });
  // Still refusing: the next minute is summed too, not logged line by line.
  for (let i = 0; i < 50; i++) guard.failed('192.0.2.1', 'k1', WRONG);
  assert.equal(lines.length, 3);
  clock.advance(60_000);
  assert.equal(lines.length, 4);
  assert.equal(lines[3]?.refusals, 50);
  // A quiet minute: the source is forgotten, and its next refusal is logged in full again.
  clock.advance(60_000);
  guard.failed('192.0.2.1', 'k1', WRONG);
  assert.equal(lines.length, 5);
  assert.equal(lines[4]?.reason, 'POSTERN_ERR_KEY_UNKNOWN');
});

test('memory stays bounded however many sources fail', () => {
  const { guard, lines } = guarded({ maxTracked: 100 });
  for (let i = 0; i < 1000; i++) {
    guard.failed(`10.0.${i >> 8}.${i & 255}`, `k${i}`, WRONG);
    guard.failed(`10.0.${i >> 8}.${i & 255}`, `k${i}`, WRONG);
  }
  // The oldest sources were summarised early and forgotten; the newest are still counted.
  assert.ok(lines.length >= 1000 + 900, `full line per source, early summaries (${lines.length})`);
  guard.close();
  const summaries = lines.filter((l) => l.refusals !== undefined);
  assert.equal(summaries.length, 1000, 'every source with a second refusal summarised once');
});
