// Parses an HTTP/1.x request head (RFC 9112 §3, §5, §6) as Postern's own HTTP/1.1 server reads it:
// checked by character where it runs per request, strict where laxness enables request smuggling.

import { requestRefusal } from './request-refusal.js';

/** A parsed request line and header section, with what the server needs for framing. */
export interface RequestHead {
  readonly method: string;
  /** Request target as sent (origin-form, absolute-form, authority-form or `*`). */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: 0 | 1;
  /** Header fields as received, flat: `[name0, value0, …]`. */
  readonly rawHeaders: string[];
  readonly host: string | undefined;
  /** -1 when absent. */
  readonly contentLength: number;
  /** Transfer-Encoding ends with chunked. */
  readonly chunked: boolean;
  /** The client asked to close after this request (Connection: close, or HTTP/1.0 without keep-alive). */
  readonly close: boolean;
  /** The Upgrade field when Connection lists `upgrade`. */
  readonly upgrade: string | undefined;
  readonly expectContinue: boolean;
  readonly cookie: string | undefined;
}

/** Why a request head was refused: the status to answer with and a message for the client. */
export class RequestHeadError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'RequestHeadError';
    this.status = status;
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values: visible ASCII, obs-text, space and tab; no CR, LF or NUL (RFC 9110 §5.5).
// eslint-disable-next-line no-control-regex -- finding control characters is the point.
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^\d{1,15}$/;
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** What the header fields say, collected while they are read. */
interface Fields {
  raw: string[];
  host: string | undefined;
  hosts: number;
  contentLength: number;
  te: string | undefined;
  connection: string | undefined;
  upgrade: string | undefined;
  expect: string | undefined;
  cookie: string | undefined;
}

/**
 * Parses `text`, the request head without its final CRLFCRLF (latin1). Throws a
 * {@link RequestHeadError} (400, or 405 for TRACE, 501 for an unknown transfer coding, 505 for
 * an unsupported version) that says what is wrong; see request-refusal.ts for the Host, target
 * and method checks.
 */
export function parseRequestHead(text: string): RequestHead {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const line = text.slice(0, eol);
  const sp1 = line.indexOf(' ');
  const sp2 = line.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 === sp1) throw bad(`bad request line ${quote(line)}`);
  const method = line.slice(0, sp1);
  let target = line.slice(sp1 + 1, sp2);
  const minor = versionOf(line, sp2 + 1);
  if (!TOKEN.test(method)) throw bad(`bad method ${quote(method)}`);
  if (!validTarget(method, target)) throw bad(`bad request target ${quote(target)}`);
  const f = readFields(text, eol);
  if (f.hosts > 1) throw bad('more than one Host field');
  if (minor === 1 && f.hosts === 0) throw bad('no Host field (HTTP/1.1 requires one)');
  if (method !== 'CONNECT' && target.charCodeAt(0) !== 47 && target !== '*') {
    target = toOriginForm(target, f);
  }
  const refusal = requestRefusal(method, target, f.host);
  if (refusal) throw new RequestHeadError(refusal.status, refusal.message);
  let chunked = false;
  if (f.te !== undefined) {
    if (f.contentLength >= 0) throw bad('both Content-Length and Transfer-Encoding');
    if (minor === 0) throw bad('Transfer-Encoding in an HTTP/1.0 request');
    // Only chunked alone: the body is re-chunked on the way upstream, and another coding
    // (gzip, chunked) would have to travel with it; nginx refuses it too.
    if (!/^[ \t]*chunked[ \t]*$/i.test(f.te))
      throw new RequestHeadError(
        501,
        `transfer coding ${quote(f.te)} is not supported; send the body with Transfer-Encoding: chunked alone or with Content-Length`,
      );
    chunked = true;
  }
  const connection = f.connection?.toLowerCase() ?? '';
  const close =
    hasToken(connection, 'close') || (minor === 0 && !hasToken(connection, 'keep-alive'));
  const upgrade =
    f.upgrade !== undefined && hasToken(connection, 'upgrade') ? f.upgrade : undefined;
  return {
    method,
    target,
    minor,
    rawHeaders: f.raw,
    host: f.host,
    contentLength: f.contentLength,
    chunked,
    close,
    upgrade,
    // RFC 9110 §10.1.1: an HTTP/1.0 client is never sent 100 Continue.
    expectContinue:
      minor === 1 && f.expect !== undefined && f.expect.toLowerCase() === '100-continue',
    cookie: f.cookie,
  };
}

/** 0 or 1 for `HTTP/1.0` or `HTTP/1.1` at `at` (the end of the line). */
function versionOf(line: string, at: number): 0 | 1 {
  if (line.length - at !== 8 || !line.startsWith('HTTP/', at)) {
    throw bad(`bad request line ${quote(line)}`);
  }
  const major = line.charCodeAt(at + 5);
  const minor = line.charCodeAt(at + 7);
  if (line.charCodeAt(at + 6) !== 46 || major < 48 || major > 57 || minor < 48 || minor > 57)
    throw bad(`bad HTTP version ${quote(line.slice(at))}`);
  if (major !== 49 || minor > 49)
    throw new RequestHeadError(505, `HTTP version ${line.slice(at + 5)} is not supported`);
  return minor === 49 ? 1 : 0;
}

