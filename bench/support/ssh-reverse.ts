// The `ssh -R` peer: a private sshd on loopback and one `ssh -R` client that forwards remote
// loopback ports back to the private apps, both with aes128-gcm, as DESIGN.md compares.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SpawnedProcess } from '../../test/e2e/support/spawned-process.js';
import type { Children } from './children.js';
import { freePort, waitForListen } from './ports.js';

const run = promisify(execFile);
const cipher = 'aes128-gcm@openssh.com';
const startTimeoutMs = 15_000;

/** A running sshd and `ssh -R` client; `ports` maps each app port to its forwarded port. */
export interface SshReverse {
  readonly sshd: SpawnedProcess;
  readonly ssh: SpawnedProcess;
  readonly ports: ReadonlyMap<number, number>;
  /** `ssh -V` output, for the notes. */
  readonly version: string;
}

/** The sshd_config of the peer: key-only root login on loopback, aes128-gcm only. */
export function sshdConfig(o: { port: number; dir: string }): string {
  return [
    `Port ${o.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(o.dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(o.dir, 'authorized_keys')}`,
    `PidFile ${join(o.dir, 'sshd.pid')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin yes',
    'AllowTcpForwarding yes',
    `Ciphers ${cipher}`,
    '',
  ].join('\n');
}

async function keygen(path: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'postern-bench', '-f', path], {
    timeout: 10_000,
  });
}

async function startSshd(
  children: Children,
  dir: string,
): Promise<{ sshd: SpawnedProcess; port: number }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await keygen(join(dir, 'host_key'));
  await keygen(join(dir, 'client_key'));
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')), {
    mode: 0o600,
  });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  await writeFile(config, sshdConfig({ port, dir }));
  // sshd refuses to start without its privilege separation directory.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const sshd = children.spawn('sshd', '/usr/sbin/sshd', ['-D', '-e', '-f', config]);
  await sshd.waitFor((l) => l.text.startsWith('Server listening on 127.0.0.1'), {
    timeoutMs: startTimeoutMs,
    what: 'sshd listening',
  });
  return { sshd, port };
}

/**
 * Starts sshd and `ssh -N -R` forwarding a fresh loopback port to each of `appPorts`, and
 * waits until every forwarded port accepts. A probe connection to a forward whose app is not
 * listening yet is harmless: ssh just fails that one channel.
 */
export async function startSshReverse(
  children: Children,
  options: { dir: string; appPorts: readonly number[] },
): Promise<SshReverse> {
  const { dir } = options;
  const { sshd, port } = await startSshd(children, dir);
  const ports = new Map<number, number>();
  const forwards: string[] = [];
  for (const app of options.appPorts) {
    const remote = await freePort();
    ports.set(app, remote);
    forwards.push('-R', `127.0.0.1:${remote}:127.0.0.1:${app}`);
  }
  const ssh = children.spawn('ssh', 'ssh', [
    '-N',
    '-F',
    '/dev/null',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'LogLevel=ERROR',
    '-c',
    cipher,
    '-i',
    join(dir, 'client_key'),
    '-p',
    String(port),
    ...forwards,
    'root@127.0.0.1',
  ]);
  for (const remote of ports.values()) {
    if (ssh.hasExited) throw new Error(`ssh -R exited\n${ssh.tail()}\n${sshd.tail()}`);
    await waitForListen(remote, { timeoutMs: startTimeoutMs, what: 'ssh -R forwarded port' });
  }
  const version = (await run('ssh', ['-V'], { timeout: 5_000 })).stderr.trim();
  return { sshd, ssh, ports, version };
}
