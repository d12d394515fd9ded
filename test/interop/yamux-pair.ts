import { once } from 'node:events';
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import { MuxSession } from '../../src/tunnel/index.js';
import type { MuxStream, SessionOptions } from '../../src/tunnel/index.js';
import { readAll, readExactly } from '../support/stream-data.js';
import { YamuxPeerProcess } from './yamux-peer-process.js';

/** What Postern's side saw on an 'F' stream (the Go peer wrote data, then FIN). */
export interface FinStreamOutcome {
  bytes: number;
  sha256: string;
  /** Postern's writable side was still open when the peer's FIN ended its readable side. */
  writableAtEnd: boolean;
  /** Bytes Postern wrote after the peer's FIN. */
  wroteAfterFin: number;
}

/** Bytes Postern writes back on an 'F' stream after the peer's FIN. */
export const AFTER_FIN_BYTES = 64 * 1024;

/** A Postern MuxSession connected over TCP to a running Go yamux peer. */
export interface YamuxPair {
  session: MuxSession;
  peer: YamuxPeerProcess;
  socket: Socket;
  /** Every stream the Go peer opened, in order of arrival. */
  accepted: MuxStream[];
  /** Resolves when the Go peer's 'F' stream with this id has been handled by Postern. */
  finOutcome(streamId: number): Promise<FinStreamOutcome>;
  /** Resolves once `n` streams have been accepted in total (bounded by `timeoutMs`). */
  acceptedCount(n: number, timeoutMs?: number): Promise<void>;
  /** Destroys the session and stops the peer (idempotent). */
  dispose(): Promise<void>;
}

/** Options for {@link startPair}. */
export interface StartPairOptions {
  /** Postern's yamux role; the Go peer takes the other one. */
  posternRole: 'client' | 'server';
  /** Extra session options for Postern. */
  session?: Partial<Omit<SessionOptions, 'role'>>;
  /** Extra flags for the Go peer. */
  peerArgs?: readonly string[];
}

/** Starts the Go peer and a Postern session facing it; Postern handles the streams the peer opens. */
export async function startPair(binary: string, options: StartPairOptions): Promise<YamuxPair> {
  const { posternRole } = options;
  let peer: YamuxPeerProcess;
  let socket: Socket;
  if (posternRole === 'client') {
    peer = YamuxPeerProcess.start(binary, { role: 'server', args: options.peerArgs ?? [] });
    const listening = await peer.waitFor((e) => e.event === 'listening', 10_000);
    const [host, port] = String(listening['addr']).split(':');
    socket = connect({ host: host ?? '127.0.0.1', port: Number(port) });
    await once(socket, 'connect');
  } else {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    peer = YamuxPeerProcess.start(binary, {
      role: 'client',
      addr: `127.0.0.1:${address.port}`,
      args: options.peerArgs ?? [],
    });
    [socket] = (await once(server, 'connection')) as [Socket];
    server.close();
  }
  socket.setNoDelay(true);
  const session = new MuxSession(socket, { role: posternRole, ...options.session });
  // Tests look at what the session did; a stray session error must not crash the runner.
  session.on('error', () => {});
  let closeReason = 'still open';
  session.on('close', (err?: Error) => {
    closeReason = err === undefined ? 'closed cleanly' : `closed: ${err.message}`;
  });
  peer.context = () => `Postern session ${closeReason}`;
  return wirePair(session, peer, socket);
}

function wirePair(session: MuxSession, peer: YamuxPeerProcess, socket: Socket): YamuxPair {
  const accepted: MuxStream[] = [];
  const outcomes = new Map<number, Promise<FinStreamOutcome | undefined>>();
  const wakers = new Set<() => void>();
  session.on('stream', (stream: MuxStream) => {
    accepted.push(stream);
    for (const w of [...wakers]) w();
    const handled = serveStream(stream);
    outcomes.set(stream.id, handled);
    handled.catch(() => {}); // awaited by tests through finOutcome when they care
  });
  let disposed = false;
  return {
    session,
    peer,
    socket,
    accepted,
    finOutcome: async (id) => {
      const found = outcomes.get(id);
      if (found === undefined) throw new Error(`Postern never accepted stream ${id}`);
      const outcome = await found;
      if (outcome === undefined) throw new Error(`stream ${id} was not an 'F' stream`);
      return outcome;
    },
    acceptedCount: (n, timeoutMs = 30_000) =>
      waitUntil(() => accepted.length >= n, wakers, timeoutMs),
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      session.destroy();
      socket.destroy();
      await peer.stop();
    },
  };
}

function waitUntil(
  ready: () => boolean,
  wakers: Set<() => void>,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      wakers.delete(check);
      reject(new Error(`condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    function check(): void {
      if (!ready()) return;
      clearTimeout(timer);
      wakers.delete(check);
      resolve();
    }
    wakers.add(check);
    check();
  });
}

/**
 * Postern's side of a stream the Go peer opened: 'E' echo until FIN then FIN back,
 * 'F' read to FIN, then write AFTER_FIN_BYTES and FIN (resolves with what it saw).
 */
async function serveStream(stream: MuxStream): Promise<FinStreamOutcome | undefined> {
  stream.on('error', () => {});
  const mode = (await readExactly(stream, 1)).toString('latin1');
  if (mode === 'E') {
    stream.pipe(stream);
    return undefined;
  }
  if (mode !== 'F') {
    stream.destroy();
    throw new Error(`unknown mode byte ${JSON.stringify(mode)} on stream ${stream.id}`);
  }
  const got = await readAll(stream);
  const writableAtEnd = stream.writable && !stream.writableEnded;
  const after = Buffer.alloc(AFTER_FIN_BYTES, 0x5a);
  await new Promise<void>((resolve, reject) => {
    stream.write(after, (err) => (err ? reject(err) : resolve()));
  });
  stream.end();
  return { bytes: got.bytes, sha256: got.sha256, writableAtEnd, wroteAfterFin: after.length };
}
