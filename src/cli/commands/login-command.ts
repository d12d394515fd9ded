import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { deviceLogin, login, type EdgeCredential } from '../../client/index.js';
import { secondsFlag } from './ha-flags.js';

/**
 * `--timeout` in seconds: a second to a day. Bounded because a timer set beyond about 24 days
 * fires at once in Node, which would end the login before it began.
 */
const TIMEOUT_RANGE = { min: 1, max: 86_400 } as const;

interface LoginFlags {
  edge: string;
  browser: boolean;
  device?: boolean;
  ca?: string;
  timeout: string;
}

/** Opens `url` with the desktop's opener; a failure only means the user opens it by hand. */
function openInBrowser(url: string): void {
  const command =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // The URL is printed as well.
  }
}

/** `postern login --edge URL`: logs in at the edge's identity provider and stores a user token. */
export function loginCommand(program: Command): void {
  program
    .command('login')
    .description('log in at the edge (through its identity provider) for `postern tcp`')
    .requiredOption('--edge <url>', "the edge's access URL, e.g. https://edge.example.com:8444")
    .option(
      '--no-browser',
      'only print the login URL (open it in a browser on this machine; from another machine use --device)',
    )
    .option(
      '--device',
      'log in from a machine without a browser: approve a code on the edge page in any browser',
    )
    .option(
      '--ca <file>',
      "PEM of the CA of the edge's certificate (needed unless this machine trusts it), stored for `postern tcp`",
    )
    .option(
      '--timeout <seconds>',
      'give up when the browser login is not finished in time, 1 to 86400 (--device waits as long as its code is valid instead)',
      '300',
    )
    .action(async (o: LoginFlags) => {
      // Checked also with --device, which does not use it: a bad value is a mistake either way.
      const timeoutMs = secondsFlag(o.timeout, '--timeout', TIMEOUT_RANGE);
      const caPem = o.ca === undefined ? undefined : await readFile(o.ca, 'utf8');
      const credential = o.device
        ? await loginWithDevice(o.edge, caPem)
        : await login({
            edgeUrl: o.edge,
            caPem,
            timeoutMs,
            onUrl: (url) =>
              process.stderr.write(`Open this URL in a browser to log in:\n\n  ${url}\n\n`),
            ...(o.browser ? { openBrowser: openInBrowser } : {}),
          });
      process.stderr.write(
        `Logged in to ${o.edge}${credential.user ? ` as ${credential.user}` : ''}; ` +
          `the token is valid until ${new Date(credential.expiresAt).toISOString()}.\n`,
      );
    });
}

/** `--device`: prints the page and the code, then waits (up to the edge's expiry) for approval. */
function loginWithDevice(edge: string, caPem: string | undefined): Promise<EdgeCredential> {
  return deviceLogin({
    edgeUrl: edge,
    caPem,
    onPrompt: (p) =>
      process.stderr.write(
        `To log in, open this page in a browser on any device:\n\n  ${p.verificationUri}\n\n` +
          `and check that it shows the code ${p.userCode} (or enter it there). Direct link:\n\n` +
          `  ${p.verificationUriComplete}\n\n` +
          `Waiting for approval (the code expires in ${Math.round(p.expiresInSeconds / 60)} min)...\n`,
      ),
  });
}
