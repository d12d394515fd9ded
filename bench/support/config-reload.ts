// Time from a configuration document change to the new generation serving: an edge started
// with --config-dir serves an https virtual server whose document is rewritten to name the
// other of two pools; requests on fresh connections poll until the other backend answers.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';

/** The documents of the reload measurement, by relative path. */
export interface ReloadDocuments {
  /** Certificate (from files through valueFrom) and the two pools; written once. */
  base: string;
  /** The virtual server; rewritten for each change. */
  site: (pool: string) => string;
}

/** Where the documents put things: the listen port and a backend port per pool name. */
export interface ReloadLayout {
  port: number;
  pools: Record<string, number>;
}

/** Relative paths of the documents and of the certificate files they reference. */
export const reloadPaths = {
  base: '00-base.yaml',
  site: '10-site.yaml',
  cert: 'tls/bench/tls.crt',
  key: 'tls/bench/tls.key',
} as const;

/** The YAML documents for `layout`: base (certificate + pools) and site (virtual server). */
export function reloadDocuments(layout: ReloadLayout): ReloadDocuments {
  const pools = Object.entries(layout.pools).flatMap(([name, port]) => [
    `  - name: ${name}`,
    '    nodes:',
    `      - address: 127.0.0.1:${port}`,
  ]);
  const base = [
    'version: 1',
    'certificates:',
    '  - name: bench',
    `    cert: { valueFrom: { fileRef: { name: ${reloadPaths.cert} } } }`,
    `    key: { valueFrom: { fileRef: { name: ${reloadPaths.key} } } }`,
    'pools:',
    ...pools,
    '',
  ].join('\n');
  const site = (pool: string): string =>
    [
      'version: 1',
      'virtual_servers:',
      '  - name: site',
      '    protocol: https',
      `    listen: 127.0.0.1:${layout.port}`,
      `    pool: ${pool}`,
      '    tls: { certificates: [bench] }',
      '',
    ].join('\n');
  return { base, site };
}

/** Writes `text` to `dir`/`name` atomically (a hidden temporary file renamed over it), as an editor or kubectl would. */
export async function replaceFile(dir: string, name: string, text: string): Promise<void> {
  const temporary = join(dir, `.${name.replaceAll('/', '_')}.tmp`);
  await writeFile(temporary, text);
  await rename(temporary, join(dir, name));
}

/** Writes the certificate files and both documents with the virtual server on `pool`. */
export async function writeReloadTree(
  dir: string,
  o: { layout: ReloadLayout; pool: string; cert: string; key: string },
): Promise<void> {
  await mkdir(join(dir, 'tls/bench'), { recursive: true });
  await writeFile(join(dir, reloadPaths.cert), o.cert);
  await writeFile(join(dir, reloadPaths.key), o.key, { mode: 0o600 });
  const docs = reloadDocuments(o.layout);
  await writeFile(join(dir, reloadPaths.base), docs.base);
  await writeFile(join(dir, reloadPaths.site), docs.site(o.pool));
}

/**
 * GET `url` (http or https) on a fresh connection, trusting `ca` for https; resolves with the
 * body whatever the status, rejects on a connection error or after 2 s without an answer.
 */
export function getBody(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { ca, agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', reject);
  });
}

/** Options of {@link pollUntil}. */
export interface PollOptions {
  timeoutMs: number;
  /** Pause between attempts; default 0 (each attempt is a TLS handshake and a request anyway). */
  intervalMs?: number;
  signal: AbortSignal;
}

/**
 * Calls `probe` until it resolves to `expected`, counting a rejection as "not yet"; resolves
 * with the ms from `since` (a performance.now() value) to the matching answer. Throws at the
 * deadline with the last answer or error.
 */
export async function pollUntil(
  probe: () => Promise<string>,
  expected: string,
  o: PollOptions & { since: number },
): Promise<number> {
  const deadline = o.since + o.timeoutMs;
  let last = 'nothing';
  // Bounded in time by the deadline and in count, in case probes fail instantly.
  for (let attempt = 0; attempt < 100_000 && performance.now() < deadline; attempt++) {
    o.signal.throwIfAborted();
    try {
      const answer = await probe();
      if (answer === expected) return performance.now() - o.since;
      last = JSON.stringify(answer);
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if ((o.intervalMs ?? 0) > 0) await new Promise((r) => setTimeout(r, o.intervalMs));
  }
  throw new Error(`no ${JSON.stringify(expected)} within ${o.timeoutMs} ms; last answer: ${last}`);
}
