import type { PosternError } from '../../core/index.js';
import type { ClientRequest, RequestFacts } from './client-request.js';
import { httpErrors } from './errors.js';
import { hostConflicts } from './forward-headers.js';
import type { HttpRuntime } from './http-runtime.js';
import { requestRefusal } from './request-refusal.js';

/** A request refused before routing: the status and the coded reason. */
export interface RequestCheckFailure {
  readonly status: number;
  readonly error: PosternError;
}

/**
 * The checks an HTTP/2 request needs before routing, which Postern's HTTP/1 parser makes for
 * HTTP/1 ones: the header section's size (node:http2 does not hold clients to the advertised
 * list size), Host and target, TRACE, and a host field that contradicts :authority.
 * Undefined when the request passes; HTTP/1 requests always do here.
 */
export function http2RequestFailure(
  rt: HttpRuntime,
  req: ClientRequest,
  facts: RequestFacts,
): RequestCheckFailure | undefined {
  if (facts.headerBytes > rt.maxHeaderBytes)
    return { status: 431, error: httpErrors.headersTooLarge(rt.maxHeaderBytes) };
  if (!facts.h2) return undefined;
  const refusal =
    requestRefusal(facts.method, facts.target, facts.rawHost) ??
    (hostConflicts(req.rawHeaders, facts.rawHost ?? '', rt.scheme)
      ? { status: 400, message: 'its host field differs from its :authority' }
      : undefined);
  return refusal && { status: refusal.status, error: httpErrors.badRequest(refusal.message) };
}
