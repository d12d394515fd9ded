import http from 'node:http';
import type net from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Connector } from '../../connector/index.js';
import { startEdge } from '../../edge/index.js';
import { openEmbeddedStore } from '../../store/index.js';
import { AdminClient } from '../admin-client.js';
import { createLogger, untilSignal } from '../logger.js';
import { packageVersion } from '../version.js';
import { DEMO_USER, checkDemoAccess, setUpDemoAccess } from './demo-access.js';
import { checkDemoTraffic, writeDemoTrafficConfig } from './demo-traffic.js';

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
      const dir = await mkdtemp(join(tmpdir(), 'postern-demo-'));
      const app = await startSampleApp('the private sample app');
      const webApps = [
        await startSampleApp('private web app a'),
        await startSampleApp('private web app b'),
      ];
      // The connector group comes from the document, as the traffic manager's objects do.
      const traffic = await writeDemoTrafficConfig(dir, {
        listen: o.httpsListen,
        group: 'demo-site',
        apps: webApps.map((w) => w.address),
      });
      const edge = await startEdge({
        dataDir: join(dir, 'edge'),
        openStore: () => openEmbeddedStore({ dataDir: join(dir, 'edge') }),
        tunnelListen: '127.0.0.1:0',
        adminListen: '127.0.0.1:0',
        access: { listen: o.accessListen },
        configDir: traffic.configDir,
        logger,
      });
      const admin = new AdminClient(edge.adminUrl, edge.adminToken);
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
        stateDir: join(dir, 'connector'),
        provisionKey: key.value,
        version: packageVersion(),
        logger,
      });
      await connector.start();
      await connector.waitConnected();
      const access = await setUpDemoAccess(edge, admin, {
        dir,
        appAddress: app.address,
        group: 'demo-site',
      });
      const url = `http://${o.listen}/`;
      const tcp = `POSTERN_CONFIG_DIR=${access.configDir} npx postern tcp ${access.target} --edge ${edge.accessUrl} --listen 127.0.0.1:7001`;
      const lines = [
        'Postern demo is up:',
        `  edge        tunnel ${edge.advertiseAddress}, admin ${edge.adminUrl} (token ${join(dir, 'edge', 'admin-token')})`,
        `  connector   ${connector.identity?.connectorId} in group demo-site, tunnel up`,
        `  private app ${app.address} (reached only through the connector's tunnel)`,
        `  console     ${edge.adminUrl}/console/ (sign in with the admin token above)`,
        `  try:        curl ${url}`,
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
      if (o.check) {
        const body = await (await fetch(url)).text();
        process.stdout.write(`answer through the tunnel: ${body}`);
        const viaProxy = await checkDemoAccess(edge, access);
        process.stdout.write(`answer through the access proxy as ${DEMO_USER}: ${viaProxy}\n`);
        const ca = await readFile(traffic.caFile, 'utf8');
        for (const answer of await checkDemoTraffic(traffic, ca, 2)) {
          process.stdout.write(`answer from the https virtual server: ${answer}\n`);
        }
      } else {
        process.stdout.write('Press Ctrl-C to stop.\n');
        await untilSignal();
      }
      await connector.stop({ drainTimeoutMs: 2000 });
      await edge.close();
      for (const a of [app, ...webApps]) a.server.close();
      await rm(dir, { recursive: true, force: true });
    });
}

interface DemoOptions {
  listen: string;
  accessListen: string;
  httpsListen: string;
  check?: boolean;
}

async function startSampleApp(name: string): Promise<{ server: http.Server; address: string }> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello from ${name} (you asked for ${req.method} ${req.url})\n`);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  return { server, address: `127.0.0.1:${port}` };
}
