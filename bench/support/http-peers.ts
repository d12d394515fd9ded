// The HTTP peers of the http-virtual-server suite, each its own process on loopback: nginx as
// the backend (fixed small answers), HAProxy in HTTP mode and nginx as a reverse proxy, both
// terminating TLS in front of that backend with upstream keep-alive.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SpawnedProcess } from '../../test/e2e/support/spawned-process.js';
import type { Children } from './children.js';
import { waitForListen } from './ports.js';

const run = promisify(execFile);
const startTimeoutMs = 10_000;
/** Requests per keep-alive connection before nginx closes it (its default of 1000 would churn). */
const keepaliveRequests = 10_000_000;

/** The body each backend port answers with: which backend served a request. */
export function backendBody(name: string): string {
  return `backend-${name}\n`;
}

/** nginx.conf lines every instance shares: foreground, one worker, files in `dir`, quiet. */
function nginxCommon(dir: string): string[] {
  return [
    'daemon off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    'error_log stderr warn;',
    'events { worker_connections 4096; }',
  ];
}

function nginxHttpCommon(dir: string): string[] {
  return [
    '  access_log off;',
    `  client_body_temp_path ${join(dir, 'body')};`,
    `  proxy_temp_path ${join(dir, 'proxy')};`,
    `  keepalive_requests ${keepaliveRequests};`,
  ];
}

/** Path of the backend's nginx stub_status page (connections accepted, requests served). */
export const backendStatusPath = '/nginx-status';

/**
 * The backend: one nginx server per named port, each answering 200 with {@link backendBody},
 * and its stub_status at {@link backendStatusPath}.
 */
export function backendNginxConfig(o: { dir: string; ports: Record<string, number> }): string {
  const servers = Object.entries(o.ports).map(
    ([name, port]) =>
      `  server { listen 127.0.0.1:${port} backlog=4096; location / { ` +
      `return 200 ${JSON.stringify(backendBody(name))}; } ` +
      `location = ${backendStatusPath} { stub_status; } }`,
  );
  return [...nginxCommon(o.dir), 'http {', ...nginxHttpCommon(o.dir), ...servers, '}', ''].join(
    '\n',
  );
}

/** Counters of nginx's stub_status page. */
export interface StubStatus {
  active: number;
  accepts: number;
  handled: number;
  requests: number;
}

/** Parses nginx's stub_status page; throws when the text is not one. */
export function parseStubStatus(text: string): StubStatus {
  const active = /Active connections:\s*(\d+)/.exec(text);
  const counters = /server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)/.exec(text);
  if (!active || !counters) throw new Error(`not an nginx stub_status page: ${text.slice(0, 120)}`);
  return {
    active: Number(active[1]),
    accepts: Number(counters[1]),
    handled: Number(counters[2]),
    requests: Number(counters[3]),
  };
}

/** nginx as TLS-terminating reverse proxy with upstream keep-alive and X-Forwarded-For. */
export function nginxProxyConfig(o: {
  dir: string;
  port: number;
  backend: number;
  cert: string;
  key: string;
}): string {
  return [
    ...nginxCommon(o.dir),
    'http {',
    ...nginxHttpCommon(o.dir),
    `  upstream backend { server 127.0.0.1:${o.backend}; keepalive 128; keepalive_requests ${keepaliveRequests}; }`,
    `  server {`,
    `    listen 127.0.0.1:${o.port} ssl backlog=4096;`,
    `    ssl_certificate ${o.cert};`,
    `    ssl_certificate_key ${o.key};`,
    '    location / {',
    '      proxy_pass http://backend;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** HAProxy in HTTP mode: one thread, TLS terminated with `pem` (cert + key), server reuse always. */
export function haproxyConfig(o: { port: number; backend: number; pem: string }): string {
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  option forwardfor',
    '  timeout connect 10s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend fe',
    `  bind 127.0.0.1:${o.port} ssl crt ${o.pem}`,
    '  default_backend be',
    'backend be',
    '  http-reuse always',
    `  server s1 127.0.0.1:${o.backend}`,
    '',
  ].join('\n');
}

/** Writes `config` into `dir` and starts nginx on it; resolves when `port` accepts. */
export async function startNginx(
  children: Children,
  o: { name: string; dir: string; config: string; port: number },
): Promise<SpawnedProcess> {
  await mkdir(o.dir, { recursive: true });
  const path = join(o.dir, 'nginx.conf');
  await writeFile(path, o.config);
  // -e: before reading the configuration nginx would open the packaged log path.
  const nginx = children.spawn(o.name, 'nginx', ['-e', 'stderr', '-p', o.dir, '-c', path]);
  await listening(nginx, o.port);
  return nginx;
}

/** Writes `config` into `dir` and starts HAProxy in the foreground; resolves when `port` accepts. */
export async function startHaproxy(
  children: Children,
  o: { dir: string; config: string; port: number },
): Promise<SpawnedProcess> {
  await mkdir(o.dir, { recursive: true });
  const path = join(o.dir, 'haproxy.cfg');
  await writeFile(path, o.config);
  const haproxy = children.spawn('haproxy', 'haproxy', ['-db', '-f', path]);
  await listening(haproxy, o.port);
  return haproxy;
}

/** Waits until `port` accepts; fails at once, with the process's output, when it exits first. */
async function listening(child: SpawnedProcess, port: number): Promise<void> {
  let waiting = true;
  const exited = child.exited.then(() => {
    if (waiting) throw new Error(`${child.name} exited at start\n${child.tail()}`);
  });
  try {
    await Promise.race([
      waitForListen(port, { timeoutMs: startTimeoutMs, what: child.name }),
      exited,
    ]);
  } finally {
    waiting = false;
  }
}

/** Version lines of nginx and HAProxy, for the notes; throws naming the setup script when missing. */
export async function peerVersions(): Promise<{ nginx: string; haproxy: string }> {
  try {
    const nginx = (await run('nginx', ['-v'], { timeout: 5_000 })).stderr.trim();
    const haproxy = (await run('haproxy', ['-v'], { timeout: 5_000 })).stdout.split('\n')[0];
    return {
      nginx: nginx.replace(/^nginx version: /, ''),
      haproxy: (haproxy ?? '').replace(/ - https?:\S+$/, ''),
    };
  } catch {
    throw new Error('missing nginx or haproxy: run scripts/setup-test-host.sh');
  }
}
