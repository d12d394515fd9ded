import type { RequestFacts } from './client-request.js';
import { applyGateHeaders, type AccessGateAllow } from './access-gate.js';
import { upstreamRequestHeaders } from './forward-headers.js';
import type { HttpRuntime } from './http-runtime.js';
import type { CompiledRule, RuleReply } from './rules-engine.js';

const NO_RULES: readonly CompiledRule[] = [];

/** A client request as it goes to a node, or the reply a rule gave instead. */
export interface NodeRequest {
  /** The fields to send (flat). */
  readonly headers: string[];
  /** The target to send (rewritten by a rule, or as received). */
  readonly target: string;
  /** The rules that matched, whose response actions apply to the response. */
  readonly matched: readonly CompiledRule[];
  /** A rule answered (redirect or deny); its `headers` include Content-Type and Content-Length. */
  readonly reply: RuleReply | undefined;
}

/**
 * Prepares a request for a node: the client's fields with X-Forwarded-* (when the virtual
 * server sets them) and Postern's own fields and cookies removed, the access gate's edits
 * (`allow`), then the request rules. `authority` is an HTTP/2 request's :authority.
 */
export function nodeRequest(
  rt: HttpRuntime,
  facts: RequestFacts,
  o: { raw: readonly string[]; allow: AccessGateAllow | undefined; authority?: string | undefined },
): NodeRequest {
  const headers = upstreamRequestHeaders(
    o.raw,
    rt.forwarded
      ? {
          clientIp: facts.clientIp,
          proto: rt.scheme,
          host: facts.rawHost,
          append: rt.appendForwardedFor,
        }
      : undefined,
    o.authority,
  );
  applyGateHeaders(headers, o.allow);
  if (rt.rules.isEmpty)
    return { headers, target: facts.target, matched: NO_RULES, reply: undefined };
  const verdict = rt.rules.applyRequest({
    method: facts.method,
    host: facts.host,
    path: facts.target,
    headers,
    rawHost: facts.rawHost,
    scheme: rt.scheme,
    clientIp: facts.clientIp,
  });
  const reply = verdict.reply;
  return {
    headers,
    target: verdict.path,
    matched: verdict.matched,
    reply:
      reply === undefined
        ? undefined
        : {
            ...reply,
            headers: [
              ...reply.headers,
              'Content-Type',
              'text/plain; charset=utf-8',
              'Content-Length',
              String(Buffer.byteLength(reply.body)),
            ],
          },
  };
}
