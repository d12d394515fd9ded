// The network of the browser access test: one namespace (`oidc-<pid>`) holding the private app
// and the connector, joined to the root namespace by a veth pair so the connector can dial the
// in-process edge. The app listens on the namespace's loopback only: nothing outside reaches it.
import { mustRun, runCommand } from './run-command.js';

const IP_TIMEOUT_MS = 5_000;

const ip = (args: readonly string[]): Promise<string> =>
  mustRun('ip', args, { timeoutMs: IP_TIMEOUT_MS });

/** The namespace and the veth pair of one test run. */
export class OidcSiteNetwork {
  readonly ns: string;
  /** Root-namespace end of the veth pair: the edge's tunnel listens here. */
  readonly rootIp: string;
  readonly siteIp: string;
  readonly #rootIf: string;

  private constructor(id: number) {
    const n = (id % 250) + 1;
    this.ns = `oidc-${id}`;
    this.#rootIf = `oidcr${id % 100_000}`;
    this.rootIp = `10.254.${n}.1`;
    this.siteIp = `10.254.${n}.2`;
  }

  /** Creates the namespace and the veth pair; needs root. */
  static async create(id = process.pid): Promise<OidcSiteNetwork> {
    if (process.getuid?.() !== 0) {
      throw new Error('the browser access e2e test needs root (network namespaces)');
    }
    const net = new OidcSiteNetwork(id);
    await net.destroy();
    try {
      const siteIf = `oidcs${id % 100_000}`;
      await ip(['netns', 'add', net.ns]);
      await ip([
        'link',
        'add',
        net.#rootIf,
        'type',
        'veth',
        'peer',
        'name',
        siteIf,
        'netns',
        net.ns,
      ]);
      await ip(['addr', 'add', `${net.rootIp}/30`, 'dev', net.#rootIf]);
      await ip(['link', 'set', net.#rootIf, 'up']);
      await ip(['-n', net.ns, 'addr', 'add', `${net.siteIp}/30`, 'dev', siteIf]);
      await ip(['-n', net.ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', net.ns, 'link', 'set', siteIf, 'up']);
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  /** Removes the namespace (and with it the veth pair); safe to call twice. */
  async destroy(): Promise<void> {
    await runCommand('ip', ['link', 'del', this.#rootIf], { timeoutMs: IP_TIMEOUT_MS });
    await runCommand('ip', ['netns', 'del', this.ns], { timeoutMs: IP_TIMEOUT_MS });
  }
}
