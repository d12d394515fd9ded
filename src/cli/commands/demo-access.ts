import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCredential, openTcpTunnel, saveCredential } from '../../client/index.js';
import { CLI_AUDIENCE } from '../../control/index.js';
import type { Edge } from '../../edge/index.js';
import { splitHostPort } from '../../traffic/index.js';
import type { AdminClient } from '../admin-client.js';

/** The demo's signed-in user: there is no identity provider in the demo, so the edge vouches. */
export const DEMO_USER = 'demo@example.com';

/** What the demo set up for zero-trust TCP access. */
export interface DemoAccess {
  readonly configDir: string;
  readonly target: string;
}

/**
 * Publishes the sample app as an application with an allow rule for the demo user, and stores
 * a short-lived user token for them (as `postern login` would) so `postern tcp` works at once.
 */
export async function setUpDemoAccess(
  edge: Edge,
  admin: AdminClient,
  o: { readonly dir: string; readonly appAddress: string; readonly group: string },
): Promise<DemoAccess> {
  // The sample app listens on 127.0.0.1:<port>, which always splits.
  const { host, port } = splitHostPort(o.appAddress) ?? { host: '127.0.0.1', port: 0 };
  await admin.request('POST', '/applications', {
    name: 'sample-app',
    cidrs: [`${host}/32`],
    ports: [String(port)],
    connector_groups: [o.group],
  });
  await admin.request('POST', '/access-policies', {
    name: 'demo-user-may-use-sample-app',
    action: 'allow',
    conditions: { users: [DEMO_USER], applications: ['sample-app'] },
  });
  const configDir = join(o.dir, 'user-config');
  const { token, expiresAt } = await edge.tokenAuthority.issue(
    { subject: 'demo-user', email: DEMO_USER, groups: ['demo'], idp: 'demo' },
    { audience: CLI_AUDIENCE, ttlMs: 8 * 3600_000 },
  );
  const caPem = await readFile(join(o.dir, 'edge', 'ca.crt'), 'utf8');
  await saveCredential(
    edge.accessUrl ?? '',
    { token, expiresAt, caPem, user: DEMO_USER },
    { configDir },
  );
  return { configDir, target: o.appAddress };
}

/** Sends one request through the access proxy as the demo user and returns the answer's first line. */
export async function checkDemoAccess(edge: Edge, access: DemoAccess): Promise<string> {
  const credential = await loadCredential(edge.accessUrl ?? '', { configDir: access.configDir });
  const socket = await openTcpTunnel(edge.accessUrl ?? '', access.target, {
    token: credential?.token ?? '',
    caPem: credential?.caPem,
  });
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('end', () => resolve(text.split('\r\n\r\n')[1]?.trim() ?? text.trim()));
    socket.end(`GET /via-access-proxy HTTP/1.1\r\nHost: sample\r\nConnection: close\r\n\r\n`);
  });
}
