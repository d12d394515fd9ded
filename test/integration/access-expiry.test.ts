// Access ends with the token: a real edge with an access listener, a real connector and an echo
// app. A session authorized by a token that expires in ~2 s is cut at its expiry, recorded as
// `token_expired`, and `postern tcp --stdio` says to log in again; a long-lived token's session
// carries on across the same time.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { runTcpStdio, startTcpListener } from '../../src/client/index.js';
import { eventually } from '../harness/harness.js';
import { echoOnce } from '../harness/echo-once.js';
import { startAccessLab, type AccessLab } from './support/access-lab.js';

const alice = { subject: 'u-alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };
const dave = { subject: 'u-dave', email: 'dave@example.com', groups: ['eng'], idp: 'corp' };

/** `promise`, or a rejection naming `what` once `ms` pass: a session never cut fails fast. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not come within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('access sessions end when their token expires', { timeout: 60_000 }, () => {
  let lab: AccessLab;

  before(async () => {
    lab = await startAccessLab({ group: 'expiry-site' });
  });

  after(() => lab?.close());

  it('cuts the short token session within 1 s of its expiry, logs token_expired, and keeps the long one', async () => {
    const { target, ca } = lab;
    const long = await lab.issueToken(dave);
    // `exp` is whole seconds: 2.5 s of lifetime gives an expiry 1.5–2.5 s away.
    const short = await lab.issueToken(alice, 2500);
    const kept = await lab.openTunnel(long.token);
    let keptClosed = false;
    kept.once('close', () => (keptClosed = true));
    assert.equal(await echoOnce(kept, 'long-lived hello'), 'long-lived hello');

    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let echoed = '';
    stdout.on('data', (c: Buffer) => (echoed += c.toString('utf8')));
    let told = '';
    stderr.on('data', (c: Buffer) => (told += c.toString('utf8')));
    const session = runTcpStdio({
      edgeUrl: lab.accessUrl,
      target,
      token: short.token,
      caPem: ca,
      stdin,
      stdout,
      stderr,
    });
    stdin.write('short-lived hello');
    await eventually(() => echoed === 'short-lived hello', 'bytes flow on the short session');
    assert.ok(Date.now() < short.expiresAt, 'bytes flowed before the token expired');

    const result = await within(session, short.expiresAt - Date.now() + 5000, 'the session end');
    const closedAt = Date.now();
    assert.ok(
      closedAt >= short.expiresAt - 50,
      `cut ${short.expiresAt - closedAt} ms before the expiry`,
    );
    assert.ok(
      closedAt - short.expiresAt < 1000,
      `cut ${closedAt - short.expiresAt} ms after the expiry`,
    );
    assert.equal(result.reason, 'token_expired');
    assert.equal(result.received, 'short-lived hello'.length);
    assert.match(told, /login expired/);
    assert.match(told, new RegExp(`log in again: postern login --edge ${lab.accessUrl}\\n$`));
    assert.equal(told.split('\n').length, 2, 'exactly one line');

    const ended = await eventually(
      async () =>
        (await lab.activity()).find((i) => i.kind === 'session_end' && i.user === alice.email),
      "alice's session end in the activity log",
    );
    assert.ok(ended);
    assert.equal(ended.close_reason, 'token_expired');
    assert.equal(ended.bytes_from_client, 'short-lived hello'.length);
    assert.equal(ended.bytes_to_client, 'short-lived hello'.length);

    // The long token's session is still open after the short one's expiry, and still carries.
    assert.equal(keptClosed, false);
    assert.equal(await echoOnce(kept, 'still here'), 'still here');
    assert.equal(
      (await lab.activity()).some((i) => i.kind === 'session_end' && i.user === dave.email),
      false,
      'no session end for the long-lived token',
    );
    kept.destroy();
  });

  it('refuses a new session with a token past its expiry (even within clock tolerance) with 407 and the login hint', async () => {
    const short = await lab.issueToken(alice, 1000);
    await eventually(() => Date.now() > short.expiresAt, 'the token expires', 3000);
    await assert.rejects(lab.openTunnel(short.token), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'POSTERN_ERR_LOGIN_REQUIRED');
      assert.match(err.message, /expired/);
      assert.match(err.message, new RegExp(`postern login --edge ${lab.accessUrl}`));
      return true;
    });
    const deny = (await lab.activity()).find((i) => i.user === alice.email && i.status === 407);
    assert.equal(deny?.action, 'deny');
  });

  it('postern tcp --listen logs one warning saying to log in again when the edge ends a connection at expiry', async () => {
    const short = await lab.issueToken(alice, 2500);
    const lines: { level: number; msg: string; reason?: string }[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => {
      for (const line of c.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as (typeof lines)[number]);
    });
    const forwarder = await startTcpListener({
      edgeUrl: lab.accessUrl,
      target: lab.target,
      token: short.token,
      caPem: lab.ca,
      listen: { host: '127.0.0.1', port: 0 },
      logger: pino({ level: 'info' }, sink),
    });
    try {
      const local = net.connect(forwarder.address.port, '127.0.0.1');
      local.on('error', () => undefined);
      assert.equal(await echoOnce(local, 'via the listener'), 'via the listener');
      await within(
        new Promise((resolve) => local.once('close', resolve)),
        short.expiresAt - Date.now() + 5000,
        'the local connection close',
      );
      const warning = await eventually(
        () => lines.find((l) => l.msg.includes('login expired')),
        'the login-expired warning',
      );
      assert.ok(warning);
      assert.equal(lines.filter((l) => l.msg.includes('login expired')).length, 1);
      assert.equal(warning.level, 40, 'a warning');
      assert.equal(warning.reason, 'token_expired');
      assert.match(warning.msg, new RegExp(`log in again: postern login --edge ${lab.accessUrl}$`));
    } finally {
      await forwarder.close();
    }
  });
});
