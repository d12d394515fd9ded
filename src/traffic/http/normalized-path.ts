// The path that routes and rules match on (S2 of the security review): a deny on `/admin` must
// also hold for `/%61dmin`, `//admin`, `/x/../admin` and the like, because the node decodes and
// resolves them to `/admin`. Modelled on nginx's `$uri` and HAProxy's `normalize-uri`.

/** A normalized path, or why the request target cannot be normalized (answered with 400). */
export type PathResult =
  { readonly ok: true; readonly path: string } | { readonly ok: false; readonly problem: string };

// A path that has none of these is already normal: the common case costs one regex test.
const NEEDS_WORK = /[%\\]|\/\/|\/\.(?:\.)?(?:\/|$)/;
const CONTROL = /[\0-\x20\x7f]/;
const HEX = /^[0-9A-Fa-f]{2}$/;
// Characters a path may carry unescaped (RFC 3986 pchar and "/"); the rest is re-encoded.
const PATH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

let lastTarget = '';
let lastResult: PathResult = { ok: true, path: '/' };

/**
 * Normalizes the path of an origin-form request target (the query is not part of it): decodes
 * every %XX (also %2F and %5C, as nodes do), treats a decoded `\` as `/`, merges repeated
 * slashes and resolves `.` and `..` (RFC 3986 §5.2.4). Refused: `#` or a raw `\` anywhere in
 * the target, a malformed %-escape, a control byte after decoding, `..` above the root.
 * Decoded bytes become one character each (latin1), so non-ASCII compares byte for byte.
 */
export function normalizePath(target: string): PathResult {
  // Routes, rules and the parser ask for the same target one after the other: remember the last.
  if (target === lastTarget) return lastResult;
  const result = compute(target);
  lastTarget = target;
  lastResult = result;
  return result;
}

/** The normalized path for matching; an invalid target (refused earlier) matches as sent. */
export function pathForMatching(target: string): string {
  const r = normalizePath(target);
  return r.ok ? r.path : target;
}

function compute(target: string): PathResult {
  if (target.includes('#')) return refuse('a "#" (fragment) in the request target');
  if (CONTROL.test(target)) return refuse('a space or control character in the request target');
  const q = target.indexOf('?');
  const raw = q < 0 ? target : target.slice(0, q);
  if (raw.includes('\\')) return refuse('a "\\" in the request target');
  if (raw.charCodeAt(0) !== 47) return refuse('the request target does not start with "/"');
  if (!NEEDS_WORK.test(raw)) return { ok: true, path: raw };
  const decoded = raw.includes('%') ? percentDecode(raw) : raw;
  if (typeof decoded !== 'string') return decoded;
  return resolveSegments(decoded.replaceAll('\\', '/'));
}

function percentDecode(raw: string): PathResult | string {
  let out = '';
  let from = 0;
  for (let i = raw.indexOf('%'); i >= 0; i = raw.indexOf('%', from)) {
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return refuse(`malformed %-escape ${JSON.stringify(raw.slice(i, i + 3))}`);
    const byte = parseInt(hex, 16);
    if (byte < 0x20 || byte === 0x7f)
      return refuse(`a control character (%${hex.toUpperCase()}) in the path`);
    out += raw.slice(from, i) + String.fromCharCode(byte);
    from = i + 3;
  }
  return out + raw.slice(from);
}

function resolveSegments(path: string): PathResult {
  const segments = path.split('/');
  const out: string[] = [];
  const n = segments.length;
  for (let i = 1; i < n; i++) {
    const s = segments[i] as string;
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (out.length === 0) return refuse('the path climbs above the root with ".."');
      out.pop();
      continue;
    }
    out.push(s);
  }
  const last = segments[n - 1];
  // `/a/`, `/a/.` and `/a/b/..` all name a directory: keep the trailing slash.
  const trailing = out.length > 0 && (last === '' || last === '.' || last === '..');
  return { ok: true, path: `/${out.join('/')}${trailing ? '/' : ''}` };
}

/** Encodes a normalized path for the wire: bytes outside RFC 3986 pchar become %XX. */
export function encodePath(path: string): string {
  let out = '';
  for (const ch of path) {
    if (PATH_SAFE.test(ch)) out += ch;
    else {
      // Decoded bytes are latin1 characters; anything wider (HTTP/2 text) goes as UTF-8.
      const code = ch.charCodeAt(0);
      const bytes = code > 0xff ? Buffer.from(ch, 'utf8') : [code];
      for (const b of bytes) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

const PATH_PARAMETERS = /;[^/]*/g;

/**
 * The path routes and rule conditions compare: the normalized path without path parameters
 * (`;jsessionid=…` in any segment), since Tomcat, Jetty and Spring drop them before mapping a
 * request, so `/admin;x/secret` reaches their `/admin/secret`. Rewrites keep the parameters.
 */
export function pathForRules(target: string): string {
  return withoutPathParameters(pathForMatching(target));
}

/** A configured path prefix as {@link pathForRules} compares it (normalized, no parameters). */
export function prefixForRules(prefix: string): string {
  return withoutPathParameters(normalizePrefix(prefix));
}

function withoutPathParameters(path: string): string {
  return path.includes(';') ? path.replace(PATH_PARAMETERS, '') : path;
}

/** The query of a request target, with its `?`, or ''. */
export function queryOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? '' : target.slice(q);
}

/**
 * Normalizes a configured path prefix like a request path: its own %-escapes are decoded and
 * non-ASCII text becomes its UTF-8 bytes, so `/caf%C3%A9` and `/café` are the same prefix.
 */
export function normalizePrefix(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8').toString('latin1');
  const r = compute(bytes);
  if (!r.ok) return bytes;
  // `/api/` keeps its slash (it matches as is); `/api` must not gain one.
  return r.path;
}

function refuse(problem: string): PathResult {
  return { ok: false, problem };
}
