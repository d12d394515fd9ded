import http from 'node:http';
import type net from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { Connector } from '../../connector/index.js';
import { startEdge, type Edge } from '../../edge/index.js';
import { openEmbeddedStore } from '../../store/index.js';
import { AdminClient } from '../admin-client.js';
import { createLogger, untilSignal } from '../logger.js';
import { packageVersion } from '../version.js';
import { DEMO_USER, checkDemoAccess, setUpDemoAccess, type DemoAccess } from './demo-access.js';
import { DemoResources } from './demo-resources.js';
import { checkDemoTraffic, writeDemoTrafficConfig, type DemoTraffic } from './demo-traffic.js';

/** `postern demo`: an edge, a connector and a private sample app, all on this machine. */
export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring up an edge, a connector and a private sample app, and show how to reach it')
    .option('--listen <host:port>', 'where the demo virtual server listens', '127.0.0.1:7000')
    .option('--access-listen <host:port>', 'where the access proxy listens', '127.0.0.1:7443')
    .option(
      '--https-listen <host:port>',
      'where the https virtual server of the configuration document listens',
      '127.0.0.1:7002',
    )
    .option('--check', 'make one request through each path, print the answers and exit')
    .action(async (o: DemoOptions) => {
      const logger = createLogger(process.env.POSTERN_LOG_LEVEL ?? 'warn');
      const resources = new DemoResources({
        onError: (err) => logger.warn({ err }, 'could not close part of the demo'),
      });
      // Listened for from the start: Ctrl-C during start-up stops it at the next step and
      // closes what was started, too.
      const abort = new AbortController();
      const stopped = untilSignal().then(() => abort.abort());
      try {
        const demo = await startDemo(o, { resources, logger, signal: abort.signal });
        printDemo(o, demo);
        if (o.check) await checkDemo(o, demo);
        else {
          process.stdout.write('Press Ctrl-C to stop.\n');
          await stopped;
        }
      } catch (err) {
        // A signal during start-up is a stop, not a failure.
        if (!abort.signal.aborted) throw err;
      } finally {
        await resources.close();
      }
    });
}

interface DemoOptions {
  listen: string;
  accessListen: string;
  httpsListen: string;
  check?: boolean;
}

/** What a running demo consists of. */
interface Demo {
  readonly dir: string;
  readonly edge: Edge;
  readonly connector: Connector;
  readonly app: SampleApp;
  readonly access: DemoAccess;
  readonly traffic: DemoTraffic;
}

/** What the start-up steps share. */
interface StartContext {
  readonly resources: DemoResources;
  readonly logger: Logger;
  /** Aborted by SIGINT/SIGTERM: start-up stops at the next step. */
  readonly signal: AbortSignal;
}

/**
 * Starts every part, registering each with `resources` as soon as it exists, and checks the
 * signal between steps so that nothing is started (or written into the directory) after a stop.
 */
async function startDemo(o: DemoOptions, context: StartContext): Promise<Demo> {
  const { resources, logger, signal } = context;
  // It holds the demo's CA key, signing key and admin token: removed whatever happens.
  const dir = await mkdtemp(join(tmpdir(), 'postern-demo-'));
  resources.add(() => rm(dir, { recursive: true, force: true }));
  signal.throwIfAborted();
  const app = await startSampleApp('the private sample app', resources);
  const webApps = [
    await startSampleApp('private web app a', resources),
    await startSampleApp('private web app b', resources),
  ];
  // The connector group comes from the document, as the traffic manager's objects do.
  const traffic = await writeDemoTrafficConfig(dir, {
    listen: o.httpsListen,
    group: 'demo-site',
    apps: webApps.map((w) => w.address),
  });
  signal.throwIfAborted();
  const edge = await startEdge({
    dataDir: join(dir, 'edge'),
    openStore: () => openEmbeddedStore({ dataDir: join(dir, 'edge') }),
    tunnelListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    access: { listen: o.accessListen },
    configDir: traffic.configDir,
    logger,
  });
  resources.add(() => edge.close());
  signal.throwIfAborted();
  const admin = new AdminClient(edge.adminUrl, edge.adminToken);
  const connector = await startDemoConnector(admin, { dir, app, listen: o.listen, ...context });
  signal.throwIfAborted();
  const access = await setUpDemoAccess(edge, admin, {
    dir,
    appAddress: app.address,
    group: 'demo-site',
  });
  return { dir, edge, connector, app, access, traffic };
}

