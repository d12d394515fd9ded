/**
 * A small Kubernetes API server for tests, speaking the real wire format over HTTPS on
 * loopback: list (items + metadata.resourceVersion), watch (newline-delimited JSON events
 * from a resourceVersion, bookmarks, timeoutSeconds), 410 Gone for a compacted version (as an
 * ERROR event inside a 200 watch, as the API server does, or as an HTTP 410), bearer tokens,
 * and 403 for namespaces the token may not read.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSelfSignedCert } from './tls-cert.js';

type Obj = {
  metadata: { name: string; namespace: string; resourceVersion?: string } & Record<string, unknown>;
} & Record<string, unknown>;
interface Event {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: Obj;
}
interface Collection {
  readonly items: Map<string, Obj>;
  readonly events: Event[];
  readonly watchers: Set<{ from: number; res: ServerResponse }>;
}

/** A running fake API server. */
export interface FakeKubeApi {
  readonly url: string;
  /** PEM of the server certificate (self-signed, so also its CA). */
  readonly caPem: string;
  readonly token: string;
  /** Every request: method, path with query, and whether its token was right. */
  readonly requests: { path: string; authorized: boolean }[];
  /** Namespaces whose reads answer 403. */
  readonly forbidden: Set<string>;
  /** How a watch from a compacted version is refused; default `event`. */
  goneAs: 'event' | 'status';
  /** Creates or replaces an object under a collection path. */
  upsert(collection: string, object: Obj): void;
  remove(collection: string, name: string): void;
  /** Forgets the event history: watches from any earlier version get 410 Gone. */
  compact(): void;
  /** Ends every open watch (as the server's own timeout would). */
  endWatches(): void;
  close(): Promise<void>;
}

/** Starts the fake API on 127.0.0.1, port 0. */
export async function startFakeKubeApi(options: { token?: string } = {}): Promise<FakeKubeApi> {
  const { cert, key } = await createSelfSignedCert();
  const token = options.token ?? 'test-token-' + Math.random().toString(36).slice(2);
  const collections = new Map<string, Collection>();
  let rv = 100;
  let compactedAt = 0;
  const requests: FakeKubeApi['requests'] = [];
  const forbidden = new Set<string>();
  const state = { goneAs: 'event' as 'event' | 'status' };
  const collection = (path: string): Collection => {
    let c = collections.get(path);
    if (!c) collections.set(path, (c = { items: new Map(), events: [], watchers: new Set() }));
    return c;
  };
  const publish = (c: Collection, type: Event['type'], object: Obj): void => {
    rv += 1;
    const stamped = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
    if (type === 'DELETED') c.items.delete(object.metadata.name);
    else c.items.set(object.metadata.name, stamped);
    const event = { rv, type, object: stamped };
    c.events.push(event);
    for (const w of c.watchers) {
      if (!w.res.writableEnded) w.res.write(`${JSON.stringify({ type, object: stamped })}\n`);
    }
  };

  const server = https.createServer({ cert, key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://fake');
    const authorized = req.headers.authorization === `Bearer ${token}`;
    requests.push({ path: `${url.pathname}${url.search}`, authorized });
    if (!authorized) return status(res, 401, 'Unauthorized');
    const ns = /\/namespaces\/([^/]+)\//.exec(url.pathname)?.[1];
    if (ns !== undefined && forbidden.has(decodeURIComponent(ns))) {
      return status(res, 403, `services is forbidden in namespace "${ns}"`);
    }
    const c = collection(url.pathname);
    if (url.searchParams.get('watch') !== '1') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'List',
          metadata: { resourceVersion: String(rv) },
          items: [...c.items.values()],
        }),
      );
      return;
    }
    watch(req, res, c, url);
  });

  function watch(req: IncomingMessage, res: ServerResponse, c: Collection, url: URL): void {
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    if (from < compactedAt) {
      if (state.goneAs === 'status') return status(res, 410, 'too old resource version');
      res.writeHead(200, { 'content-type': 'application/json' });
      const gone = {
        kind: 'Status',
        status: 'Failure',
        reason: 'Expired',
        code: 410,
        message: 'too old resource version',
      };
      res.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    for (const e of c.events) {
      if (e.rv > from) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }
    // A bookmark: moves the client's version forward without a change.
    const bookmark = { metadata: { resourceVersion: String(rv) } };
    res.write(`${JSON.stringify({ type: 'BOOKMARK', object: bookmark })}\n`);
    const watcher = { from, res };
    c.watchers.add(watcher);
    const seconds = Number(url.searchParams.get('timeoutSeconds') ?? '60');
    const timer = setTimeout(() => res.end(), seconds * 1000);
    req.socket.once('close', () => (clearTimeout(timer), c.watchers.delete(watcher)));
    res.once('close', () => (clearTimeout(timer), c.watchers.delete(watcher)));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caPem: cert,
    token,
    requests,
    forbidden,
    get goneAs() {
      return state.goneAs;
    },
    set goneAs(v) {
      state.goneAs = v;
    },
    upsert(path, object) {
      const c = collection(path);
      publish(c, c.items.has(object.metadata.name) ? 'MODIFIED' : 'ADDED', object);
    },
    remove(path, name) {
      const c = collection(path);
      const existing = c.items.get(name);
      if (existing) publish(c, 'DELETED', existing);
    },
    compact() {
      compactedAt = rv + 1;
      for (const c of collections.values()) c.events.length = 0;
    },
    endWatches() {
      for (const c of collections.values()) {
        for (const w of c.watchers) w.res.end();
        c.watchers.clear();
      }
    },
    async close() {
      for (const c of collections.values()) for (const w of c.watchers) w.res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function status(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', status: 'Failure', code, message }));
}

/** A Service object as the API returns it. */
export function serviceObject(
  namespace: string,
  name: string,
  options: {
    expose?: string;
    clusterIP?: string;
    ports?: { name?: string; port: number; targetPort?: number | string }[];
  } = {},
): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      ...(options.expose === undefined
        ? {}
        : { annotations: { 'postern.dev/expose': options.expose } }),
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: options.clusterIP ?? '10.96.0.10',
      ports: (options.ports ?? [{ name: 'http', port: 80, targetPort: 8080 }]).map((p) => ({
        protocol: 'TCP',
        ...p,
      })),
    },
  };
}

/** An EndpointSlice of a Service with the given ready and not-ready addresses. */
export function endpointSliceObject(
  namespace: string,
  service: string,
  ready: string[],
  notReady: string[] = [],
  suffix = 'abcde',
): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-${suffix}`,
      namespace,
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: [
      ...ready.map((a) => ({ addresses: [a], conditions: { ready: true } })),
      ...notReady.map((a) => ({ addresses: [a], conditions: { ready: false } })),
    ],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

/** The collection paths discovery watches in one namespace. */
export function kubePaths(namespace: string): { services: string; slices: string } {
  return {
    services: `/api/v1/namespaces/${namespace}/services`,
    slices: `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
  };
}
