import tls from 'node:tls';
import net from 'node:net';
import { clientErrors } from './errors.js';

/** How {@link openTcpTunnel} reaches the edge. */
export interface TcpTunnelOptions {
  /** The user token `postern login` stored (audience `postern:cli`). */
  readonly token: string;
  /** PEM of the CA that signed the access listener's certificate; default the system CAs. */
  readonly caPem?: string | undefined;
  /** Bound on connecting, the TLS handshake and the edge's answer; default 20 s. */
  readonly timeoutMs?: number;
}

/** The status line, headers and body of the edge's answer to CONNECT. */
export interface ConnectAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Bytes after the head: the application's first bytes on 200, else (part of) the body. */
  readonly rest: Buffer;
}

/** Largest answer head accepted from the edge. */
const MAX_HEAD = 16 * 1024;
/** Largest refusal body read. */
const MAX_BODY = 8 * 1024;

/** Parses an HTTP/1.x response head ending in CRLF CRLF; undefined until it is complete. */
export function parseConnectAnswer(buffer: Buffer): ConnectAnswer | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!status) throw new Error(`not an HTTP answer: "${(lines[0] ?? '').slice(0, 80)}"`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(status[1]), headers, rest: buffer.subarray(end + 4) };
}

/**
 * Opens a TCP tunnel to `target` (`host:port`) through the edge's access proxy: TLS to the
 * edge, `CONNECT target` with the bearer token, and on 200 the socket carries the application's
 * bytes (anything the edge sent behind its answer is put back to be read first). A 407 rejects
 * with POSTERN_ERR_LOGIN_REQUIRED, other refusals with POSTERN_ERR_ACCESS_REFUSED naming the
 * edge's reason.
 */
export async function openTcpTunnel(
  edgeUrl: string,
  target: string,
  options: TcpTunnelOptions,
): Promise<tls.TLSSocket> {
  const url = new URL(edgeUrl);
  const port = Number(url.port || 443);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const socket = tls.connect({
    host,
    port,
    ...(net.isIP(host) === 0 ? { servername: host } : {}),
    ...(options.caPem === undefined ? {} : { ca: options.caPem }),
    ALPNProtocols: ['http/1.1'],
  });
  socket.setNoDelay(true);
  const timeoutMs = options.timeoutMs ?? 20_000;
  try {
    const answer = await exchange(socket, target, options.token, timeoutMs, edgeUrl);
    if (answer.status === 200) {
      if (answer.rest.length > 0) socket.unshift(answer.rest);
      return socket;
    }
    const body = (await readBody(socket, answer, timeoutMs)).trim();
    socket.destroy();
    if (answer.status === 407) {
      const code = answer.headers['x-postern-error'];
      const why = firstSentence(body) || 'no valid token';
      throw clientErrors.loginRequired(edgeUrl, code ? `${why} (${code})` : why);
    }
    throw clientErrors.accessRefused(target, answer.status, body);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function exchange(
  socket: tls.TLSSocket,
  target: string,
  token: string,
  timeoutMs: number,
  edgeUrl: string,
): Promise<ConnectAnswer> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('error', fail);
      socket.off('close', onClose);
    };
    function fail(err: Error): void {
      done();
      reject(clientErrors.edgeUnreachable(edgeUrl, err));
    }
    const onClose = (): void => fail(new Error('the connection closed before the edge answered'));
    // 'readable' rather than 'data': once it is removed the socket is neither flowing nor
    // paused, so the caller's own 'data' listener or pipe starts the flow with nothing lost.
    const onReadable = (): void => {
      for (
        let chunk = socket.read() as Buffer | null;
        chunk !== null;
        chunk = socket.read() as Buffer | null
      ) {
        buffer = Buffer.concat([buffer, chunk]);
        let answer: ConnectAnswer | undefined;
        try {
          answer = parseConnectAnswer(buffer);
        } catch (err) {
          fail(err as Error);
          return;
        }
        if (answer !== undefined) {
          done();
          resolve(answer);
          return;
        }
        if (buffer.length > MAX_HEAD) {
          fail(new Error(`the answer head exceeds ${MAX_HEAD} bytes`));
          return;
        }
      }
    };
    socket.on('readable', onReadable);
    socket.on('error', fail);
    socket.on('close', onClose);
    socket.once('secureConnect', () => {
      socket.write(
        `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n` +
          `Proxy-Authorization: Bearer ${token}\r\nUser-Agent: postern-tcp\r\n\r\n`,
      );
    });
  });
}

/** The refusal body: as long as Content-Length says (bounded), or until the edge closes. */
function readBody(
  socket: tls.TLSSocket,
  answer: ConnectAnswer,
  timeoutMs: number,
): Promise<string> {
  const wanted = Math.min(Number(answer.headers['content-length'] ?? MAX_BODY) || 0, MAX_BODY);
  let body = answer.rest;
  if (body.length >= wanted) return Promise.resolve(body.subarray(0, wanted).toString('utf8'));
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(body.subarray(0, wanted).toString('utf8'));
    };
    const timer = setTimeout(finish, Math.min(timeoutMs, 5000));
    const onData = (chunk: Buffer): void => {
      body = Buffer.concat([body, chunk]);
      if (body.length >= wanted) finish();
    };
    socket.on('data', onData);
    socket.once('end', finish);
    socket.once('close', finish);
    socket.on('error', () => undefined);
    socket.resume();
  });
}

/** The first sentence of the edge's explanation (the rest repeats the login hint). */
function firstSentence(text: string): string {
  const line = text.split('\n')[0]?.trim() ?? '';
  const stop = line.indexOf('. ');
  return (stop > 0 ? line.slice(0, stop) : line).replace(/ \(POSTERN_ERR_[A-Z_]+\)$/, '');
}
