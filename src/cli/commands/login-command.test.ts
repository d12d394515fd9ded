import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runCommand } from '../../../test/e2e/support/run-command.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));

/** An edge address nothing listens on: a login that got past its flags would fail to reach it. */
const NO_EDGE = 'https://127.0.0.1:1';

test('login --timeout that is not 1 to 86400 seconds is refused naming the flag, before any login', async () => {
  for (const args of [
    ['--timeout', 'abc'],
    ['--timeout', '30s'],
    ['--timeout', '0'],
    ['--device', '--timeout', 'abc'],
  ]) {
    const run = await runCommand(process.execPath, [CLI, 'login', '--edge', NO_EDGE, ...args], {
      timeoutMs: 20_000,
    });
    const bad = args.at(-1) ?? '';
    assert.equal(run.code, 1, run.stderr);
    assert.equal(
      run.stderr,
      `postern: Invalid --timeout: "${bad}" is not a number of seconds from 1 to 86400 (POSTERN_ERR_INVALID_ARGUMENT)\n`,
      args.join(' '),
    );
  }
});

test('login --help says that --timeout is for the browser login and --device waits for its code', async () => {
  const run = await runCommand(process.execPath, [CLI, 'login', '--help'], { timeoutMs: 20_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout.replace(/\s+/g, ' '),
    /--timeout <seconds> give up when the browser login/,
  );
  assert.match(run.stdout.replace(/\s+/g, ' '), /--device waits as long as its code is valid/);
});