/**
 * Visible ASCII only; origin-form starts with `/`, absolute-form with `scheme://`, authority-form
 * only for CONNECT. A relative target (`admin`) would slip past path-prefix gates and routes.
 */
function validTarget(method: string, target: string): boolean {
  const n = target.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c <= 32 || c >= 127) return false;
  }
  return (
    target.charCodeAt(0) === 47 ||
    target === '*' ||
    method === 'CONNECT' ||
    ABSOLUTE_FORM.test(target)
  );
}

/**
 * Rewrites an absolute-form target (`http://host/path?q`) to origin-form, with its authority as
 * the Host (RFC 9112 §3.2.2: the target's authority wins over the Host field), so that routes,
 * gates and rules see the same path whichever form the client used.
 */
function toOriginForm(target: string, f: Fields): string {
  const start = target.indexOf('://') + 3;
  let end = start;
  while (end < target.length && !'/?#'.includes(target.charAt(end))) end++;
  const authority = target.slice(start, end);
  if (authority === '' || authority.includes('@'))
    throw bad(`bad authority in request target ${quote(target)}`);
  for (let i = 0; i < f.raw.length; i += 2)
    if ((f.raw[i] as string).toLowerCase() === 'host') f.raw[i + 1] = authority;
  if (f.host === undefined) f.raw.push('Host', authority);
  f.host = authority;
  const rest = target.slice(end);
  return rest === '' ? '/' : rest.charCodeAt(0) === 47 ? rest : `/${rest}`;
}

/** Whether the comma-separated, lower-case `list` has `token` as an element (not a substring). */
function hasToken(list: string, token: string): boolean {
  if (!list.includes(token)) return false;
  return list.split(',').some((element) => element.trim() === token);
}

function readFields(text: string, from: number): Fields {
  const f: Fields = {
    raw: [],
    host: undefined,
    hosts: 0,
    contentLength: -1,
    te: undefined,
    connection: undefined,
    upgrade: undefined,
    expect: undefined,
    cookie: undefined,
  };
  let start = from + 2;
  while (start < text.length) {
    const next = text.indexOf('\r\n', start);
    const end = next < 0 ? text.length : next;
    addField(f, text, start, end);
    start = end + 2;
  }
  return f;
}

function addField(f: Fields, text: string, start: number, end: number): void {
  const colon = text.indexOf(':', start);
  if (colon < 0 || colon >= end) throw bad(`bad header line ${quote(text.slice(start, end))}`);
  const name = text.slice(start, colon);
  // A name must be a token: this also refuses obs-fold (a line starting with whitespace).
  if (!TOKEN.test(name)) throw bad(`bad header name ${quote(name)}`);
  const value = trimOws(text, colon + 1, end);
  if (BAD_VALUE.test(value)) throw bad(`bad value in header ${name}`);
  f.raw.push(name, value);
  // Only names of these lengths can be fields that matter here: skip lower-casing the rest.
  switch (name.length) {
    case 4:
      if (name.toLowerCase() === 'host') {
        f.host = value;
        f.hosts++;
      }
      break;
    case 6:
      if (name.toLowerCase() === 'cookie')
        f.cookie = f.cookie === undefined ? value : `${f.cookie}; ${value}`;
      else if (name.toLowerCase() === 'expect') f.expect = value;
      break;
    case 7:
      if (name.toLowerCase() === 'upgrade') f.upgrade = value;
      break;
    case 10:
      if (name.toLowerCase() === 'connection')
        f.connection = f.connection === undefined ? value : `${f.connection}, ${value}`;
      break;
    case 14:
      if (name.toLowerCase() === 'content-length') setLength(f, value);
      break;
    case 17:
      if (name.toLowerCase() === 'transfer-encoding')
        f.te = f.te === undefined ? value : `${f.te}, ${value}`;
      break;
  }
}

function setLength(f: Fields, value: string): void {
  if (!DIGITS.test(value)) throw bad(`bad Content-Length ${quote(value)}`);
  const n = Number(value);
  if (f.contentLength >= 0 && f.contentLength !== n) throw bad('conflicting Content-Length fields');
  f.contentLength = n;
}

function trimOws(text: string, start: number, end: number): string {
  let s = start;
  let e = end;
  while (s < e && isOws(text.charCodeAt(s))) s++;
  while (e > s && isOws(text.charCodeAt(e - 1))) e--;
  return text.slice(s, e);
}

const isOws = (c: number): boolean => c === 32 || c === 9;

function bad(message: string): RequestHeadError {
  return new RequestHeadError(400, message);
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
