// `postern login` as the login tests run it: the built CLI in a child process with a config dir
// of its own, trusting the virtual server's certificate, and the credential it stores there.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI } from './site-lab.js';
import { SpawnedProcess } from './spawned-process.js';

/** How long the CLI may take to print its link. */
const LINK_TIMEOUT_MS = 30_000;

/** Where one `postern login` run keeps its credentials and which CA it trusts. */
export interface LoginRunOptions {
  /** POSTERN_CLI_CONFIG_DIR of the run. */
  readonly configDir: string;
  /** The virtual server's certificate (`--ca`). */
  readonly ca: string;
}

/** A credential as `postern login` stores it in credentials.json. */
export interface StoredCredential {
  readonly token: string;
  readonly expiresAt: number;
  readonly user?: string;
  readonly caPem?: string;
}

/** Spawns `postern login --edge <edge> <args> --ca …` without waiting for anything. */
export function spawnLogin(
  edge: string,
  args: readonly string[],
  options: LoginRunOptions & { readonly name: string },
): SpawnedProcess {
  return new SpawnedProcess(
    options.name,
    process.execPath,
    [CLI, 'login', '--edge', edge, ...args, '--ca', options.ca],
    { POSTERN_CLI_CONFIG_DIR: options.configDir },
  );
}

/** Runs `postern login --no-browser`; resolves once it printed the login URL. */
export async function startBrowserLogin(
  edge: string,
  options: LoginRunOptions,
): Promise<{ cli: SpawnedProcess; url: string }> {
  const args = ['--no-browser', '--timeout', '120'];
  const cli = spawnLogin(edge, args, { ...options, name: 'login' });
  const line = await cli.waitFor((l) => l.text.includes('/.postern/cli/login?'), {
    timeoutMs: LINK_TIMEOUT_MS,
    what: 'the login URL',
  });
  return { cli, url: line.text.trim() };
}

/** Runs `postern login --device`; resolves once it printed the verification link. */
export async function startDeviceLogin(
  edge: string,
  options: LoginRunOptions,
): Promise<{ cli: SpawnedProcess; link: URL }> {
  const cli = spawnLogin(edge, ['--device'], { ...options, name: 'device-login' });
  const line = await cli.waitFor((l) => l.text.includes('/.postern/cli/device?user_code='), {
    timeoutMs: LINK_TIMEOUT_MS,
    what: 'the verification link',
  });
  return { cli, link: new URL(line.text.trim()) };
}

/** Everything the run printed, for failure messages and checks of the output. */
export function outputOf(cli: SpawnedProcess): string {
  return cli.lines.map((l) => l.text).join('\n');
}

/** The credential stored for `edge` in `configDir`; fails the test when there is none. */
export async function storedCredential(configDir: string, edge: string): Promise<StoredCredential> {
  const stored = JSON.parse(await readFile(join(configDir, 'credentials.json'), 'utf8')) as {
    edges: Record<string, StoredCredential>;
  };
  const origin = new URL(edge).origin;
  const credential = stored.edges[origin];
  assert.ok(credential, `a credential for ${origin} was stored`);
  return credential;
}
