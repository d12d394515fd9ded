import { mustRun, runCommand } from './run-command.js';

const IP_TIMEOUT_MS = 5_000;
const PREFIX = 'pst-';

/**
 * Two network namespaces joined by a veth pair: `edge` (the edge and the clients) and `site`
 * (the private app and the connectors). The app's address exists only on the site's loopback,
 * and the edge namespace has no route to it. Nothing is configured in the root namespace: the
 * veth pair is created directly inside the two namespaces.
 */
export class SiteNetwork {
  readonly edgeNs: string;
  readonly siteNs: string;
  /** Edge end of the veth pair (10.250.n.1). */
  readonly edgeIp: string;
  /** Site end of the veth pair (10.250.n.2). */
  readonly siteIp: string;
  /** The private app's address, on the site's loopback only (10.251.n.10). */
  readonly appIp: string;
  readonly #created: string[] = [];

  private constructor(id: number) {
    const n = (id % 254) + 1;
    this.edgeNs = `${PREFIX}edge-${id}`;
    this.siteNs = `${PREFIX}site-${id}`;
    this.edgeIp = `10.250.${n}.1`;
    this.siteIp = `10.250.${n}.2`;
    this.appIp = `10.251.${n}.10`;
  }

  /** Creates both namespaces for this process id (removing leftovers of dead test runs first). */
  static async create(id = process.pid): Promise<SiteNetwork> {
    await removeStaleNamespaces(id);
    const net = new SiteNetwork(id);
    try {
      await net.#setUp(id);
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  async #setUp(id: number): Promise<void> {
    const edgeIf = `pe${id}`;
    const siteIf = `ps${id}`;
    for (const ns of [this.edgeNs, this.siteNs]) {
      await ip(['netns', 'add', ns]);
      this.#created.push(ns);
    }
    await ip([
      'link',
      'add',
      edgeIf,
      'netns',
      this.edgeNs,
      'type',
      'veth',
      'peer',
      'name',
      siteIf,
      'netns',
      this.siteNs,
    ]);
    await ip(['-n', this.edgeNs, 'addr', 'add', `${this.edgeIp}/30`, 'dev', edgeIf]);
    await ip(['-n', this.siteNs, 'addr', 'add', `${this.siteIp}/30`, 'dev', siteIf]);
    await ip(['-n', this.siteNs, 'addr', 'add', `${this.appIp}/32`, 'dev', 'lo']);
    for (const [ns, dev] of [
      [this.edgeNs, edgeIf],
      [this.siteNs, siteIf],
    ] as const) {
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', ns, 'link', 'set', dev, 'up']);
    }
  }

  /** Deletes the namespaces (and with them the veth pair); returns what could not be removed. */
  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    for (const ns of this.#created.splice(0)) {
      const result = await runCommand('ip', ['netns', 'del', ns], { timeoutMs: IP_TIMEOUT_MS });
      if (result.code !== 0) problems.push(`ip netns del ${ns}: ${result.stderr.trim()}`);
    }
    return problems;
  }
}

/** Fails with a clear message when the test cannot create namespaces (CI runs it as root). */
export async function requireNamespaceSupport(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the network-namespace end-to-end test must run as root (it creates namespaces with `ip netns`); CI runs it as root — run it with sudo',
    );
  }
  const result = await runCommand('ip', ['-V'], { timeoutMs: IP_TIMEOUT_MS });
  if (result.code !== 0) {
    throw new Error(
      `the end-to-end test needs the \`ip\` command (iproute2): ${result.stderr.trim()}`,
    );
  }
}

function ip(args: readonly string[]): Promise<string> {
  return mustRun('ip', args, { timeoutMs: IP_TIMEOUT_MS });
}

/**
 * Removes namespaces named by this test whose creating process is gone (a run that was killed),
 * and any with our own id (a leftover of an earlier process with the same pid).
 */
async function removeStaleNamespaces(ownId: number): Promise<void> {
  const listed = await runCommand('ip', ['netns', 'list'], { timeoutMs: IP_TIMEOUT_MS });
  for (const line of listed.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = /^pst-(?:edge|site)-(\d+)$/.exec(name);
    const id = Number(match?.[1]);
    if (!match || (id !== ownId && isAlive(id))) continue;
    // Processes of a killed run would keep the namespace (and its ports) alive after `del`.
    const pids = await runCommand('ip', ['netns', 'pids', name], { timeoutMs: IP_TIMEOUT_MS });
    for (const pid of pids.stdout.split('\n').filter(Boolean)) killQuietly(Number(pid));
    await runCommand('ip', ['netns', 'del', name], { timeoutMs: IP_TIMEOUT_MS });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killQuietly(pid: number): void {
  try {
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
