import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { monitorSpecFromConfig, type MonitorConfigInput } from './monitor-spec.js';
import { runProbe } from './probe.js';
import { TestBackend } from './test-backend.js';

const dialer = new DirectDialer();
let web: TestBackend;
let secure: TestBackend;

before(async () => {
  web = await TestBackend.start();
  secure = await TestBackend.start({ tls: true });
});
after(async () => {
  await web.down();
  await secure.down();
});

async function probe(
  config: Omit<MonitorConfigInput, 'name'>,
  address: string,
  signal?: AbortSignal,
) {
  const spec = monitorSpecFromConfig({ name: 'm', timeout_ms: 2_000, ...config });
  return runProbe(spec, address, {
    dialer,
    via: undefined,
    sessionId: 'test',
    signal: signal ?? new AbortController().signal,
  });
}

test('a tcp probe passes when the node accepts and fails when it refuses', async () => {
  assert.deepEqual(await probe({ type: 'tcp' }, web.address), { ok: true, detail: 'connected' });
  const spare = await TestBackend.start();
  await spare.down();
  const refused = await probe({ type: 'tcp' }, spare.address);
  assert.equal(refused.ok, false);
  assert.match(refused.detail, /POSTERN_ERR_DIAL_REFUSED/);
});

test('an http probe sends the path and Host header and checks the status', async () => {
  web.status = 200;
  const result = await probe(
    { type: 'http', path: '/healthz?x=1', host_header: 'app.internal' },
    web.address,
  );
  assert.equal(result.ok, true, result.detail);
  assert.deepEqual(web.seen.at(-1), {
    path: '/healthz?x=1',
    host: 'app.internal',
    servername: undefined,
  });
  web.status = 503;
  assert.deepEqual(await probe({ type: 'http' }, web.address), {
    ok: false,
    detail: 'unexpected status 503',
  });
  assert.equal((await probe({ type: 'http', expect_status: ['500-503'] }, web.address)).ok, true);
  web.status = 200;
});

test('an http probe without a Host header sends the node address', async () => {
  await probe({ type: 'http' }, web.address);
  assert.equal(web.seen.at(-1)?.host, web.address);
});

test('an http probe with body_match needs the body to match', async () => {
  web.body = 'status: healthy\n';
  assert.equal((await probe({ type: 'http', body_match: 'health(y|ier)' }, web.address)).ok, true);
  const miss = await probe({ type: 'http', body_match: '^ok$' }, web.address);
  assert.equal(miss.ok, false);
  assert.match(miss.detail, /body did not match/);
  web.body = 'ok';
});

test('an https probe accepts a self-signed node and sends the Host header name as SNI', async () => {
  const result = await probe({ type: 'https', host_header: 'localhost' }, secure.address);
  assert.equal(result.ok, true, result.detail);
  assert.equal(secure.seen.at(-1)?.servername, 'localhost');
});

test('an https probe with verify_tls refuses a certificate it cannot verify', async () => {
  const result = await probe(
    { type: 'https', host_header: 'localhost', verify_tls: true },
    secure.address,
  );
  assert.equal(result.ok, false);
  assert.match(result.detail, /self.signed|certificate/i);
});

test('an http probe against a TLS node fails instead of hanging', async () => {
  const result = await probe({ type: 'http' }, secure.address);
  assert.equal(result.ok, false);
});

test('an aborted probe returns at once and releases its connection', async () => {
  web.hang = true;
  const seenBefore = web.seen.length;
  const controller = new AbortController();
  const started = Date.now();
  const pending = probe({ type: 'http' }, web.address, controller.signal);
  // Abort once the request is in: the node has it and will never answer.
  while (web.seen.length === seenBefore && Date.now() - started < 2_000) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(web.seen.length, seenBefore + 1, 'the request never reached the node');
  controller.abort();
  const result = await pending;
  web.hang = false;
  assert.equal(result.ok, false);
  assert.ok(Date.now() - started < 1_500, 'the probe did not return promptly');
});
