import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { FakeClock, isPosternError } from '../core/index.js';
import { pollDeviceToken, type DeviceToken, type PollAnswer } from './device-poll.js';

const EDGE = 'https://edge.example:8444';
const pending: PollAnswer = { status: 400, body: { error: 'authorization_pending' } };
const slowDown: PollAnswer = { status: 400, body: { error: 'slow_down', interval: 10 } };
const granted: PollAnswer = {
  status: 200,
  body: { access_token: 'tok', token_type: 'Bearer', expires_at: 123, user: 'alice@example.com' },
};

/**
 * Runs the poll loop against scripted answers (the last one repeats), moving the fake clock a
 * second at a time; returns the outcome and the clock time of every poll.
 */
async function run(
  answers: readonly (PollAnswer | Error)[],
  options: { expiresInSeconds?: number; maxSteps?: number } = {},
): Promise<{ result?: DeviceToken; error?: unknown; pollsAt: number[]; t0: number }> {
  const clock = new FakeClock();
  const t0 = clock.now();
  const pollsAt: number[] = [];
  const outcome: { result?: DeviceToken; error?: unknown; done: boolean } = { done: false };
  pollDeviceToken({
    edgeUrl: EDGE,
    clock,
    intervalSeconds: 5,
    expiresInSeconds: options.expiresInSeconds ?? 600,
    poll: () => {
      const answer = answers[Math.min(pollsAt.length, answers.length - 1)];
      pollsAt.push(clock.now() - t0);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer!);
    },
  }).then(
    (result) => Object.assign(outcome, { result, done: true }),
    (error: unknown) => Object.assign(outcome, { error, done: true }),
  );
  for (let step = 0; step < (options.maxSteps ?? 2000) && !outcome.done; step++) {
    await turn();
    clock.advance(1000);
  }
  await turn();
  assert.ok(outcome.done, 'the loop ended within the steps');
  return { ...outcome, pollsAt, t0 };
}

function codeOf(err: unknown): string {
  assert.ok(isPosternError(err), `a Postern error, got ${String(err)}`);
  return err.code;
}

test('polls every interval while pending and returns the token once approved', async () => {
  const { result, pollsAt } = await run([pending, pending, granted]);
  assert.deepEqual(result, { token: 'tok', expiresAt: 123, user: 'alice@example.com' });
  assert.deepEqual(pollsAt, [5000, 10_000, 15_000]);
});

test('slow_down adds 5 s to the interval for every later poll', async () => {
  const { pollsAt } = await run([pending, slowDown, pending, slowDown, granted]);
  assert.deepEqual(pollsAt, [5000, 10_000, 20_000, 30_000, 45_000]);
});

test('access_denied ends the login with POSTERN_ERR_DEVICE_LOGIN_DENIED', async () => {
  const { error, pollsAt } = await run([
    pending,
    { status: 400, body: { error: 'access_denied' } },
  ]);
  assert.equal(codeOf(error), 'POSTERN_ERR_DEVICE_LOGIN_DENIED');
  assert.equal(pollsAt.length, 2);
});

test('expired_token, or reaching expires_in, ends with POSTERN_ERR_DEVICE_LOGIN_EXPIRED', async () => {
  const told = await run([{ status: 400, body: { error: 'expired_token' } }]);
  assert.equal(codeOf(told.error), 'POSTERN_ERR_DEVICE_LOGIN_EXPIRED');
  const ran = await run([pending], { expiresInSeconds: 30 });
  assert.equal(codeOf(ran.error), 'POSTERN_ERR_DEVICE_LOGIN_EXPIRED');
  assert.deepEqual(ran.pollsAt, [5000, 10_000, 15_000, 20_000, 25_000], 'never polls past expiry');
  assert.match((ran.error as Error).message, /--device/);
});

test('network blips are retried; five in a row or an unknown answer fail the login', async () => {
  const blip = new Error('ECONNRESET');
  const recovered = await run([blip, blip, granted]);
  assert.equal(recovered.result?.token, 'tok');
  const down = await run([blip]);
  assert.equal(codeOf(down.error), 'POSTERN_ERR_DEVICE_LOGIN_FAILED');
  assert.equal(down.pollsAt.length, 5);
  const odd = await run([
    { status: 400, body: { error: 'invalid_grant', error_description: 'used' } },
  ]);
  assert.equal(codeOf(odd.error), 'POSTERN_ERR_DEVICE_LOGIN_FAILED');
  assert.match((odd.error as Error).message, /invalid_grant \(used\)/);
});

test('an abort stops the wait at once', async () => {
  const clock = new FakeClock();
  const controller = new AbortController();
  const polling = pollDeviceToken({
    edgeUrl: EDGE,
    clock,
    intervalSeconds: 5,
    expiresInSeconds: 600,
    poll: () => Promise.resolve(pending),
    signal: controller.signal,
  });
  controller.abort();
  await assert.rejects(polling, (err) => codeOf(err) === 'POSTERN_ERR_LOGIN_TIMEOUT');
  assert.equal(clock.pending, 0, 'the timer was cleared');
});
