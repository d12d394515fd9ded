// The setup of the login tests: test OIDC providers (oidc-provider) on 127.0.0.1, in-process
// edges whose https virtual server requires a login at the first of them, headless Chromium, and
// on request the identity app behind a real connector in a network namespace. Two or more edges
// form an HA set, as in production: one PostgreSQL store and one token signing key.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { UserTokenAuthority } from '../../../src/control/index.js';
import type { EdgeOptions } from '../../../src/edge/index.js';
import { openPostgresStore } from '../../../src/store/index.js';
import { freePort, startTestEdge, tempDir, type TestEdge } from '../../harness/harness.js';
import { launchChromium } from '../../support/browser.js';
import { startOidcIssuer, type OidcIssuer, type TestAccount } from '../../support/oidc-issuer.js';
import { startPostgres, type PostgresServer } from '../../support/postgres-server.js';
import { createSelfSignedCert } from '../../support/tls-cert.js';
import { OidcSiteNetwork } from './oidc-lab.js';
import { CLI } from './site-lab.js';
import { SpawnedProcess } from './spawned-process.js';

const IDENTITY_APP = fileURLToPath(new URL('./identity-app.js', import.meta.url));
/** The identity app's port, on the namespace's loopback (and the pool's node on every edge). */
const APP_PORT = 8080;
const START_TIMEOUT_MS = 20_000;

/** What to start; the names given here are the names the lab's parts are asked for by. */
export interface LoginLabOptions {
  /** Prefix of the temporary directory, the connector group and the edges' server ids. */
  readonly name: string;
  /** The identity providers and their accounts; the first one guards the virtual server. */
  readonly providers: Readonly<Record<string, Readonly<Record<string, TestAccount>>>>;
  /** The edges, each with options for startTestEdge beyond what the lab sets. */
  readonly edges: Readonly<Record<string, Partial<EdgeOptions>>>;
  /** The name of the https virtual server (also of its pool and certificate); default 'web'. */
  readonly virtualServer?: string;
  /** The access_policies of the config document; default none. */
  readonly accessPolicies?: readonly Record<string, unknown>[];
  /** Runs identity-app.ts behind a connector of the first edge, in a network namespace (root). */
  readonly privateApp?: boolean;
}

/** The running parts of one test file; `close` stops what `start` started, also after a failure. */
export class LoginLab {
  readonly #options: LoginLabOptions;
  readonly #issuers = new Map<string, OidcIssuer>();
  readonly #edges = new Map<string, TestEdge>();
  readonly #bases = new Map<string, string>();
  readonly #processes: SpawnedProcess[] = [];
  #dir = '';
  #net: OidcSiteNetwork | undefined;
  #pg: PostgresServer | undefined;
  #browser: Browser | undefined;

  private constructor(options: LoginLabOptions) {
    this.#options = options;
  }

  /** Starts the providers, the edges, the private app when asked for, and Chromium. */
  static async start(options: LoginLabOptions): Promise<LoginLab> {
    const lab = new LoginLab(options);
    try {
      await lab.#start();
    } catch (err) {
      await lab.close();
      throw err;
    }
    return lab;
  }

  /** The lab's temporary directory, removed by `close`. */
  get dir(): string {
    return this.#dir;
  }

