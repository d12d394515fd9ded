import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { controlErrors } from './errors.js';

/**
 * Fields of a view that describe live state rather than the object (health, tunnels, last
 * use): they change on their own, so they are left out of the entity tag and an `If-Match`
 * does not fail because a pool's health or a connector's session count moved.
 */
const LIVE_FIELDS = new Set([
  'etag',
  'status',
  'active_sessions',
  'remote_address',
  'edges_connected',
  'last_seen_at',
  'last_used_at',
]);

/** The strong entity tag of an object view: a hash of its stable fields in key order. */
export function etagOf(view: object): string {
  const stable = Object.fromEntries(
    Object.entries(view)
      .filter(([k, v]) => !LIVE_FIELDS.has(k) && v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  const digest = createHash('sha256').update(canonical(stable)).digest('base64url');
  return `"${digest.slice(0, 27)}"`;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A view with its `etag` field. */
export function withEtag<T extends object>(view: T): T & { etag: string } {
  return { ...view, etag: etagOf(view) };
}

/** Sends one object with its `ETag` header and `etag` field. */
export function sendTagged<T extends object>(reply: FastifyReply, view: T): T & { etag: string } {
  const tagged = withEtag(view);
  void reply.header('etag', tagged.etag);
  return tagged;
}

/** Whether an `If-Match` header value matches the current tag (`*` matches any existing object). */
export function ifMatchAccepts(header: string, current: string | undefined): boolean {
  if (current === undefined) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === current);
}

/**
 * Applies optimistic concurrency to a change of an existing object: a stale `If-Match` is
 * POSTERN_ERR_PRECONDITION_FAILED (412); a missing one is POSTERN_ERR_PRECONDITION_REQUIRED
 * (428) when `required`.
 */
export function checkIfMatch(
  req: FastifyRequest,
  current: string | undefined,
  options: { readonly required: boolean },
): void {
  const header = req.headers['if-match'];
  if (header === undefined || header === '') {
    if (options.required) throw controlErrors.preconditionRequired(req.method, req.url);
    return;
  }
  if (!ifMatchAccepts(header, current)) {
    throw controlErrors.preconditionFailed(req.url, current);
  }
}
