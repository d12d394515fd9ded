/**
 * The protocols of a client's Upgrade value that may become a tunnel, or undefined when none is
 * left. `h2c` is dropped: HTTP/2 over the tunnel would carry any number of requests past the
 * edge's rules and header handling ("h2c smuggling"); HAProxy drops it too. A request that asks
 * only for h2c is served as a plain HTTP/1.1 request instead.
 */
export function tunnelProtocols(upgrade: string): string | undefined {
  const kept = upgrade
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '' && (p.split('/')[0] as string).trim().toLowerCase() !== 'h2c');
  return kept.length === 0 ? undefined : kept.join(', ');
}

/**
 * Why a 101 whose Upgrade field says `offered` (undefined without one) must not switch a request
 * that asked for `asked`, or undefined when it may: a 101 switches only to protocols the client
 * listed (RFC 9110 §7.8; names compared case-insensitively, versions ignored).
 */
export function switchRefusal(offered: string | undefined, asked: string): string | undefined {
  const got = offered === undefined ? [] : protocolNames(offered);
  if (got.length === 0) return '101 Switching Protocols without an Upgrade header field';
  const wanted = new Set(protocolNames(asked));
  if (got.every((p) => wanted.has(p))) return undefined;
  const text = JSON.stringify((offered as string).slice(0, 80));
  return `101 Switching Protocols to ${text}, which the client did not ask for`;
}

function protocolNames(list: string): string[] {
  return list
    .split(',')
    .map((p) => (p.split('/')[0] as string).trim().toLowerCase())
    .filter((p) => p !== '');
}
