import { parseTemplate, type TemplatePart, type TemplateVariable } from '../../config/index.js';
import { httpErrors } from './errors.js';

/** What `{variable}`s read of a request. */
export interface ValueRequest {
  /** Normalized host (lower case, no port). */
  readonly host: string;
  /** Request target as received. */
  readonly path: string;
  /** The Host field as sent (with port). */
  readonly rawHost?: string | undefined;
  readonly scheme?: 'http' | 'https' | undefined;
  readonly clientIp?: string | undefined;
}

/** A rendered value, or why the request cannot be answered with it (a 400). */
export type Rendered =
  { readonly ok: true; readonly value: string } | { readonly ok: false; readonly problem: string };

/** A compiled value: a constant (`fixed`) or a renderer. */
export interface CompiledValue {
  /** The value when it names no variable (the fast path: nothing to render). */
  readonly fixed: string | undefined;
  readonly render: (req: ValueRequest) => Rendered;
}

/** How a variable's text is made safe for where it goes. */
export const ValueUse = { Header: 0, Location: 1 } as const;
/** One of {@link ValueUse}'s values. */
export type ValueUse = (typeof ValueUse)[keyof typeof ValueUse];

// Values go on the wire as latin1: no control characters and nothing latin1 cannot carry.
const UNSAFE_HEADER_TEXT = /[^\t\x20-\x7e\x80-\xff]/;
// Characters a URI may hold as they are (RFC 3986 unreserved, reserved and `%`).
const URI_CHAR = /[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/;

/** Compiles a rule value once; throws POSTERN_ERR_RULE_INVALID for an unknown variable. */
export function compileValue(rule: string, text: string, use: ValueUse): CompiledValue {
  const parsed = parseTemplate(text);
  if (!parsed.ok) throw httpErrors.invalidRule(rule, parsed.problem);
  const parts = parsed.parts;
  const literal = parts.every((p) => typeof p === 'string') ? parts.join('') : undefined;
  if (literal !== undefined) {
    checkLiteral(rule, literal);
    const constant: Rendered = { ok: true, value: literal };
    return { fixed: literal, render: () => constant };
  }
  for (const p of parts) if (typeof p === 'string') checkLiteral(rule, p);
  return { fixed: undefined, render: (req) => renderParts(parts, req, use) };
}

function checkLiteral(rule: string, text: string): void {
  if (UNSAFE_HEADER_TEXT.test(text))
    throw httpErrors.invalidRule(rule, 'a value contains control characters or non-Latin-1 text');
}

function renderParts(parts: readonly TemplatePart[], req: ValueRequest, use: ValueUse): Rendered {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const value = variable(part.variable, req);
    if (value === undefined)
      return { ok: false, problem: `the request has no ${part.variable} for this rule's value` };
    if (use === ValueUse.Location) out += encodeForUri(value);
    else if (UNSAFE_HEADER_TEXT.test(value))
      return {
        ok: false,
        problem: `the request's ${part.variable} holds control characters or non-Latin-1 text`,
      };
    else out += value;
  }
  // A location that starts with a variable must not become `//other.host/…` (an open redirect).
  if (use === ValueUse.Location && typeof parts[0] !== 'string' && out.startsWith('//'))
    out = out.replace(/^\/+/, '/');
  return { ok: true, value: out };
}

/** A variable's text for a request, or undefined when the request has none. */
export function variable(name: TemplateVariable, req: ValueRequest): string | undefined {
  const target = req.path;
  const q = target.indexOf('?');
  switch (name) {
    case 'scheme':
      return req.scheme ?? 'http';
    case 'host':
      return req.host === '' ? undefined : req.host;
    case 'port':
      return portOf(req.rawHost) ?? (req.scheme === 'https' ? '443' : '80');
    case 'path':
    case 'request_uri': {
      // `*` (OPTIONS *) has no path to put in a value.
      if (!target.startsWith('/')) return undefined;
      return name === 'path' && q >= 0 ? target.slice(0, q) : target;
    }
    case 'query':
      return q < 0 ? '' : target.slice(q + 1);
    case 'client_ip':
      return req.clientIp === undefined || req.clientIp === '' ? undefined : req.clientIp;
  }
}

/** The port of a Host field (`h:8080`, `[::1]:8080`), or undefined when it has none. */
function portOf(rawHost: string | undefined): string | undefined {
  if (rawHost === undefined) return undefined;
  const close = rawHost.lastIndexOf(']');
  const colon = rawHost.lastIndexOf(':');
  if (colon < 0 || colon < close) return undefined;
  const port = rawHost.slice(colon + 1);
  return port === '' ? undefined : port;
}

/**
 * %-encodes what a URI cannot carry as is (controls, space, `"<>\^`{|}`, non-ASCII), so CR/LF
 * in client input reach the Location as `%0D%0A`; a `%` not starting an escape becomes `%25`.
 */
export function encodeForUri(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    const code = text.charCodeAt(i);
    if (ch === '%' && !/^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) out += '%25';
    else if (code < 0x80 && URI_CHAR.test(ch)) out += ch;
    // HTTP/1 targets arrive as latin1 (one char per byte); other text is encoded as UTF-8.
    else if (code <= 0xff) out += `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else {
      const next = text.charCodeAt(i + 1);
      const paired = code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
      const pair = paired ? text.slice(i, i + 2) : ch;
      out += utf8Escape(pair);
      i += pair.length - 1;
    }
  }
  return out;
}

function utf8Escape(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%EF%BF%BD'; // a lone surrogate: the replacement character, as TextEncoder does
  }
}