  /** The virtual server's self-signed certificate, for `postern login --ca`. */
  get caFile(): string {
    return join(this.#dir, 'ca.pem');
  }

  /** Headless Chromium, shared by the tests of the file; each test opens its own context. */
  get browser(): Browser {
    return required(this.#browser, 'the browser');
  }

  /** The provider given as `name` in `providers`. */
  issuer(name: string): OidcIssuer {
    return required(this.#issuers.get(name), `the identity provider ${name}`);
  }

  /** The edge given as `name` in `edges`. */
  edge(name: string): TestEdge {
    return required(this.#edges.get(name), `the edge ${name}`);
  }

  /** The origin of the virtual server on edge `name` (https://localhost:port). */
  base(name: string): string {
    return required(this.#bases.get(name), `the edge ${name}`);
  }

  /** A fresh browser profile that accepts the virtual server's self-signed certificate. */
  newContext(): Promise<BrowserContext> {
    return this.browser.newContext({ ignoreHTTPSErrors: true });
  }

  /** Stops everything in the reverse order of the start and removes the directory. */
  async close(): Promise<void> {
    await this.#browser?.close();
    for (const spawned of [...this.#processes].reverse()) await spawned.stop('SIGTERM', 5_000);
    for (const edge of [...this.#edges.values()].reverse()) await edge.stop();
    for (const issuer of this.#issuers.values()) await issuer.close();
    await this.#pg?.stop();
    await this.#net?.destroy();
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }

  async #start(): Promise<void> {
    // First: without root this fails at once, before anything else was started.
    if (this.#options.privateApp) this.#net = await OidcSiteNetwork.create();
    this.#dir = await tempDir(`postern-${this.#options.name}-`);
    // The providers are told every edge's callback URL, so the ports are chosen first.
    const ports = new Map<string, number>();
    for (const edge of Object.keys(this.#options.edges)) {
      const port = await freePort();
      ports.set(edge, port);
      this.#bases.set(edge, `https://localhost:${port}`);
    }
    await this.#startIssuers();
    const cert = await createSelfSignedCert();
    // `postern login` exchanges its code over TLS itself: it must trust the virtual server.
    await writeFile(this.caFile, cert.cert);
    await this.#startEdges(ports, cert);
    if (this.#net) await this.#startPrivateApp(this.#net);
    this.#browser = await launchChromium();
  }

  async #startIssuers(): Promise<void> {
    const bases = [...this.#bases.values()];
    for (const [idp, accounts] of Object.entries(this.#options.providers)) {
      const issuer = await startOidcIssuer({
        redirectUris: bases.map((base) => `${base}/.postern/auth/callback`),
        postLogoutRedirectUris: bases.map((base) => `${base}/.postern/auth/logged-out`),
        accounts,
      });
      this.#issuers.set(idp, issuer);
    }
  }

  async #startEdges(ports: ReadonlyMap<string, number>, cert: { cert: string; key: string }) {
    const { name, edges } = this.#options;
    const haSet = ports.size > 1;
    const shared = haSet ? await this.#haSet() : {};
    for (const [edge, port] of ports) {
      const started = await startTestEdge({
        dataDir: join(this.#dir, `edge-${edge}`),
        configDir: await this.#writeConfig(edge, port, cert),
        ...(this.#net ? { tunnelListen: `${this.#net.rootIp}:0` } : {}),
        ...shared,
        ...(haSet ? { serverId: `${name}-${edge}` } : {}),
        ...edges[edge],
      });
      this.#edges.set(edge, started);
    }
  }

  /** The store and the signing key every edge of an HA set shares. */
  async #haSet(): Promise<Partial<EdgeOptions>> {
    this.#pg = await startPostgres();
    const connectionString = await this.#pg.createDatabase();
    const tokenSigningKey = join(this.#dir, 'token-signing-key.pem');
    await writeFile(tokenSigningKey, UserTokenAuthority.generatePem(), { mode: 0o600 });
    return { openStore: () => openPostgresStore({ connectionString }), tokenSigningKey };
  }

  /** Writes the config dir of `edge`: the providers' client secrets and the access document. */
  async #writeConfig(edge: string, port: number, cert: { cert: string; key: string }) {
    const configDir = join(this.#dir, `config-${edge}`);
    await mkdir(join(configDir, 'secrets'), { recursive: true });
    for (const [idp, issuer] of this.#issuers) {
      await writeFile(join(configDir, 'secrets', idp), issuer.clientSecret);
    }
    await writeFile(
      join(configDir, 'access.json'),
      JSON.stringify(this.#accessDocument(port, cert)),
    );
    return configDir;
  }

  /** One https virtual server on `port` that requires a login at the first provider. */
  #accessDocument(port: number, cert: { cert: string; key: string }) {
    const vs = this.#virtualServer;
    const providers = [...this.#issuers].map(([idp, issuer]) => ({
      name: idp,
      issuer: issuer.issuer,
      client_id: issuer.clientId,
      client_secret: { valueFrom: { fileRef: { name: `secrets/${idp}` } } },
      scopes: ['openid', 'email', 'profile', 'groups'],
      post_logout_redirect: true,
    }));
    return {
      version: 1,
      connector_groups: [{ name: this.#group }],
      identity_providers: providers,
      certificates: [{ name: `${vs}-cert`, cert: cert.cert, key: cert.key }],
      pools: [{ name: vs, via: this.#group, nodes: [{ address: `127.0.0.1:${APP_PORT}` }] }],
      virtual_servers: [
        {
          name: vs,
          protocol: 'https',
          listen: `127.0.0.1:${port}`,
          pool: vs,
          tls: { certificates: [`${vs}-cert`] },
          access: { identity_provider: providers[0]?.name },
        },
      ],
      ...(this.#options.accessPolicies ? { access_policies: this.#options.accessPolicies } : {}),
    };
  }

  get #virtualServer(): string {
    return this.#options.virtualServer ?? 'web';
  }

  get #group(): string {
    return `${this.#options.name}-site`;
  }

  /**
   * The identity app in the namespace, checking assertions with the first edge's published JWK
   * set, and a connector there that enrolls with that edge.
   */
  async #startPrivateApp(net: OidcSiteNetwork): Promise<void> {
    const edge = required([...this.#edges.values()][0], 'an edge');
    const jwks = join(this.#dir, 'jwks.json');
    await writeFile(jwks, await (await fetch(`${edge.adminUrl}/api/v1/jwks.json`)).text());
    // The assertions' audience is the virtual server; their issuer the edge's default one.
    const args = [IDENTITY_APP, String(APP_PORT), jwks, this.#virtualServer, 'postern-edge'];
    const app = this.#spawnIn(net, 'app', args);
    await app.waitForLog('app listening', { timeoutMs: START_TIMEOUT_MS });
    const key = await edge.createKey(this.#group);
    const connector = this.#spawnIn(net, 'connector', [
      ...[CLI, 'connector', '--state-dir', join(this.#dir, 'connector')],
      ...['--provision-key', key.value],
    ]);
    await connector.waitForLog('tunnel up', { timeoutMs: START_TIMEOUT_MS });
  }

  #spawnIn(net: OidcSiteNetwork, name: string, args: readonly string[]): SpawnedProcess {
    const spawned = new SpawnedProcess(name, 'ip', [
      ...['netns', 'exec', net.ns, process.execPath],
      ...args,
    ]);
    this.#processes.push(spawned);
    return spawned;
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} was not started`);
  return value;
}
