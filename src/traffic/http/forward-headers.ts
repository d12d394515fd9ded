import { connectionTokens, isHopByHop, mayBeSpecial, removeHeader } from './header-list.js';
import { isPosternCookie, mayNamePosternCookie } from './postern-cookies.js';

/** What X-Forwarded-For/-Proto/-Host say about the client. */
export interface ForwardedInfo {
  readonly clientIp: string;
  readonly proto: 'http' | 'https';
  /** The Host (or :authority) the client asked for. */
  readonly host: string | undefined;
  /**
   * True when the edge sits behind a trusted proxy (`x_forwarded_for: append`): the client's
   * X-Forwarded-For is extended and its Forwarded and X-Real-IP pass. Default false: the client's
   * X-Forwarded-For is replaced by its address and Forwarded and X-Real-IP are removed, since a
   * client talking to the edge directly can write anything there.
   */
  readonly append?: boolean | undefined;
}

/**
 * The fields to send upstream: the client's, without hop-by-hop ones, pseudo-headers and
 * Expect (the proxy answered 100-continue itself), with X-Forwarded-* set when `forwarded`
 * is given (see {@link ForwardedInfo.append}; -Proto and -Host are always replaced).
 * Every X-Postern-* field is removed (Postern's namespace: an access gate adds its own after
 * this) and so are Postern's own cookies, whatever the virtual server's access settings.
 * For HTTP/2 clients (`authority` given), :authority always becomes the Host field (RFC 9113
 * §8.3.1) and split Cookie fields are joined into one (RFC 9113 §8.2.3).
 */
export function upstreamRequestHeaders(
  raw: readonly string[],
  forwarded: ForwardedInfo | undefined,
  authority?: string,
): string[] {
  const out: string[] = [];
  const append = forwarded?.append === true;
  let xff: string | undefined;
  let extra: Set<string> | undefined;
  let cookies: string[] | undefined;
  let cookieAt = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const value = raw[i + 1] as string;
    if (!mayMatter(name)) {
      out.push(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    if (isHopByHop(lower)) {
      if (lower === 'connection') extra = connectionTokens(value);
      continue;
    }
    // Also X_Postern_User and the like: CGI, WSGI and PHP read `_` and `-` alike.
    if (lower === 'expect' || POSTERN_FIELD.test(lower)) continue;
    if (lower === 'cookie') {
      if (cookies === undefined) {
        cookies = [value];
        cookieAt = out.length;
        out.push(authority === undefined ? name : 'Cookie', '');
      } else cookies.push(value);
      continue;
    }
    if (lower === 'host') {
      if (authority !== undefined) continue;
    } else if (forwarded && isClientForwarding(lower, append)) {
      if (append && lower === 'x-forwarded-for')
        xff = xff === undefined ? value : `${xff}, ${value}`;
      continue;
    }
    out.push(name, value);
  }
  if (cookies !== undefined) {
    const kept = withoutPosternCookies(cookies);
    if (kept === undefined) out.splice(cookieAt, 2);
    else out[cookieAt + 1] = kept;
  }
  if (extra) for (const name of extra) removeHeader(out, name);
  if (authority !== undefined) out.unshift('Host', authority);
  if (forwarded) {
    out.push(
      'X-Forwarded-For',
      xff === undefined ? forwarded.clientIp : `${xff}, ${forwarded.clientIp}`,
    );
    out.push('X-Forwarded-Proto', forwarded.proto);
    if (forwarded.host !== undefined) out.push('X-Forwarded-Host', forwarded.host);
  }
  return out;
}

/**
 * True for names the loop above must look at: hop-by-hop and the proxy's own fields, and those of
 * the lengths of Forwarded, X-Real-IP and X-Postern-*; common names skip lower-casing.
 */
/** Postern's identity fields, however a client spells their separators. */
const POSTERN_FIELD = /^x[-_]postern[-_]/;

function mayMatter(name: string): boolean {
  if (mayBeSpecial(name)) return true;
  const n = name.length;
  const first = name.charCodeAt(0) | 0x20;
  return (n === 9 && (first === 0x66 /* f */ || first === 0x78)) || (n > 10 && first === 0x78);
}

/** True for client fields about earlier hops that the edge replaces (or, with `append`, extends). */
function isClientForwarding(lower: string, append: boolean): boolean {
  switch (lower) {
    case 'x-forwarded-for':
    case 'x-forwarded-proto':
    case 'x-forwarded-host':
      return true;
    case 'forwarded':
    case 'x-real-ip':
      return !append;
    default:
      return false;
  }
}

/**
 * The cookies of one or more Cookie fields without Postern's own (`__Host-postern-*` of browser
 * sessions, logins and device approvals; `postern-admin-login`), as one field value; undefined
 * when none is left. A field without Postern's cookies passes byte for byte.
 */
export function withoutPosternCookies(values: readonly string[]): string | undefined {
  const only = values.length === 1 ? (values[0] as string) : undefined;
  if (only !== undefined && !mayNamePosternCookie(only)) return only;
  const kept: string[] = [];
  for (const value of values) {
    for (const part of value.split(';')) {
      const pair = part.trim();
      if (pair !== '' && !isPosternCookie(pair)) kept.push(pair);
    }
  }
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/**
 * True when an HTTP/2 request carries a Host field that names another authority than its
 * :authority (compared without case, a trailing dot or the scheme's default port): such a
 * request is malformed (RFC 9113 §8.3.1), and routes, rules and the gate would judge one name
 * while the node serves another.
 */
export function hostConflicts(
  raw: readonly string[],
  authority: string,
  scheme: 'http' | 'https',
): boolean {
  const port = scheme === 'https' ? '443' : '80';
  let wanted: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    wanted ??= canonicalAuthority(authority, port);
    if (canonicalAuthority(raw[i + 1] as string, port) !== wanted) return true;
  }
  return false;
}

/** An authority in lower case, without a trailing dot or the default port. */
function canonicalAuthority(value: string, defaultPort: string): string {
  const v = value.trim().toLowerCase();
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return v;
  const host = (m[1] as string).replace(/\.$/, '');
  const port = m[2] === undefined ? defaultPort : String(Number(m[2]));
  return port === defaultPort ? host : `${host}:${port}`;
}

/**
 * Serializes an HTTP/1.1 request head. `framing` is an extra field line such as
 * `Transfer-Encoding: chunked\r\n`; `fallbackHost` is used when the fields have no Host.
 */
export function requestHead(
  method: string,
  target: string,
  headers: readonly string[],
  framing: string,
  fallbackHost: string,
): string {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let hasHost = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!hasHost && name.length === 4 && name.toLowerCase() === 'host') hasHost = true;
    head += `${name}: ${headers[i + 1] as string}\r\n`;
  }
  if (!hasHost) head += `Host: ${fallbackHost}\r\n`;
  return `${head}${framing}\r\n`;
}

/** The client's address without the IPv4-mapped IPv6 prefix. */
export function clientIpOf(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
