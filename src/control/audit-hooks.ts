import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JsonValue } from '../store/index.js';
import { principalOf } from './admin-auth.js';
import type { AuditLog } from './audit.js';
import { checkIfMatch } from './etag.js';

const PREFIX = '/api/v1/';
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const REPLACES = new Set(['PUT', 'PATCH', 'DELETE']);

/** What a change is about: the object's kind and name, and the URL that reads it. */
interface Target {
  readonly kind: string;
  readonly name: string | undefined;
  readonly resourceUrl: string | undefined;
}

interface Pending {
  readonly target: Target;
  readonly before: JsonValue | undefined;
  release(): void;
}

/** `connector-groups` → `connector_group`, `access-policies` → `access_policy`. */
function singular(collection: string): string {
  const one = collection.endsWith('ies')
    ? `${collection.slice(0, -3)}y`
    : collection.replace(/s$/, '');
  return one.replaceAll('-', '_');
}

/** Works out the object a change request is about from its route (see the module comment). */
function targetOf(req: FastifyRequest, created?: { name?: unknown; id?: unknown }): Target {
  const path = req.url.split('?')[0] ?? req.url;
  const route = req.routeOptions.url ?? path;
  const segs = route.startsWith(PREFIX) ? route.slice(PREFIX.length).split('/') : [];
  const parts = path.startsWith(PREFIX) ? path.slice(PREFIX.length).split('/') : [];
  const [collection = '', second] = segs;
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  if (segs.length === 1 && req.method === 'POST') {
    // Records with an id (keys, tokens) are read by id; configuration objects by name.
    const name = created?.id ?? created?.name;
    return {
      kind: singular(collection),
      name: typeof name === 'string' ? name : undefined,
      resourceUrl:
        typeof name === 'string' ? `${PREFIX}${collection}/${encodeURIComponent(name)}` : undefined,
    };
  }
  const name = params.name ?? params.id;
  if (second !== undefined && !second.startsWith(':')) {
    // A static sub-resource such as /access-policies/order.
    return { kind: `${singular(collection)}_${second}`, name: second, resourceUrl: path };
  }
  // /collection/:id or /collection/:id/<action>: the object is the first two parts.
  const resource = parts.length >= 2 ? `${PREFIX}${parts.slice(0, 2).join('/')}` : undefined;
  return { kind: singular(collection), name, resourceUrl: resource };
}

/**
 * Wraps every change made through the admin API (any method but GET): changes run one at a
 * time on this edge, so an `If-Match` check and the change it guards cannot interleave with
 * another change; the object is read before (for `If-Match` and the audit record) and after
 * the change (by the same GET route a client would use, so the record shows what the API
 * shows, secrets redacted); and one audit record is written before the answer is sent.
 */
export function registerAuditHooks(
  api: FastifyInstance,
  options: { readonly audit: AuditLog; readonly requireIfMatch: boolean },
): void {
  const pending = new WeakMap<FastifyRequest, Pending>();
  let queue: Promise<void> = Promise.resolve();
  const lock = async (): Promise<() => void> => {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const previous = queue;
    queue = previous.then(() => next);
    await previous;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
    };
  };
  const read = async (req: FastifyRequest, url: string | undefined) => {
    if (url === undefined) return undefined;
    const res = await api.inject({
      method: 'GET',
      url,
      headers: { authorization: req.headers.authorization ?? '' },
    });
    return res.statusCode === 200 ? res.json<JsonValue>() : undefined;
  };

  api.addHook('preHandler', async (req) => {
    if (READS.has(req.method)) return;
    const release = await lock();
    try {
      const target = targetOf(req);
      const before = await read(req, target.resourceUrl);
      pending.set(req, { target, before, release });
      const etag = (before as { etag?: unknown } | undefined)?.etag;
      if (
        target.resourceUrl !== undefined &&
        (REPLACES.has(req.method) || req.headers['if-match'])
      ) {
        checkIfMatch(req, typeof etag === 'string' ? etag : undefined, {
          required: options.requireIfMatch && REPLACES.has(req.method),
        });
      }
    } catch (err) {
      release();
      pending.delete(req);
      throw err;
    }
  });

  api.addHook('onSend', async (req, reply, payload) => {
    if (READS.has(req.method)) return payload;
    const state = pending.get(req);
    try {
      await writeRecord(req, reply, payload, state, { audit: options.audit, read });
    } finally {
      state?.release();
    }
    return payload;
  });
  const releaseLate = (req: FastifyRequest): Promise<void> => {
    pending.get(req)?.release();
    return Promise.resolve();
  };
  api.addHook('onResponse', releaseLate);
  api.addHook('onRequestAbort', releaseLate);
}

async function writeRecord(
  req: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  state: Pending | undefined,
  o: {
    audit: AuditLog;
    read: (req: FastifyRequest, url: string | undefined) => Promise<JsonValue | undefined>;
  },
): Promise<void> {
  const principal = principalOf(req);
  // Requests without a valid token are not attributed to anyone; the access log has them.
  if (principal === undefined) return;
  const body = parseJson(payload);
  const ok = reply.statusCode < 400;
  const target =
    ok && req.method === 'POST' && !state?.target.name
      ? targetOf(req, body as { name?: unknown; id?: unknown })
      : (state?.target ?? targetOf(req));
  const after = ok ? await o.read(req, target.resourceUrl) : undefined;
  const errorCode = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  await o.audit.record({
    actor: principal.actor,
    method: req.method,
    path: req.url,
    kind: target.kind,
    ...(target.name === undefined ? {} : { name: target.name }),
    ...(state?.before === undefined ? {} : { before: state.before }),
    ...(after === undefined ? {} : { after }),
    outcome: ok ? 'success' : 'failure',
    status: reply.statusCode,
    ...(typeof errorCode === 'string' ? { errorCode } : {}),
    // The socket's peer (no proxy is trusted); stored and streamed as the record's `source`.
    ...(req.ip ? { source: req.ip } : {}),
  });
}

function parseJson(payload: unknown): unknown {
  if (typeof payload !== 'string' || payload === '') return undefined;
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return undefined;
  }
}
