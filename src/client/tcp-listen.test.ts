import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { isLoopbackHost, sharingWarning, startTcpListener } from './tcp-listen.js';

test('only 127.0.0.0/8, ::1 and localhost count as reachable from this machine alone', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST'])
    assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'db.example.com', '128.0.0.1'])
    assert.equal(isLoopbackHost(host), false, host);
});

test('listening beyond loopback warns that others reach the target with this login', () => {
  const warning = sharingWarning('0.0.0.0', 'db.internal:5432');
  assert.match(warning ?? '', /0\.0\.0\.0.*other machines.*db\.internal:5432 as you.*127\.0\.0\.1/);
  assert.equal(sharingWarning('127.0.0.1', 'db.internal:5432'), undefined);
});

test('a forwarder on a loopback address starts without a sharing warning', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  const listener = await startTcpListener({
    edgeUrl: 'https://127.0.0.1:1',
    target: 'db.internal:5432',
    token: 'unused',
    listen: { host: '127.0.0.1', port: 0 },
    logger,
  });
  await listener.close();
  assert.deepEqual(lines, []);
});