/** Publishes the sample app as a tcp virtual server on `listen` and enrolls a connector for it. */
async function startDemoConnector(
  admin: AdminClient,
  o: {
    readonly dir: string;
    readonly app: SampleApp;
    readonly listen: string;
  } & StartContext,
): Promise<Connector> {
  const { app, resources, logger, signal } = o;
  const key = await admin.request<{ value: string }>('POST', '/provisioning-keys', {
    group: 'demo-site',
    max_usage: 5,
  });
  await admin.request('POST', '/pools', {
    name: 'sample-app',
    via: 'demo-site',
    nodes: [{ address: app.address }],
  });
  await admin.request('POST', '/virtual-servers', {
    name: 'sample-app',
    protocol: 'tcp',
    listen: o.listen,
    pool: 'sample-app',
  });
  const connector = new Connector({
    stateDir: join(o.dir, 'connector'),
    provisionKey: key.value,
    version: packageVersion(),
    logger,
  });
  resources.add(() => connector.stop({ drainTimeoutMs: 2000 }));
  signal.throwIfAborted();
  await connector.start();
  await Promise.race([connector.waitConnected(), aborted(signal)]);
  return connector;
}

function printDemo(o: DemoOptions, demo: Demo): void {
  const { edge, connector, app, access, traffic } = demo;
  const tcp = `POSTERN_CLI_CONFIG_DIR=${access.configDir} npx postern tcp ${access.target} --edge ${edge.accessUrl} --listen 127.0.0.1:7001`;
  const lines = [
    'Postern demo is up:',
    `  edge        tunnel ${edge.advertiseAddress}, admin ${edge.adminUrl} (token ${join(demo.dir, 'edge', 'admin-token')})`,
    `  connector   ${connector.identity?.connectorId} in group demo-site, tunnel up`,
    `  private app ${app.address} (the virtual server reaches it through the connector's tunnel)`,
    `  console     ${edge.adminUrl}/console/ (sign in with the admin token above)`,
    `  try:        curl http://${o.listen}/`,
    '',
    `Zero-trust access: application sample-app, allowed for ${DEMO_USER} (a demo token is stored`,
    `for them, as \`postern login\` would after signing in), through the access proxy ${edge.accessUrl}:`,
    `  ${tcp}`,
    '  curl http://127.0.0.1:7001/',
    '',
    `Traffic manager: an https virtual server in front of two private web apps (round robin,`,
    `HTTP monitor, a response rule), defined by the configuration document ${traffic.document}`,
    `(edit it: the change is live within a second; status: GET ${edge.adminUrl}/api/v1/import/status):`,
    `  curl --cacert ${traffic.caFile} ${traffic.url}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `--check`: one request through each path, answers printed. */
async function checkDemo(o: DemoOptions, demo: Demo): Promise<void> {
  const body = await (await fetch(`http://${o.listen}/`)).text();
  process.stdout.write(`answer through the tunnel: ${body}`);
  const viaProxy = await checkDemoAccess(demo.edge, demo.access);
  process.stdout.write(`answer through the access proxy as ${DEMO_USER}: ${viaProxy}\n`);
  const ca = await readFile(demo.traffic.caFile, 'utf8');
  for (const answer of await checkDemoTraffic(demo.traffic, ca, 2)) {
    process.stdout.write(`answer from the https virtual server: ${answer}\n`);
  }
}

/** Rejects when `signal` aborts (never resolves). */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

interface SampleApp {
  readonly address: string;
}

async function startSampleApp(name: string, resources: DemoResources): Promise<SampleApp> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello from ${name} (you asked for ${req.method} ${req.url})\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  resources.add(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as net.AddressInfo;
  return { address: `127.0.0.1:${port}` };
}
