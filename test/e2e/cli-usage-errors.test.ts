// Mistakes on the command line, with the built CLI: each is exactly one `postern: …` line on
// stderr that says what was wrong and names the mistyped command's --help once, exit code 2
// (a command that ran and failed exits 1).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runCommand } from './support/run-command.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const CASES: readonly { args: string[]; what: RegExp; help: string }[] = [
  { args: ['edge', '--bogus'], what: /unknown option '--bogus'/, help: 'postern edge --help' },
  {
    args: ['keys', 'create'],
    what: /required option '--group <name>' not specified/,
    help: 'postern keys create --help',
  },
  { args: ['bogus'], what: /unknown command 'bogus'/, help: 'postern --help' },
];

for (const c of CASES) {
  test(`postern ${c.args.join(' ')}: one postern: line naming --help, exit code 2`, async () => {
    const result = await runCommand(process.execPath, [CLI, ...c.args], {
      timeoutMs: 20_000,
      env: { POSTERN_ADMIN_URL: '', POSTERN_ADMIN_TOKEN: '', POSTERN_DATA_DIR: '' },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    const lines = result.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `exactly one line:\n${result.stderr}`);
    const line = lines[0] ?? '';
    assert.match(line, /^postern: /);
    assert.match(line, c.what);
    assert.ok(line.includes(`\`${c.help}\``), `names ${c.help}: ${line}`);
    assert.equal(line.split('--help').length - 1, 1, `--help once: ${line}`);
  });
}

test('a command that runs and fails still exits 1, not the usage code', async () => {
  const result = await runCommand(
    process.execPath,
    [CLI, 'keys', 'list', '--admin', 'http://127.0.0.1:1', '--token', 'not-used'],
    { timeoutMs: 20_000, env: { POSTERN_ADMIN_URL: '', POSTERN_ADMIN_TOKEN: '' } },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^postern: .*POSTERN_ERR_EDGE_UNREACHABLE/m);
});
