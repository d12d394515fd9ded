import type { OutgoingHttpHeaders } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { Http1Response } from './http1-response.js';
import type { ResponseHead } from './response-parser.js';

/** A response to a client over HTTP/1.x (Postern's server) or HTTP/2 (Node's compatibility API). */
export type ClientResponse = Http1Response | Http2ServerResponse;

/**
 * Writes a response head with flat header fields `[name, value, …]`; `statusText` only reaches
 * HTTP/1 clients (HTTP/2 has none). Throws when a field cannot be sent.
 */
export function writeClientHead(
  res: ClientResponse,
  status: number,
  headers: string[],
  statusText: string | undefined,
): void {
  if (res instanceof Http1Response) res.writeHead(status, statusText, headers);
  // node:http2 takes a flat list too (its types say otherwise).
  else res.writeHead(status, headers as unknown as OutgoingHttpHeaders);
}

/**
 * Writes an upstream's head with its field lines as received, when the client is HTTP/1 and
 * the lines can go as they are (see ResponseHead.forwardable); false when the head must be
 * rebuilt from the field list instead.
 */
export function writeHeadAsReceived(res: ClientResponse, head: ResponseHead): boolean {
  if (head.forwardable === undefined || !(res instanceof Http1Response)) return false;
  res.writeHeadLines(head.status, head.statusText, head.forwardable, {
    hasLength: head.contentLength >= 0,
    hasDate: head.hasDate,
  });
  return true;
}
