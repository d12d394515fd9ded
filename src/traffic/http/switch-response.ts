import { forwardableResponseHeaders, removeHeader } from './header-list.js';
import type { ResponseHead } from './response-parser.js';

// Field values: tab, visible ASCII, space and obs-text, as Http1Response checks what it writes.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const SWITCH_PREFIX = 'sec-websocket-';

/**
 * The head of a node's 101 as it goes to the client (latin1 text, ending in an empty line). Its
 * fields are handled like a plain response's: hop-by-hop ones (and those its Connection names)
 * are dropped and `edit` (the response rules) runs on the rest. The fields that make the switch
 * never pass through `edit`: `Upgrade` with the node's value, `Connection: Upgrade` and the
 * node's `Sec-WebSocket-*` fields go out as they are, whatever the rules say. Throws when a
 * value cannot be sent (a control character).
 */
export function switchResponseHead(head: ResponseHead, edit: (headers: string[]) => void): string {
  const raw = head.rawHeaders;
  const upgrade: string[] = [];
  const switchFields: string[] = [];
  const others: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === 'upgrade') upgrade.push(value);
    else if (lower.startsWith(SWITCH_PREFIX)) switchFields.push(name, value);
    else others.push(name, value);
  }
  const rest = forwardableResponseHeaders(others);
  edit(rest);
  // A rule may name a Sec-WebSocket-* field; the node's own are the ones that count.
  withoutSwitchFields(rest);
  const fields = ['Upgrade', upgrade.join(', '), 'Connection', 'Upgrade', ...switchFields, ...rest];
  let text = `HTTP/1.1 101 ${head.statusText === '' ? 'Switching Protocols' : head.statusText}\r\n`;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    if (BAD_VALUE.test(value)) throw new Error(`invalid value in header ${name}`);
    text += `${name}: ${value}\r\n`;
  }
  return `${text}\r\n`;
}

function withoutSwitchFields(headers: string[]): void {
  const names = new Set<string>();
  for (let i = 0; i < headers.length; i += 2) {
    const lower = (headers[i] as string).toLowerCase();
    if (lower.startsWith(SWITCH_PREFIX)) names.add(lower);
  }
  for (const name of names) removeHeader(headers, name);
}
