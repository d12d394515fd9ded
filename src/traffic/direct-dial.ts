import net from 'node:net';
import type { DialCode } from '../protocol/index.js';
import type { Dialer, DialRequest, DialResult } from './dialer.js';
import { deliverView, type ViewReader } from './io-shortcuts.js';
import { trafficErrors } from './errors.js';

/** The outcome of one TCP connect, with the reason as a dial code. */
export type ConnectOutcome =
  | { readonly code: 'ok'; readonly socket: net.Socket }
  | { readonly code: Exclude<DialCode, 'ok'>; readonly message: string };

/** Size of a read buffer: what one read can bring. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * One read buffer for every connection dialed with a view reader: reads are handed over
 * synchronously, one at a time, so they can share it (no 64 KiB allocation per read).
 */
const sharedReadBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

/**
 * A read at least this large means bulk transfer: the connection's next read goes into a
 * buffer of its own, which the consumer may keep (no copy), as Node's default reading does.
 */
const BULK_READ_BYTES = 16 * 1024;

/** Node's `onread` for `reader`: small reads share one buffer; bulk reads get their own. */
function viewReading(reader: ViewReader): net.OnReadOpts {
  let next = sharedReadBuffer;
  return {
    buffer: () => next,
    callback: (n: number, buf: Uint8Array): boolean => {
      deliverView(reader, (buf as Buffer).subarray(0, n), buf !== sharedReadBuffer);
      next = n >= BULK_READ_BYTES ? Buffer.allocUnsafe(READ_BUFFER_BYTES) : sharedReadBuffer;
      return true;
    },
  };
}

/**
 * Opens a TCP connection (half-open allowed, Nagle off), never rejecting: failures are codes.
 * With `reader`, reads go to it as views (of a shared buffer, or owned in bulk transfer)
 * instead of 'data' events.
 */
export function connectTcp(
  host: string,
  port: number,
  timeoutMs: number,
  reader?: ViewReader,
): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const onread = reader && viewReading(reader);
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true, onread });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ code: 'timeout', message: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve({ code: 'ok', socket });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ code: dialCodeOf(err), message: err.code ?? err.message });
    });
  });
}

/** Maps a socket or resolver error to the dial code a user sees. */
export function dialCodeOf(err: NodeJS.ErrnoException): Exclude<DialCode, 'ok'> {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return 'dns';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'unreachable';
    default:
      return 'error';
  }
}

/** Turns a failed dial's code into the coded error for it; `detail` names where it happened. */
export function dialError(code: Exclude<DialCode, 'ok'>, address: string, detail: string): Error {
  const suffix = detail ? ` (${detail})` : '';
  switch (code) {
    case 'refused':
      return trafficErrors.dialRefused(address, suffix);
    case 'timeout':
      return trafficErrors.dialTimeout(address, suffix);
    case 'dns':
      return trafficErrors.dialDns(address, suffix);
    case 'not_allowed':
      return trafficErrors.dialNotAllowed(address, suffix);
    case 'unreachable':
      return trafficErrors.dialUnreachable(address, suffix);
    case 'error':
      return trafficErrors.dialFailed(address, suffix);
  }
}

/** Splits `host:port` (IPv6 in brackets); undefined when malformed. Port 0 only with `allowZero` (listeners). */
export function splitHostPort(
  text: string,
  options: { allowZero?: boolean } = {},
): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !Number.isInteger(port) || port > 65535) return undefined;
  if (port < (options.allowZero ? 0 : 1)) return undefined;
  return { host, port };
}

/** Dials pools that have no `via`: straight from the edge's own network. */
export class DirectDialer implements Dialer {
  async dial(request: DialRequest): Promise<DialResult> {
    const target = splitHostPort(request.address);
    if (!target) throw trafficErrors.dialFailed(request.address, ' (not host:port)');
    const reader = request.viewReader;
    const outcome = await connectTcp(target.host, target.port, request.timeoutMs, reader);
    if (outcome.code !== 'ok')
      throw dialError(outcome.code, request.address, `from the edge: ${outcome.message}`);
    return reader ? { socket: outcome.socket, viewReads: true } : { socket: outcome.socket };
  }
}
