// Keeps the README quickstart honest: `postern demo --check` brings up an edge, a connector and
// the sample app with the built CLI, answers one request through the tunnel and exits 0.
import assert from 'node:assert/strict';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runCommand } from './support/run-command.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test(
  'postern demo --check answers through the tunnel and exits 0',
  { timeout: 90_000 },
  async () => {
    const port = await freePort();
    const accessPort = await freePort();
    const httpsPort = await freePort();
    const result = await runCommand(
      process.execPath,
      [
        CLI,
        'demo',
        '--check',
        '--listen',
        `127.0.0.1:${port}`,
        '--access-listen',
        `127.0.0.1:${accessPort}`,
        '--https-listen',
        `127.0.0.1:${httpsPort}`,
      ],
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(
      result.code,
      0,
      `demo exited with ${result.code}:\n${result.stderr}\n${result.stdout}`,
    );
    assert.match(result.stdout, /Postern demo is up:/);
    assert.match(result.stdout, new RegExp(`curl http://127\\.0\\.0\\.1:${port}/`));
    assert.ok(
      result.stdout.includes('answer through the tunnel: hello from the private sample app'),
      `unexpected demo output:\n${result.stdout}`,
    );
    assert.ok(
      result.stdout.includes(
        'answer through the access proxy as demo@example.com: hello from the private sample app (you asked for GET /via-access-proxy)',
      ),
      `the access proxy path failed:\n${result.stdout}`,
    );
    assert.match(
      result.stdout,
      new RegExp(`postern tcp 127\\.0\\.0\\.1:\\d+ --edge https://127\\.0\\.0\\.1:${accessPort}`),
    );
    // The configuration document's https virtual server: verified TLS with the printed CA, both
    // pool nodes in turn (round robin through the tunnel), the response rule's header.
    assert.match(
      result.stdout,
      new RegExp(`curl --cacert \\S+ https://127\\.0\\.0\\.1:${httpsPort}/`),
    );
    const answers = result.stdout
      .split('\n')
      .filter((l) => l.startsWith('answer from the https virtual server: '));
    assert.deepEqual(
      answers.map((l) => /web app (\w)/.exec(l)?.[1]).sort(),
      ['a', 'b'],
      `both web apps should answer in turn:\n${result.stdout}`,
    );
    for (const line of answers)
      assert.match(line, /: 200 hello from private web app \w .*\[X-Served-By: postern-demo\]$/);
  },
);
