import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { logPoolEvent } from './session-observer.js';

/** Log lines written by a pino logger, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'info' },
    { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  return { log, lines };
}

test('a pool that does not verify its nodes is a warning; other pool news is info', () => {
  const { log, lines } = capture();
  logPoolEvent(log, {
    type: 'tls_unverified',
    pool: 'api',
    warning: 'pool api does not verify its nodes',
  });
  logPoolEvent(log, { type: 'discovery_skipped', pool: 'api', skipped: ['a3.test: no address'] });
  assert.equal(lines[0]?.['level'], 40);
  assert.equal(lines[0]?.['msg'], 'pool api does not verify its nodes');
  assert.equal(lines[0]?.['pool'], 'api');
  assert.equal(lines[1]?.['level'], 30);
});
