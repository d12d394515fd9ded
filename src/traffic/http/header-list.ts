/**
 * Operations on a flat header list `[name0, value0, name1, value1, …]` (the shape of
 * `rawHeaders`), which keeps duplicates and the order the peer sent.
 */

import { setsPosternCookie } from './postern-cookies.js';

/** Removes every field named `lowerName` (compared case-insensitively). */
export function removeHeader(list: string[], lowerName: string): void {
  let w = 0;
  for (let r = 0; r < list.length; r += 2) {
    const name = list[r] as string;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) continue;
    list[w] = name;
    list[w + 1] = list[r + 1] as string;
    w += 2;
  }
  list.length = w;
}

/** Replaces every field named like `name` with one field. */
export function setHeader(list: string[], name: string, value: string): void {
  removeHeader(list, name.toLowerCase());
  list.push(name, value);
}

/** The first value of the field named `lowerName`, if any. */
export function getHeader(list: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i] as string;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return list[i + 1];
  }
  return undefined;
}

/**
 * True for hop-by-hop fields (RFC 9110 §7.6.1) and others a proxy must not forward either way;
 * `lower` is the lower-cased name. A switch rather than a Set: the names are fresh strings from
 * the parser, and a Set lookup would hash each one.
 */
export function isHopByHop(lower: string): boolean {
  switch (lower) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'te':
    case 'trailer':
    case 'upgrade':
    case 'http2-settings':
      return true;
    default:
      return false;
  }
}

/**
 * True when a field name of this length may be hop-by-hop (or one of the few other fields the
 * proxy handles itself), so that the common names skip lower-casing and a set lookup.
 */
export function mayBeSpecial(name: string): boolean {
  const n = name.length;
  // te, host, expect/cookie, trailer/upgrade, connection/keep-alive, http2-settings,
  // proxy-connection, transfer-encoding; and x-forwarded-* (13 and longer).
  return n === 2 || n === 4 || n === 6 || n === 7 || n === 10 || n >= 13;
}

/** Extra field names listed in a Connection header (besides the usual tokens), lower-cased. */
export function connectionTokens(value: string | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  // The usual values name no extra field: skip splitting them.
  const v = value.length <= 10 ? value.toLowerCase() : '';
  if (v === 'keep-alive' || v === 'close' || v === 'upgrade') return undefined;
  let extra: Set<string> | undefined;
  for (const part of value.split(',')) {
    const token = part.trim().toLowerCase();
    if (token === '' || token === 'close' || token === 'keep-alive' || token === 'upgrade')
      continue;
    (extra ??= new Set()).add(token);
  }
  return extra;
}

/**
 * Copies a response's fields without hop-by-hop ones (including those its Connection names)
 * and without Set-Cookie fields that set one of Postern's own cookies.
 */
export function forwardableResponseHeaders(raw: readonly string[]): string[] {
  let extra: Set<string> | undefined;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (mayBeSpecial(name)) {
      const lower = name.toLowerCase();
      if (isHopByHop(lower)) {
        if (lower === 'connection') extra = connectionTokens(raw[i + 1]);
        continue;
      }
      if (lower === 'set-cookie' && setsPosternCookie(raw[i + 1] as string)) continue;
    }
    out.push(name, raw[i + 1] as string);
  }
  if (extra) for (const name of extra) removeHeader(out, name);
  return out;
}
