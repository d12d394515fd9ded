// The demo's traffic manager part: an https virtual server in front of two private web apps,
// defined by a configuration document that the edge watches, as a deployment would mount it.
import https from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCertificateAuthority, loadCertificateAuthority } from '../../pki/index.js';

/** Where the demo's configuration document and the https virtual server's CA are. */
export interface DemoTraffic {
  /** The directory the edge watches (`--config-dir`). */
  readonly configDir: string;
  /** The document that defines the virtual server, for the user to edit. */
  readonly document: string;
  /** The CA that signed the virtual server's certificate (for `curl --cacert`). */
  readonly caFile: string;
  /** The virtual server's URL. */
  readonly url: string;
}

/**
 * Writes the demo's configuration tree under `dir`: a document with the connector group, an https
 * virtual server on `listen` with a certificate read through `valueFrom` files, and a pool of
 * `apps` reached through the group's connectors, with an HTTP monitor and a response rule.
 */
export async function writeDemoTrafficConfig(
  dir: string,
  o: { readonly listen: string; readonly group: string; readonly apps: readonly string[] },
): Promise<DemoTraffic> {
  const configDir = join(dir, 'config');
  await mkdir(join(configDir, 'tls'), { recursive: true });
  const caMaterial = await createCertificateAuthority({ commonName: 'Postern demo CA' });
  const ca = await loadCertificateAuthority(caMaterial);
  const host = o.listen.slice(0, o.listen.lastIndexOf(':'));
  const server = await ca.issueServerCertificate({ ipAddresses: [host], dnsNames: ['localhost'] });
  await writeFile(join(configDir, 'tls', 'tls.crt'), server.certPem);
  await writeFile(join(configDir, 'tls', 'tls.key'), server.keyPem, { mode: 0o600 });
  const caFile = join(dir, 'demo-ca.crt');
  await writeFile(caFile, caMaterial.certPem);
  const document = join(configDir, '10-demo.yaml');
  await writeFile(document, demoDocument(o));
  return { configDir, document, caFile, url: `https://${o.listen}/` };
}

function demoDocument(o: { listen: string; group: string; apps: readonly string[] }): string {
  return `# The demo's traffic manager. The edge watches this directory: edit this file (say, the
# algorithm or a node's state: draining) and the change is live within a second; a mistake
# leaves the running configuration in place and GET /api/v1/import/status says why.
version: 1
connector_groups:
  - name: ${o.group}
certificates:
  - name: demo-web
    cert: { valueFrom: { fileRef: { name: tls/tls.crt } } }
    key: { valueFrom: { fileRef: { name: tls/tls.key } } }
monitors:
  - name: demo-web
    type: http
    path: /
    delay_ms: 2000
pools:
  - name: demo-web
    via: ${o.group}
    algorithm: round_robin
    monitors: [demo-web]
    nodes:
${o.apps.map((address) => `      - address: ${address}`).join('\n')}
rules:
  - name: demo-web
    response:
      - set_header: { name: X-Served-By, value: postern-demo }
virtual_servers:
  - name: demo-web
    protocol: https
    listen: ${o.listen}
    pool: demo-web
    rules: [demo-web]
    tls:
      certificates: [demo-web]
`;
}

/** GETs the virtual server `times` times on fresh connections; returns each answer's first line. */
export async function checkDemoTraffic(traffic: DemoTraffic, ca: string, times: number) {
  const answers: string[] = [];
  for (let i = 0; i < times; i++) answers.push(await getOnce(traffic.url, ca));
  return answers;
}

function getOnce(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const by = res.headers['x-served-by'];
        resolve(`${res.statusCode} ${body.trim()} [X-Served-By: ${String(by)}]`);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.on('error', reject);
  });
}
